"""PyTorch: autograd, eager; noise from `wgan_keras.philox` (TensorFlow's draws)."""
import sys

import torch

from wgan_keras.backends.single import logs, noise, replicas, replicas_in_sync  # noqa: F401  (plumbing API)

_plumbing = sys.modules[__name__]


def run_step(gan, step, data):
    """`step(gan, data, plumbing)` (an `algorithm` step) as Keras's trainer calls train_step(data)."""
    return step(gan, data, _plumbing)


def _as_read(tensor):
    # SpectralNormalization assigns its kernel in place on each training call, after an earlier
    # call saved it for backward: keep each saved weight as it was read, as TensorFlow's tape does.
    return tensor.clone() if isinstance(tensor, torch.nn.Parameter) else tensor


def gradients(objective, variables):
    with torch.autograd.graph.saved_tensors_hooks(_as_read, lambda tensor: tensor):
        loss, aux = objective()
    # autograd.grad differentiates toward `variables` only, so in the generator step the
    # critic's weights get no gradient (the frozen critic) and no .grad is left to zero.
    grads = torch.autograd.grad(loss, [v.value for v in variables])
    return list(grads), torch.utils._pytree.tree_map(lambda t: t.detach(), aux)


def input_gradient(fn, x):
    x = x.detach().requires_grad_(True)
    scores = fn(x)
    # create_graph: the penalty on this gradient is itself differentiated toward the critic.
    return torch.autograd.grad(scores.sum(), x, create_graph=True)[0]


def apply(optimizer, grads, variables):
    with torch.no_grad():  # as Keras's own torch train_step: updates are not recorded
        optimizer.apply(grads, variables)


no_grad = torch.no_grad


def default_jit_compile():
    return "auto"  # Keras 3.15 does not torch.compile on "auto"


def compiled(gan):
    pass
