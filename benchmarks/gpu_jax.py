#!/usr/bin/env python3
"""WGAN on a GPU with the JAX backend, beside a plain PyTorch loop on the same card.

The GPU machine has JAX (CUDA) and PyTorch but no TensorFlow and no package registry, so Keras,
its pure-Python dependencies and wgan-keras travel as wheels, made here beforehand:

    python benchmarks/gpu_jax.py --prepare benchmarks/gpu_wheels   # here, with PyPI: ~3 MB of wheels
    python benchmarks/gpu_jax.py --wheels benchmarks/gpu_wheels --json $OUT/gpu.json   # there

On the GPU machine it installs the wheels of what is missing into a private folder (never into the
machine's site-packages), then runs, each in its own process with KERAS_BACKEND=jax:

* the bf16 and fp32 matmul peak of the card (JAX, 8192^2, best of 10);
* DCGAN-32 throughput as benchmarks/train_throughput.py runs it (m=64, n_critic=5, RMSProp, clipping),
  float32 and mixed_bfloat16: generator iterations/s, real images/s, GFLOP/s and MFU against the
  measured bf16 peak (float32 against the fp32 peak too);
* a short MNIST-shaped training (the bundled 4,000 digits, 28x28x1, DCGAN base 64, latent 100) in
  float32 and mixed_bfloat16, with its images/s and final W estimate;
* the PyTorch baseline loop (train_throughput's, on the card) in float32 and bf16 autocast.

`--smoke` shrinks every count so that the script itself can be tested on a CPU.
"""
import argparse
import glob
import importlib.util
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# Keras 3.15 and what it imports: (module, distribution). jax, numpy and ml_dtypes are on the machine.
NEEDED = [("keras", "keras"), ("namex", "namex"), ("rich", "rich"), ("markdown_it", "markdown_it_py"),
          ("mdurl", "mdurl"), ("pygments", "pygments"), ("optree", "optree"), ("h5py", "h5py"),
          ("absl", "absl_py"), ("packaging", "packaging")]


def prepare(folder):
    """Downloads the wheels of NEEDED (for this Python) and builds wgan-keras's own, without dependencies."""
    os.makedirs(folder, exist_ok=True)
    pins = {"keras": "keras==3.15.1"}
    for _, dist in NEEDED:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d",
                        folder, pins.get(dist, dist.replace("_", "-"))], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", folder,
                    ROOT], check=True)
    print("\n".join(sorted(os.listdir(folder))))


def install(folder, site):
    """Installs into `site` the wheels of whatever NEEDED module is missing here, and wgan-keras."""
    wheels = []
    for module, dist in NEEDED:
        if importlib.util.find_spec(module) is None:
            found = glob.glob(os.path.join(folder, f"{dist}-*.whl"))
            if not found:
                raise SystemExit(f"gpu_jax: {module} is missing and {folder} has no {dist} wheel")
            wheels.append(found[0])
    wheels += glob.glob(os.path.join(folder, "wgan_keras-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", site]
                   + wheels, check=True)
    return [os.path.basename(w) for w in wheels]


# --------------------------------------------------------------------------------------- workers

def peak_worker(smoke):
    import jax
    import jax.numpy as jnp
    n = 512 if smoke else 8192
    out = {}
    for dtype in ("bfloat16", "float32"):
        a = jnp.ones((n, n), dtype)
        mm = jax.jit(lambda a, b: a @ b)
        mm(a, a).block_until_ready()
        best = float("inf")
        for _ in range(10):
            start = time.perf_counter()
            mm(a, a).block_until_ready()
            best = min(best, time.perf_counter() - start)
        out[dtype] = 2 * n ** 3 / best / 1e9
    return {"peak_gflops": out, "device": str(jax.devices()[0].device_kind), "jax": jax.__version__}


