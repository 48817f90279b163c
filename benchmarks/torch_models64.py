"""PyTorch copies of wgan-keras's 64x64 RGB networks, and a plain PyTorch WGAN loop that trains them.

The layer stacks mirror `wgan_keras.models` at (64, 64, 3) layer for layer (`throughput64.py` checks that
the parameter counts match exactly, BatchNorm statistics included):

* `dcgan64(base_filters=32)`: DCGANGenerator (Dense without bias -> BN -> ReLU -> 3x [ConvT 4x4 s2 without
  bias -> BN -> ReLU] -> ConvT 4x4 s2 -> tanh) and DCGANCritic (4x [Conv 4x4 s2 -> LeakyReLU 0.2] -> Dense 1);
* `resnet64(base_filters=16)`: ResNetGenerator (Dense -> 4 up-blocks -> BN -> ReLU -> Conv 3x3 -> tanh; an
  up-block is Conv1x1(up(x)) + Conv3x3(ReLU(BN(Conv3x3(up(ReLU(BN(x))))))), nearest 2x upsampling) and
  ResNetCritic (Conv 3x3 -> 4 down-blocks -> ReLU -> global mean -> Dense 1; a down-block is
  pool(Conv1x1(x)) + pool(Conv3x3(ReLU(Conv3x3(ReLU(x))))), 2x mean-pool).

BatchNorm as Keras's (epsilon 1e-3, momentum 0.99 = PyTorch's 0.01). Keras's "same" padding for a 4x4
stride-2 (transposed) convolution on an even side is PyTorch's padding=1.

`train(...)` runs Algorithm 1 (RMSProp, weight clipping) or the gradient penalty (Adam, WGAN-GP) the way
`wgan_keras.algorithm.train_step` does: n_critic critic iterations, each on its own real batch with fakes made
under no_grad by the generator in training mode, then one generator iteration through the frozen critic.
"""
import time

import torch
from torch import nn

LATENT = 128


def _bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


def widths(base_filters, size=64):
    """wgan_keras.models.common.dcgan_filters at 64x64: 4x4 start, [8d, 4d, 2d, d]."""
    n_up = (size // 4).bit_length() - 1
    return [base_filters * 2 ** (n_up - 1 - i) for i in range(n_up)]


class LeakyMax(nn.Module):
    def forward(self, x):  # max(x, 0.2 x), as DCGANCritic's leaky_relu
        return torch.maximum(x, 0.2 * x)


def dcgan64(base_filters=32, channels=3):
    f = widths(base_filters)
    gen = [nn.Linear(LATENT, 16 * f[0], bias=False), nn.Unflatten(1, (f[0], 4, 4)), _bn(f[0]), nn.ReLU()]
    for cin, cout in zip(f, f[1:]):
        gen += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), _bn(cout), nn.ReLU()]
    gen += [nn.ConvTranspose2d(f[-1], channels, 4, 2, 1), nn.Tanh()]
    crit, cin = [], channels
    for cout in reversed(f):
        crit += [nn.Conv2d(cin, cout, 4, 2, 1), LeakyMax()]
        cin = cout
    crit += [nn.Flatten(), nn.Linear(16 * cin, 1)]
    return nn.Sequential(*crit), nn.Sequential(*gen)


def _up(x):
    return nn.functional.interpolate(x, scale_factor=2, mode="nearest")


class UpBlock(nn.Module):
    def __init__(self, cin, f):
        super().__init__()
        self.short, self.bn1, self.conv1 = nn.Conv2d(cin, f, 1), _bn(cin), nn.Conv2d(cin, f, 3, padding=1)
        self.bn2, self.conv2 = _bn(f), nn.Conv2d(f, f, 3, padding=1)

    def forward(self, x):
        h = self.conv1(_up(torch.relu(self.bn1(x))))
        return self.short(_up(x)) + self.conv2(torch.relu(self.bn2(h)))


class DownBlock(nn.Module):
    def __init__(self, cin, f):
        super().__init__()
        self.short, self.conv1, self.conv2 = nn.Conv2d(cin, f, 1), nn.Conv2d(cin, cin, 3, padding=1), \
            nn.Conv2d(cin, f, 3, padding=1)

    def forward(self, x):
        h = self.conv2(torch.relu(self.conv1(torch.relu(x))))
        return nn.functional.avg_pool2d(self.short(x), 2) + nn.functional.avg_pool2d(h, 2)


