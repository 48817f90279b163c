"""Stage 2, fold: the generator with every BatchNorm folded into the Dense / convolution before it.

Every integer mode converts the folded model (`Mode.fold`): the converter folds BN into convolutions itself
but not into Dense + Reshape, and a per-tensor int8 scale on the Dense output before BN's per-channel scaling
starves the narrow channels (measured in docs/export.md). The tfmot route (`wgan_export.tfmot`) rebuilds the
same folded layers in tf_keras.
"""
import keras
import numpy as np

from wgan_export.load import ExportError, describe, label_embedding

LAYERS = {"dense": keras.layers.Dense, "conv_t": keras.layers.Conv2DTranspose, "conv": keras.layers.Conv2D,
          "resize": keras.layers.Resizing, "reshape": keras.layers.Reshape, "relu": keras.layers.ReLU,
          "activation": keras.layers.Activation}  # the kinds folded_layers returns


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
    the Dense / convolution before it (a conditional one keeps its label Embedding, which `load.describe`
    counts the classes of)."""
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
        layer = LAYERS[kind](**cfg, dtype="float32")
        x = layer(x)
        if weights:
            weighted.append((layer, weights))
    model = keras.Model(inputs, x, name=generator.name + "_folded")
    for layer, weights in weighted:
        layer.set_weights(weights)
    return model
