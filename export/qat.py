"""The tfmot route ("qat"): quantization-aware fine-tuning and/or magnitude pruning.

tfmot 0.8 accepts only tf_keras (Keras 2) models, so the Keras 3 generator is
rebuilt as a tf_keras twin with BatchNorm folded into the preceding Dense /
Conv2DTranspose (tfmot's own BN folding does not cover Conv2DTranspose, and
TFLite folds it anyway), its weights copied, then fine-tuned by distillation:
MSE towards the float generator's images on fresh z ~ N(0, 1).
"""
import keras
import numpy as np
import tensorflow as tf

from wgan_edge.contract import INPUT, SIGNATURE, latent_vectors
from wgan_export.lib import ExportError, describe, label_embedding, on_pixel_grid, representative_dataset, to_pixels
from wgan_keras.images import generate_images


def folded_layers(generator):
    """The generator as a list of (kind, config, weights) with BN folded (inference statistics)."""
    specs = []
    conditional = "num_classes" in describe(generator)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.InputLayer) or type(layer).__name__ == "Identity":
            continue
        if conditional and not specs and isinstance(layer, (keras.layers.Embedding, keras.layers.Concatenate)):
            continue  # the [z, embed(label)] prefix: folded_model rebuilds it
        if isinstance(layer, keras.layers.Dense):
            w = layer.get_weights()
            specs.append(["dense", {"units": layer.units, "activation": layer.get_config()["activation"]},
                          [w[0], w[1] if layer.use_bias else np.zeros(layer.units, np.float32)]])
        elif isinstance(layer, (keras.layers.Conv2DTranspose, keras.layers.Conv2D)):
            w = layer.get_weights()
            cfg = {k: layer.get_config()[k] for k in ("filters", "kernel_size", "strides", "padding", "activation")}
            kind = "conv_t" if isinstance(layer, keras.layers.Conv2DTranspose) else "conv"
            specs.append([kind, cfg, [w[0], w[1] if layer.use_bias else np.zeros(layer.filters, np.float32)]])
        elif isinstance(layer, keras.layers.Resizing):  # DCGANGenerator(upsample="resize")
            cfg = {k: layer.get_config()[k] for k in ("height", "width", "interpolation")}
            specs.append(["resize", cfg, []])
        elif isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            scale = gamma / np.sqrt(var + layer.epsilon)
            shift = beta - mean * scale
            target = next((s for s in reversed(specs) if s[0] in ("dense", "conv_t", "conv")), None)
            if target is None or any(s[0] not in ("reshape",) for s in specs[specs.index(target) + 1:]):
                raise ExportError("qat: BatchNormalization must follow a Dense or a convolution")
            kernel, bias = target[2]
            channels = len(scale)
            if target[0] == "dense":  # Dense units reshaped to (..., channels): channel = unit % channels
                s, t = np.tile(scale, kernel.shape[1] // channels), np.tile(shift, kernel.shape[1] // channels)
                target[2] = [kernel * s[None, :], bias * s + t]
            elif target[0] == "conv_t":  # Conv2DTranspose kernel (kh, kw, out, in)
                target[2] = [kernel * scale[None, None, :, None], bias * scale + shift]
            else:  # Conv2D kernel (kh, kw, in, out)
                target[2] = [kernel * scale[None, None, None, :], bias * scale + shift]
        elif isinstance(layer, keras.layers.Reshape):
            specs.append(["reshape", {"target_shape": tuple(layer.target_shape)}, []])
        elif isinstance(layer, keras.layers.ReLU):
            specs.append(["relu", {}, []])
        elif isinstance(layer, keras.layers.Activation):
            specs.append(["activation", {"activation": layer.get_config()["activation"]}, []])
        else:
            raise ExportError(f"qat: layer {type(layer).__name__} has no tf_keras twin here; use --quantize int8")
    return specs


def folded_model(generator):
    """A float32 Keras 3 model computing the generator's inference output with every BatchNorm folded into
    the Dense / convolution before it. For the calibrated modes: the converter folds BN into convolutions
    itself but not into Dense + Reshape, and a per-tensor int8 scale on the Dense output before BN's
    per-channel scaling starves the narrow channels (measured in docs/export.md)."""
    layers = {"dense": keras.layers.Dense, "conv_t": keras.layers.Conv2DTranspose, "conv": keras.layers.Conv2D,
              "resize": keras.layers.Resizing, "reshape": keras.layers.Reshape, "relu": keras.layers.ReLU,
              "activation": keras.layers.Activation}
    info = describe(generator)
    z = keras.Input((info["latent_dim"],), name="z")
    inputs, x, weighted = z, z, []
    if "num_classes" in info:  # wgan_keras.models.common.join_label: [z, embed(label)], the table copied
        source = label_embedding(generator)
        labels = keras.Input((), dtype="int32", name="labels")
        embedding = keras.layers.Embedding(source.input_dim, source.output_dim, dtype="float32")
        inputs, x = [z, labels], keras.layers.Concatenate(dtype="float32")([z, embedding(labels)])
        weighted.append((embedding, source.get_weights()))
    for kind, cfg, weights in folded_layers(generator):
        layer = layers[kind](**cfg, dtype="float32")
        x = layer(x)
        if weights:
            weighted.append((layer, weights))
    model = keras.Model(inputs, x, name=generator.name + "_folded")
    for layer, weights in weighted:
        layer.set_weights(weights)
    model.num_classes = info.get("num_classes")  # what lib.describe reads off a conditional generator
    return model


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
    return add_signature(bytes(converter.convert()))


def add_signature(model_bytes):
    """Writes the `generate` SignatureDef (z -> images, pixels) into a signature-less flatbuffer;
    the outputs are told apart by dtype (pixels is the uint8 one)."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    graph = model.subgraphs[0]

    def tensor_map(name, index):
        t = schema.TensorMapT()
        t.name, t.tensorIndex = name, int(index)
        return t

    outputs = {("pixels" if graph.tensors[i].type == schema.TensorType.UINT8 else "images"): i for i in graph.outputs}
    if len(graph.inputs) != 1 or sorted(outputs) != ["images", "pixels"]:
        raise ExportError("qat: converted model does not have one input and outputs images + pixels")
    sig = schema.SignatureDefT()
    sig.inputs = [tensor_map(INPUT, graph.inputs[0])]
    sig.outputs = [tensor_map(k, v) for k, v in sorted(outputs.items())]
    sig.signatureKey, sig.subgraphIndex = SIGNATURE, 0
    model.signatureDefs = [sig]
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