def resnet64(base_filters=16, channels=3):
    f = widths(base_filters)
    gen, cin = [nn.Linear(LATENT, 16 * f[0]), nn.Unflatten(1, (f[0], 4, 4))], f[0]
    for w in f:
        gen.append(UpBlock(cin, w))
        cin = w
    gen += [_bn(cin), nn.ReLU(), nn.Conv2d(cin, channels, 3, padding=1), nn.Tanh()]
    crit, cin = [nn.Conv2d(channels, f[-1], 3, padding=1)], f[-1]
    for w in f[::-1][1:] + f[:1]:  # 2d, 4d, 8d, 8d
        crit.append(DownBlock(cin, w))
        cin = w
    crit += [nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1)]
    return nn.Sequential(*crit), nn.Sequential(*gen)


def build(arch, base_filters):
    return (dcgan64 if arch == "dcgan" else resnet64)(base_filters)


def count(module):
    """(trainable, total) parameters; total adds BatchNorm's running mean and variance, as Keras counts them."""
    trainable = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for name, b in module.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable, trainable + stats


def optimizers(critic, gen, algo):
    """clip: RMSProp(5e-5) as the paper; gp: Adam(4e-4 / 2e-4, betas (0.5, 0.9)) as `--preset fast`."""
    if algo == "clip":
        return (torch.optim.RMSprop(critic.parameters(), lr=5e-5, alpha=0.99, eps=1e-8),
                torch.optim.RMSprop(gen.parameters(), lr=5e-5, alpha=0.99, eps=1e-8))
    return (torch.optim.Adam(critic.parameters(), lr=4e-4, betas=(0.5, 0.9)),
            torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.9)))


def train(arch, algo, base_filters, iters, warmup, batch=64, n_critic=5, bf16=False, clip=0.01, gp_weight=10.0,
          channels_last=False):
    """Times `iters` generator iterations after `warmup`; returns it/s by wall clock and per CPU second.
    `channels_last`: weights and images in PyTorch's NHWC memory format (a plain loop leaves NCHW)."""
    torch.manual_seed(0)
    critic, gen = build(arch, base_filters)
    data = torch.rand(batch * n_critic * 4, 3, 64, 64) * 2 - 1
    if channels_last:
        critic, gen = critic.to(memory_format=torch.channels_last), gen.to(memory_format=torch.channels_last)
        data = data.contiguous(memory_format=torch.channels_last)
    opt_c, opt_g = optimizers(critic, gen, algo)

    def critic_iteration(real):
        with torch.no_grad():
            fake = gen(torch.randn(batch, LATENT))
        loss = critic(fake).float().mean() - critic(real).float().mean()
        if algo == "gp":
            alpha = torch.rand(batch, 1, 1, 1)
            x_hat = (alpha * real + (1 - alpha) * fake.float()).requires_grad_(True)
            grad, = torch.autograd.grad(critic(x_hat).float().sum(), x_hat, create_graph=True)
            norm = torch.sqrt(grad.float().pow(2).flatten(1).sum(1) + 1e-12)
            loss = loss + gp_weight * ((norm - 1) ** 2).mean()
        opt_c.zero_grad()
        loss.backward()
        opt_c.step()
        if algo == "clip":
            with torch.no_grad():
                for p in critic.parameters():
                    p.clamp_(-clip, clip)

    def gen_iteration(i):
        for p in critic.parameters():
            p.requires_grad_(True)
        for k in range(n_critic):
            start = ((i * n_critic + k) * batch) % (len(data) - batch)
            critic_iteration(data[start:start + batch])
        for p in critic.parameters():
            p.requires_grad_(False)
        loss = -critic(gen(torch.randn(batch, LATENT))).float().mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(warmup):
            gen_iteration(i)
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(iters):
            gen_iteration(warmup + i)
        dt, cpu_dt = time.perf_counter() - start, time.process_time() - cpu_start
    return {"framework": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "params": {"critic": count(critic), "generator": count(gen)},
            "iters": iters, "gen_iters_per_s": iters / dt, "cpu_gen_iters_per_s": iters / cpu_dt}
