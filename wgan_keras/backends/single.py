"""What the JAX and PyTorch plumbing share: one process, no tf.distribute replicas, and the
backend-neutral counter-based noise (`wgan_keras.noise.counter_noise`, TensorFlow's own stream)."""
from wgan_keras.noise import counter_noise


def noise(gan, shape, stream, counter):
    return counter_noise(shape, gan.seed, stream, counter)


def replicas():
    return 1


def replicas_in_sync(gan):
    return 1


def logs(metrics):
    return {m.name: m.result() for m in metrics}
