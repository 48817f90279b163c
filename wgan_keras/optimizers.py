"""The published optimizer defaults, and loss scaling for float16."""
import keras


def default_optimizer(lipschitz):
    """RMSProp(5e-5) for clipping (the WGAN paper; rho and epsilon as in the authors'
    PyTorch code), Adam(1e-4, 0, 0.9) for "gp" and "sn" (the WGAN-GP paper)."""
    if lipschitz == "clip":
        return keras.optimizers.RMSprop(learning_rate=5e-5, rho=0.99, epsilon=1e-8)
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)


def with_loss_scaling(optimizer):
    """float16 gradients underflow without loss scaling; bfloat16 and float32 need none."""
    if keras.config.dtype_policy().compute_dtype == "float16" and \
            not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
