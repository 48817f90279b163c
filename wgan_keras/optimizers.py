"""The published optimizer recipes, and loss scaling for float16."""
import keras


def make_optimizer(lipschitz, learning_rate=None, beta_1=0.0, decay_steps=None):
    """RMSProp for clipping (the WGAN paper: 5e-5; rho and epsilon as in the authors' PyTorch code),
    Adam(1e-4, beta_1, 0.9) for "gp" and "sn" (the WGAN-GP paper, beta_1 = 0).

    With `decay_steps` the rate falls linearly to 0 over that many updates (WGAN-GP's recipe;
    the schedule reads optimizer.iterations, which checkpoints keep).
    """
    rate = learning_rate or (5e-5 if lipschitz == "clip" else 1e-4)
    if decay_steps:
        rate = keras.optimizers.schedules.PolynomialDecay(rate, max(1, int(decay_steps)), end_learning_rate=0.0)
    if lipschitz == "clip":
        return keras.optimizers.RMSprop(rate, rho=0.99, epsilon=1e-8)
    return keras.optimizers.Adam(rate, beta_1=beta_1, beta_2=0.9)


def default_optimizer(lipschitz):
    """The paper's optimizer for `lipschitz`, as `WGAN.compile` uses when given none."""
    return make_optimizer(lipschitz)


def with_loss_scaling(optimizer):
    """float16 gradients underflow without loss scaling; bfloat16 and float32 need none."""
    if keras.config.dtype_policy().compute_dtype == "float16" and \
            not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