def keras_worker(task, precision, iters, warmup, smoke=False):
    import keras
    import numpy as np
    from train_throughput import BATCH, CLIP, LATENT, LR, N_CRITIC, flops_per_generator_iteration

    import wgan_keras as wk
    keras.config.set_dtype_policy(precision)
    keras.utils.set_random_seed(0)
    if task == "throughput":  # DCGAN-32 of benchmarks/train_throughput.py, on random data
        size, latent, filters = (32, 32, 1), LATENT, 64
        data = np.random.default_rng(0).uniform(-1, 1, (BATCH * N_CRITIC * 20,) + size).astype("float32")
    else:  # the bundled 4,000 MNIST digits, read without TensorFlow
        size, latent, filters = (28, 28, 1), 100, 64
        digits = np.load(os.path.join(os.path.dirname(wk.__file__), "data", "mnist_4k.npz"))
        data = digits["images"].reshape((-1,) + size).astype("float32") / 127.5 - 1.0
    filters = 8 if smoke else filters  # --smoke tests the code path, not the card
    generator = wk.DCGANGenerator(latent_dim=latent, image_shape=size, base_filters=filters)
    critic = wk.DCGANCritic(size, base_filters=filters)
    gan = wk.WGAN(critic, generator, n_critic=N_CRITIC, clip_value=CLIP, seed=0)
    gan.compile(critic_optimizer=keras.optimizers.RMSprop(LR, rho=0.99, epsilon=1e-8),
                generator_optimizer=keras.optimizers.RMSprop(LR, rho=0.99, epsilon=1e-8))
    per_epoch = len(data) // (BATCH * N_CRITIC)
    gan.fit(data, batch_size=BATCH, epochs=1, steps_per_epoch=min(warmup, per_epoch), verbose=0)  # compile
    start = time.perf_counter()
    done, history = 0, {}
    while done < iters:
        steps = min(per_epoch, iters - done)
        history = gan.fit(data, batch_size=BATCH, epochs=1, steps_per_epoch=steps, verbose=0).history
        done += steps
    dt = time.perf_counter() - start
    flops = flops_per_generator_iteration(generator, critic)
    return {"task": task, "precision": precision, "iters": iters, "gen_iters_per_s": iters / dt,
            "real_images_per_s": iters * N_CRITIC * BATCH / dt, "gflops": flops / 1e9 * iters / dt,
            "w_distance": float(history["w_distance"][-1]), "jit_compile": bool(gan.jit_compile)}


