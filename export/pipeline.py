"""`wgan-export` as stages, in the order they run (`export`):

    check     the flags against the mode's and the format's rows, every destination (before TensorFlow loads)
    load      wgan_export.load: the generator, validated
    build     the format's row (wgan_export.formats): fold, endpoint, convert, graph passes (wgan_export.convert)
    measure   wgan_export.measure: the row against the Keras generator
    gate      --min_psnr, --max_fd: exit 1, nothing written, when missed
    publish   the format's row: all files or none

The mode (`wgan_export.modes.BY_NAME`) and the format (`wgan_export.formats.FORMATS`) are looked up once,
here; no stage branches on their names.
"""
import os
import re

from wgan_edge.cli import ConfigError, check_fields
from wgan_edge.pretrained import NAMES as PACKAGED
from wgan_edge.signals import check_interrupted
from wgan_export import owned
from wgan_export.formats import FORMATS
from wgan_export.modes import BY_NAME, names_with
from wgan_keras.packaged import pretrained_path


class GateFailed(Exception):
    """The quality gate was missed: nothing was published. `line`: the summary of what was measured."""
    def __init__(self, reason, line):
        super().__init__(reason)
        self.reason, self.line = reason, line


def check(config):
    """Cheap checks before TensorFlow loads (seconds), every destination path included."""
    check_fields(config)
    if config.checkpoint in PACKAGED and not os.path.exists(config.checkpoint):  # a generator shipped in the package
        config.checkpoint = pretrained_path(config.checkpoint)
    if not os.path.isfile(config.checkpoint):
        raise ConfigError("checkpoint", "not found: must be an existing .keras file", config.checkpoint)
    mode, fmt = BY_NAME[config.quantize], FORMATS[config.format]
    if config.int8_io and not mode.int8_io:
        raise ConfigError("int8_io", "needs --quantize " + names_with("int8_io"), config.int8_io)
    if config.c_array and (not fmt.c_array or not mode.tflm):
        tflm = names_with("tflm")
        why = f" ({mode.name} does not: {mode.why_not_tflm})" if fmt.c_array else ""
        formats = " or ".join(f.name for f in FORMATS.values() if f.c_array)
        raise ConfigError("c_array", f"needs --format {formats} --quantize {tflm}, the modes TFLite Micro runs{why}",
                          config.c_array)
    if config.c_name is not None and (not config.c_array or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", config.c_name)):
        raise ConfigError("c_name", "must be a C identifier (ASCII letters, digits, _; not starting with a digit) "
                                    "and needs --c_array", config.c_name)
    refused = fmt.refuse(config, mode)  # what the format cannot hold (a SavedModel is float32; LiteRT.js: no int8)
    if refused:
        raise ConfigError(refused[0], refused[1], getattr(config, refused[0]))
    destinations = fmt.kinds(config)
    if len({os.path.abspath(p) for p, _ in destinations}) < len(destinations):
        raise ConfigError("out", "collides with its own metadata or C files; name it <stem>.tflite", config.out)
    owned.check(config, destinations)  # every destination, before anything is converted: all files or none


def export(config):
    """Loads, builds, measures, gates and publishes one export; returns the printed summary line.
    Raises GateFailed (nothing written) when the quality gate is missed."""
    from wgan_edge.contract import latent_vectors
    from wgan_export import load, measure, report
    from wgan_keras.images import generate_images
    mode, fmt = BY_NAME[config.quantize], FORMATS[config.format]
    generator = load.load_generator(config.checkpoint)
    info = load.describe(generator)
    z = latent_vectors(config.fidelity_samples, info["latent_dim"], seed=0)
    labels = load.reference_labels(generator, len(z))  # a conditional generator: the classes in turn
    reference = generate_images(generator, z, labels=labels)
    with fmt.build(config, generator, mode) as built:
        check_interrupted()  # between stages: a Ctrl-C deferred inside a library stops before the next one
        tflm = built.model if config.report and mode.tflm and built.model is not None else None
        row = measure.measure(generator, z, reference, built.outputs(z, labels),
                              frechet_too=config.report or config.max_fd is not None, tflm_model=tflm)
        if config.max_fd is not None and "frechet" not in row:
            raise ConfigError("max_fd", "needs a 28x28x1 generator (the bundled digit network's features)",
                              config.max_fd)
        check_interrupted()
        line = report.summary(config, info, built.size, len(z), row, fmt.fixed_batch, fmt.on_board)
        failed = measure.gate(config, row)
        if failed:
            raise GateFailed(failed, line)  # leaves an atomic folder unpublished
        fmt.publish(config, generator, built, row)
    return line
