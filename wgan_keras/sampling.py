"""Samples of any generator with the z that `wgan-sample` and the exported web page draw for a seed."""
from wgan_edge.contract import latent_vectors
from wgan_keras import classes
from wgan_keras.images import generate_images


def latent_dim_of(generator):
    """The size of z: `generator.latent_dim`, else the last axis of its (first) input."""
    value = getattr(generator, "latent_dim", None)
    if value is None:
        inputs = generator.inputs if isinstance(generator.inputs, list) else [generator.inputs]
        value = inputs[0].shape[-1]
    return int(value)


def sample(generator, n, seed=0, labels=None, batch_size=256):
    """`n` samples of `generator` for `seed`, as float32 numpy (n, *image_shape) in [-1, 1].

    z is `wgan_edge.contract.latent_vectors(n, latent_dim, seed)`: the portable Philox rule, so the
    same seed gives the same z here, in `WGAN.generate(n, seed=seed)`, in `wgan-sample --seed` and in the
    web page (each image then differs only by what the export changed).

    Args:
        generator: a Keras generator (`DCGANGenerator`, `MLPGenerator`, `wk.pretrained(...)`, a WGAN's
            `sampling_generator`).
        n: number of samples (int >= 1).
        seed: int in [0, 2^64).
        labels: a conditional generator's classes: one int for all n, n ints, or None (the classes in
            turn: 0, 1, ..., num_classes - 1, 0, ...). Must be None for an unconditional generator.
        batch_size: latents per forward pass.

    Raises:
        ValueError: a bad `n`, `seed` or `labels`.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got n={n!r}")
    labels = classes.sample_labels(getattr(generator, "num_classes", None), labels, n)
    z = latent_vectors(n, latent_dim_of(generator), seed)
    return generate_images(generator, z, batch_size, labels)


__all__ = ["sample"]
