"""Wasserstein losses as small pure functions, usable outside `WGAN`.

Sign conventions (the classic source of WGAN bugs), with f the critic:

* the critic *maximises* E[f(x)] - E[f(g(z))], the Wasserstein estimate, so
  `wasserstein_critic_loss` is its negative, E[f(g(z))] - E[f(x)];
* the generator *minimises* -E[f(g(z))] (`wasserstein_generator_loss`).
"""
import keras
from keras import ops

from wgan_keras.choices import LIPSCHITZ  # noqa: F401  (re-exported: how the critic is kept 1-Lipschitz)
from wgan_keras.philox import stateless_uniform


def wasserstein_distance_estimate(real_scores, fake_scores):
    """E[f(real)] - E[f(fake)]: the critic's estimate of W1 (times its Lipschitz constant K)."""
    return ops.mean(real_scores) - ops.mean(fake_scores)


def wasserstein_critic_loss(real_scores, fake_scores):
    """The loss the critic minimises: E[f(fake)] - E[f(real)] = -W estimate."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """The loss the generator minimises: -E[f(g(z))]."""
    return -ops.mean(fake_scores)


def gradient_penalty(critic, real, fake, alpha=None, seed=None, epsilon=1e-12, training=True,
                     input_gradient=None):
    """Per-batch mean of (||grad_x f(x_hat)||_2 - 1)^2 (Gulrajani et al. 2017, without lambda).

    x_hat = alpha * real + (1 - alpha) * fake with alpha ~ U[0, 1] drawn once per
    example -- uniform, not normal: a normal alpha leaves the segment between
    the two samples. `epsilon` sits inside the square root so the gradient of the
    norm stays finite where the critic's input gradient is exactly zero.

    Args:
        critic: callable mapping a batch of samples to scores of shape (batch, 1).
        real: a batch of real samples, float (batch, ...).
        fake: a batch of generated samples, the shape of `real`.
        alpha: optional tensor of shape (batch,), for tests; drawn if None.
        seed: stateless seed (int32 pair) for alpha; ignored when alpha is given.
        input_gradient: `fn, x -> d sum(fn(x)) / dx`; None takes the Keras backend's
            (`wgan_keras.backends`).

    Returns:
        (penalty, gradient_norms): a scalar and the per-example norms.
    """
    if input_gradient is None:
        from wgan_keras.backends import plumbing  # the current backend's
        input_gradient = plumbing.input_gradient
    real = ops.convert_to_tensor(real)
    fake = ops.cast(fake, real.dtype)
    if alpha is None:
        alpha = uniform([ops.shape(real)[0]], seed, real.dtype)
    alpha = ops.reshape(ops.cast(alpha, real.dtype), [-1] + [1] * (len(real.shape) - 1))
    interpolated = alpha * real + (1.0 - alpha) * fake
    grads = ops.cast(input_gradient(lambda x: critic(x, training=training), interpolated), "float32")
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=list(range(1, len(real.shape)))) + epsilon)
    return ops.mean(ops.square(norms - 1.0)), norms


def uniform(shape, seed, dtype):
    """U[0, 1) for alpha: TensorFlow's stateless draw for a `seed` on every backend, else an unseeded one."""
    if keras.backend.backend() == "tensorflow":  # as before; batch sizes may be dynamic there
        import tensorflow as tf
        return tf.random.uniform(shape, dtype=dtype) if seed is None else \
            tf.random.stateless_uniform(shape, seed=seed, dtype=dtype)
    if seed is None:
        return keras.random.uniform(shape, dtype=dtype)
    return ops.cast(stateless_uniform(shape, seed), dtype)
