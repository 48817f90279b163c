"""The critic and generator a `WGAN` is built from, checked as a pair at construction: the size of z, the
sample shape one makes and the other scores (one score each), and the layers lipschitz="sn" needs. The
class count both must agree on is `classes.find_num_classes`."""
import keras
import numpy as np

from wgan_edge.cli import first_line
from wgan_keras import algorithm
from wgan_keras.augment import check_policy


def find_latent_dim(generator, latent_dim):
    """`latent_dim`, else the generator's attribute, else its first input's last dimension."""
    if latent_dim is None:
        latent_dim = getattr(generator, "latent_dim", None)
    if latent_dim is None and getattr(generator, "inputs", None):
        latent_dim = generator.inputs[0].shape[-1]
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer (pass latent_dim= or give the generator a "
                         f"latent_dim attribute), got latent_dim={latent_dim!r}")
    return int(latent_dim)


def sample_shape(gan):
    """Runs one z (and label 0) through both networks of `gan`: builds them, proves the shapes fit and
    returns the shape of one sample."""
    labels = None if gan.num_classes is None else keras.ops.zeros((1,), "int32")
    try:
        fake = algorithm.generated(gan, gan.generator, keras.ops.zeros((1, gan.latent_dim)), labels, training=False)
    except Exception as e:
        raise ValueError(f"generator does not accept z of shape (batch, {gan.latent_dim})"
                         f"{'' if labels is None else ' and labels (batch,)'}: {first_line(e)}") from None
    try:
        scores = gan.critic(fake if labels is None else [fake, labels], training=False)
    except Exception as e:
        raise ValueError(f"critic does not accept the generator's samples of shape {tuple(fake.shape[1:])}: "
                         f"{first_line(e)}") from None
    if tuple(scores.shape) != (1, 1):
        raise ValueError(f"critic must return one score per sample, shape (batch, 1), got {tuple(scores.shape)}")
    return tuple(int(d) for d in fake.shape[1:])


def check_spectral(critic, lipschitz):
    """lipschitz="sn" normalizes nothing unless the critic has SpectralNormalization layers."""
    if lipschitz == "sn" and not any(isinstance(layer, keras.layers.SpectralNormalization)
                                     for layer in critic._flatten_layers()):
        raise ValueError("lipschitz='sn' needs a critic with keras.layers.SpectralNormalization layers "
                         "(e.g. DCGANCritic(spectral_norm=True)), got critic without any")


def check_augment(augment, sample_shape):
    """`augment` as `augment.check_policy` gives it; a policy transforms images, not other samples."""
    policy = check_policy(augment)
    if policy is not None and len(sample_shape) != 3:
        raise ValueError(f"augment={augment!r} transforms images (height, width, channels); the generator makes "
                         f"samples of shape {sample_shape}: pass augment=None")
    return policy