def torch_worker(precision, iters, warmup):
    """train_throughput's PyTorch baseline loop (shared/baselines/torch_wgan_baseline.py) on the card."""
    import torch
    from torch import nn
    from train_throughput import BATCH, CLIP, LATENT, LR, N_CRITIC
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                           nn.LeakyReLU(0.2), nn.Conv2d(128, 256, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                           nn.Linear(4 * 4 * 256, 1)).to(device)
    gen = nn.Sequential(nn.Linear(LATENT, 4 * 4 * 256, bias=False), nn.Unflatten(1, (256, 4, 4)), nn.BatchNorm2d(256),
                        nn.ReLU(), nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh()).to(device)
    opt_c, opt_g = torch.optim.RMSprop(critic.parameters(), lr=LR), torch.optim.RMSprop(gen.parameters(), lr=LR)
    data = torch.rand(BATCH * N_CRITIC * 20, 1, 32, 32, device=device) * 2 - 1

    def iteration(i):
        for p in critic.parameters():
            p.requires_grad = True
        for k in range(N_CRITIC):
            start = ((i * N_CRITIC + k) * BATCH) % (len(data) - BATCH)
            with torch.no_grad():
                fake = gen(torch.randn(BATCH, LATENT, device=device))
            loss = critic(fake).mean() - critic(data[start:start + BATCH]).mean()
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
            for p in critic.parameters():
                p.data.clamp_(-CLIP, CLIP)
        for p in critic.parameters():
            p.requires_grad = False
        loss_g = -critic(gen(torch.randn(BATCH, LATENT, device=device))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    with torch.autocast(device, dtype=torch.bfloat16, enabled=precision != "float32"):
        for i in range(warmup):
            iteration(i)
        torch.cuda.synchronize() if device == "cuda" else None
        start = time.perf_counter()
        for i in range(iters):
            iteration(i)
        torch.cuda.synchronize() if device == "cuda" else None
    dt = time.perf_counter() - start
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    return {"task": "torch", "precision": precision, "iters": iters, "gen_iters_per_s": iters / dt,
            "real_images_per_s": iters * N_CRITIC * BATCH / dt, "device": name, "torch": torch.__version__}


# ------------------------------------------------------------------------------------------ main

def run(args, site, timeout):
    path = [site, HERE] + [x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x]
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join(path))
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, capture_output=True, text=True,
                          env=env, timeout=timeout)
    line = next((x for x in reversed(proc.stdout.splitlines()) if x.startswith("{")), None)
    if proc.returncode or line is None:
        return {"task": " ".join(args), "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(line)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--prepare", metavar="FOLDER", help="download and build the wheels into FOLDER (needs PyPI)")
    p.add_argument("--wheels", default=os.path.join(HERE, "gpu_wheels"))
    p.add_argument("--site", help="where to install the missing wheels (default: a folder beside --json)")
    p.add_argument("--iters", type=int, default=200, help="timed generator iterations per throughput run")
    p.add_argument("--train_iters", type=int, default=500, help="generator iterations of the MNIST training")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--smoke", action="store_true", help="tiny counts: test the script on a CPU")
    p.add_argument("--json", default="gpu_jax.json")
    p.add_argument("--timeout", type=float, default=1500)
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        kind, *rest = a.worker
        result = peak_worker(a.smoke) if kind == "peak" else torch_worker(rest[0], a.iters, a.warmup) \
            if kind == "torch" else keras_worker(kind, rest[0], a.iters, a.warmup, a.smoke)
        return print(json.dumps(result))
    if a.prepare:
        return prepare(a.prepare)
    if a.smoke:
        a.iters, a.train_iters, a.warmup = 2, 2, 1
    site = a.site or os.path.join(os.path.dirname(os.path.abspath(a.json)), "gpu_site")
    installed = install(a.wheels, site)
    common = ["--iters", str(a.iters), "--warmup", str(a.warmup)] + (["--smoke"] if a.smoke else [])
    peak = run(["--worker", "peak"] + common, site, a.timeout)
    runs = [run(["--worker", "throughput", prec] + common, site, a.timeout) for prec in ("float32", "mixed_bfloat16")]
    runs += [run(["--worker", "torch", prec] + common, site, a.timeout) for prec in ("float32", "bfloat16")]
    train = ["--iters", str(a.train_iters), "--warmup", str(a.warmup)] + (["--smoke"] if a.smoke else [])
    runs += [run(["--worker", "mnist", prec] + train, site, a.timeout) for prec in ("float32", "mixed_bfloat16")]
    torch_fp32 = next((r["gen_iters_per_s"] for r in runs if r.get("task") == "torch" and "error" not in r), None)
    bf16_peak = peak.get("peak_gflops", {}).get("bfloat16")
    for r in runs:
        if "gflops" in r and bf16_peak:
            r["mfu_vs_bf16_peak"] = r["gflops"] / bf16_peak
        if torch_fp32 and "gen_iters_per_s" in r:
            r["vs_torch_fp32"] = r["gen_iters_per_s"] / torch_fp32
    print(f"device: {peak.get('device', '?')}; matmul peak GFLOP/s: {peak.get('peak_gflops', peak.get('error'))}")
    for r in runs:
        if "error" in r:
            print(f"{r['task']:<40} ERROR {r['error']}")
            continue
        mfu = f"{100 * r['mfu_vs_bf16_peak']:.1f}%" if "mfu_vs_bf16_peak" in r else "-"
        print(f"{r['task']:<10} {r['precision']:<15} {r['gen_iters_per_s']:9.2f} gen it/s "
              f"{r['real_images_per_s']:10.0f} img/s  MFU(bf16 peak) {mfu:>6}  vs torch fp32 "
              f"{r.get('vs_torch_fp32', float('nan')):.2f}")
    with open(a.json, "w") as f:
        json.dump({"peak": peak, "runs": runs, "installed_from_wheels": installed,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S"), "smoke": a.smoke}, f, indent=1)


if __name__ == "__main__":
    main()
