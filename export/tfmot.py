"""The tfmot route (`Mode.route == "tfmot"`, the "qat" mode): quantization-aware fine-tuning and/or
magnitude pruning, then full-integer conversion.

tfmot 0.8 accepts only tf_keras (Keras 2) models, so the Keras 3 generator is rebuilt as a tf_keras twin with
BatchNorm folded (`wgan_export.fold.folded_layers`: tfmot's own BN folding does not cover Conv2DTranspose, and
TFLite folds it anyway), its weights copied, then fine-tuned by distillation: MSE towards the float
generator's images on fresh z ~ N(0, 1).
"""
import tensorflow as tf

from wgan_edge.contract import INPUT, latent_vectors
from wgan_export import flatbuffer
from wgan_export.endpoint import on_pixel_grid, representative_dataset, to_pixels
from wgan_export.fold import folded_layers
from wgan_export.load import ExportError, describe
from wgan_keras.images import generate_images


def tf_keras_twin(generator):
    """A tf_keras functional model computing the generator's inference output (BN folded)."""
    import tf_keras
    latent_dim = describe(generator)["latent_dim"]
    z = tf_keras.Input((latent_dim,), name="z")
    x, weighted = z, []
    for kind, cfg, weights in folded_layers(generator):
        layer = {"dense": tf_keras.layers.Dense, "conv_t": tf_keras.layers.Conv2DTranspose,
                 "conv": tf_keras.layers.Conv2D, "resize": tf_keras.layers.Resizing,
                 "reshape": tf_keras.layers.Reshape, "relu": tf_keras.layers.ReLU,
                 "activation": tf_keras.layers.Activation}[kind](**cfg)
        x = layer(x)
        if weights:
            weighted.append((layer, weights))
    model = tf_keras.Model(z, x)
    for layer, weights in weighted:
        layer.set_weights(weights)
    return model


def _distill(model, teacher, steps, batch, learning_rate, seed, callbacks=()):
    import tf_keras
    latent_dim = model.input_shape[-1]
    z = latent_vectors(steps * batch, latent_dim, seed)
    y = teacher(z)
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate), loss="mse")
    model.fit(z, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=list(callbacks))
    return model


def optimize(generator, steps=100, sparsity=0.0, quantize_aware=True, learning_rate=1e-5, batch=64, seed=7):
    """tf_keras twin -> (pruned to `sparsity`, then stripped) -> (QAT-wrapped) after distillation."""
    import tensorflow_model_optimization as tfmot
    teacher = lambda z: generate_images(generator, z)  # noqa: E731
    model = tf_keras_twin(generator)
    if sparsity > 0:
        schedule = tfmot.sparsity.keras.ConstantSparsity(float(sparsity), begin_step=0, frequency=10)
        pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
        _distill(pruned, teacher, max(steps, 10), batch, learning_rate * 10, seed,
                 [tfmot.sparsity.keras.UpdatePruningStep()])
        model = tfmot.sparsity.keras.strip_pruning(pruned)
    # tfmot's prune-preserving QAT scheme rejects Conv2DTranspose, and plain QAT would refill the
    # pruned zeros: a pruned model is quantized post-training (int8) instead.
    if quantize_aware and steps > 0 and not sparsity > 0:
        model = tfmot.quantization.keras.quantize_model(model)
        _distill(model, teacher, steps, batch, learning_rate, seed + 1)
    return model


def convert_qat(generator, batch_size=1, int8_io=False, steps=100, sparsity=0.0, quantize_aware=True,
                learning_rate=1e-5, seed=7):
    """QAT (and/or pruning) then full-integer conversion -> TFLite bytes."""
    model = optimize(generator, steps, sparsity, quantize_aware, learning_rate, seed=seed)
    latent_dim = describe(generator)["latent_dim"]

    import tf_keras
    z = tf_keras.Input((latent_dim,), batch_size=batch_size, name="z")
    images = tf_keras.layers.Lambda(on_pixel_grid)(model(z))  # pixels rebuilt exactly by the caller
    outer = tf_keras.Model(z, {"images": images, "pixels": tf_keras.layers.Lambda(to_pixels)(images)})
    # tf.saved_model.save rejects tfmot's quantized Conv2DTranspose (captured graph tensors), so
    # this tf_keras model goes through from_keras_model, which writes no SignatureDef: added below.
    converter = tf.lite.TFLiteConverter.from_keras_model(outer)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    # No EXPERIMENTAL_SPARSITY: its sparse tensors fail XNNPACK; pruning pays off in the gzipped download.
    dataset = representative_dataset(latent_dim, batch_size)
    converter.representative_dataset = lambda: ([d[INPUT]] for d in dataset())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8_io:
        converter.inference_input_type = tf.int8
    return flatbuffer.add_signature(bytes(converter.convert()), ExportError)
