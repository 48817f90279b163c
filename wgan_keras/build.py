"""The run's `WGAN` from its config: built and compiled, or loaded from the checkpoint and checked
against what the config builds; and the run's length in fit steps."""
import math
import os

from wgan_keras.callbacks import counter
from wgan_keras.checkpoint import check_checkpoint, load_checkpoint
from wgan_keras.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, ResNetCritic, ResNetGenerator
from wgan_keras.optimizers import make_optimizer
from wgan_keras.wgan import WGAN

DEFAULT_EPOCHS = 20


def build_model(config, sample_shape, num_classes=None):
    """Critic and generator for one sample's shape (conditional on `num_classes` classes when given),
    wrapped in a compiled-ready WGAN."""
    sn = config.lipschitz == "sn"
    if config.resolved_architecture == "dcgan":
        critic = DCGANCritic(sample_shape, base_filters=config.base_filters, spectral_norm=sn,
                             num_classes=num_classes)
        generator = DCGANGenerator(config.latent_dim, sample_shape, base_filters=config.base_filters,
                                   upsample=config.upsample, num_classes=num_classes)
    elif config.resolved_architecture == "resnet":
        critic = ResNetCritic(sample_shape, base_filters=config.base_filters, spectral_norm=sn,
                              num_classes=num_classes)
        generator = ResNetGenerator(config.latent_dim, sample_shape, base_filters=config.base_filters,
                                    num_classes=num_classes)
    else:
        units = (config.mlp_units,) * 3
        critic = MLPCritic(sample_shape, units, spectral_norm=sn, num_classes=num_classes)
        generator = MLPGenerator(config.latent_dim, sample_shape, units,
                                 output_activation=None if config.is_toy else "tanh", num_classes=num_classes)
    return WGAN(critic, generator, n_critic=config.n_critic, clip_value=config.clip_value,
                critic_schedule=config.critic_schedule, lipschitz=config.lipschitz, gp_weight=config.gp_weight,
                seed=config.seed, ema_decay=config.ema_decay,
                augment=None if config.augment == "none" else config.augment)


def optimizer(config, steps, learning_rate=None):
    """The run's optimizer; with lr_decay="linear" its rate falls linearly to 0 over `steps` updates."""
    return make_optimizer(config.lipschitz, learning_rate or config.learning_rate, config.adam_beta1,
                          steps if config.lr_decay == "linear" else None)


def optimizers(config, spe):
    """{"critic_optimizer": ..., "generator_optimizer": ...} of a run of `spe` fit steps an epoch."""
    target = target_steps(config, spe)
    return {"critic_optimizer": optimizer(config, target * config.n_critic),
            "generator_optimizer": optimizer(config, config.generator_iters or target,
                                             config.generator_learning_rate)}


def target_steps(config, spe):
    """Fit steps (n_critic critic iterations each) the whole run asks for."""
    if config.generator_iters is None:
        return (config.epochs or DEFAULT_EPOCHS) * spe
    if config.critic_schedule == "paper":
        return config.generator_iters
    return config.generator_iters * math.ceil(100 / config.n_critic)  # bound; `fit.StopAt` ends it


def load_or_build(config, sample_shape, checkpoint, spe, num_classes=None):
    """(model, target): the checkpoint's model when there is one (refused unless it is the run the config
    describes), else a new compiled one; and the fit steps the whole run asks for (`target_steps`)."""
    if os.path.exists(checkpoint):
        model = load_checkpoint(checkpoint)
        check_checkpoint(model, build_model(config, sample_shape, num_classes), optimizers(config, spe),
                         sample_shape, checkpoint)
    else:
        model = build_model(config, tuple(sample_shape), num_classes)
        model.compile(**optimizers(config, spe))
    return model, target_steps(config, spe)


def finished(model, config, target):
    """Whether `model` has reached the run's end: --generator_iters, else `target` fit steps."""
    if config.generator_iters is not None:
        return counter(model, "generator_iterations") >= config.generator_iters
    return counter(model, "critic_iterations") // config.n_critic >= target
