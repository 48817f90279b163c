"""`wgan-sample`: a PNG grid from a generator .tflite file, on a board without TensorFlow.

    wgan-sample --model g.tflite --num 64 --seed 0 --out grid.png [--overwrite]
    wgan-sample --model g.tflite --label 7 --out sevens.png   # a conditional generator: one class
    wgan-sample --model mnist --out digits.png               # the digit generator shipped in the package

z is drawn as `wgan_edge.contract.latent_vectors(num, latent_dim, seed)`: the same images on
every machine for a seed. A conditional generator (a `label` input) draws one row per class unless
--label picks one; its class count and names come from the metadata wgan-export writes beside the model
(<model stem>.json). Imports numpy, the standard library and ai_edge_litert only.
"""
import dataclasses
import json
import os
from typing import Optional

import numpy as np

from wgan_edge.atomic import interrupted_message, write_bytes
from wgan_edge.cli import ConfigError, build_parser, check_fields, option, parse, quiet_libraries, run_cli
from wgan_edge.contract import labels_by_row, latent_vectors
from wgan_edge.png import encode_png, image_grid
from wgan_edge.pretrained import NAMES, resolve
from wgan_edge.runner import TFLiteGenerator

MAX_GRID_BYTES = 256 << 20  # one PNG grid held in memory; far beyond any grid a person looks at


@dataclasses.dataclass
class SampleConfig:
    """Settings of wgan-sample."""
    model: str = option(dataclasses.MISSING, "Generator .tflite file written by wgan-export, or the name of one "
                                             "shipped in the package: " + ", ".join(sorted(NAMES)) + ".")
    out: str = option(dataclasses.MISSING, "PNG file to write.")
    num: Optional[int] = option(None, "Number of samples in the grid.", low=1, high=65536,
                                default_help="64; a conditional generator: 8 per class")
    seed: int = option(0, "Seed of the latent vectors z (the portable Philox rule that the web page draws "
                          "too): same seed, same images.",
                       low=0, high=2**64 - 1)
    columns: Optional[int] = option(None, "Grid columns.", low=1, high=65536,
                                    default_help="a square grid; a conditional generator: one row per class")
    label: Optional[int] = option(None, "A conditional generator's class (0-based, as in the model's <stem>.json "
                                        "class_names): every sample of that class.", low=0, high=65535,
                                  default_help="one row per class")
    overwrite: bool = option(False, "Replace an existing --out.")


def check_grid(num, columns, image_shape, padding=2):
    """Refuses a grid that cannot be held in memory (e.g. --num 65536 of 64x64 RGB in one column)."""
    columns = columns or int(np.ceil(np.sqrt(num)))
    rows = -(-num // columns)
    h, w, c = image_shape
    size = (rows * (h + padding) + padding) * (columns * (w + padding) + padding) * c
    if size > MAX_GRID_BYTES:
        raise ConfigError("num", f"with --columns {columns} makes a {size >> 20} MiB grid, over the "
                                 f"{MAX_GRID_BYTES >> 20} MiB limit; lower --num or balance --columns", num)


MAX_CLASSES = 65536  # --label's range; a metadata count beyond it is not a model's
MAX_METADATA = 16 << 20  # a metadata file we wrote is a few KiB


def read_num_classes(model, generator):
    """The class count the model's metadata (<stem>.json beside a .tflite path) states, once that metadata is
    checked against the model itself (latent size, batch, image shape, its classes); None when there
    is no such file or it states none. ConfigError when it cannot be read or describes another model."""
    if not isinstance(model, (str, os.PathLike)):
        return None
    path = os.path.splitext(model)[0] + ".json"
    if not os.path.lexists(path):
        return None
    fix = "export the model again, or move that file away"
    if not os.path.isfile(path):  # a named pipe would block the read forever, a device never end
        raise ConfigError("model", f"has metadata {path} that is not a regular file; {fix}", model)
    try:
        if os.path.getsize(path) > MAX_METADATA:
            raise ValueError("too large")
        with open(path) as f:
            values = json.load(f)
        values.get("num_classes")
    except (OSError, ValueError, AttributeError, RecursionError) as e:
        raise ConfigError("model", f"has metadata {path} that cannot be read ({type(e).__name__}); {fix}",
                          model) from None
    value = values.get("num_classes")
    if value is not None and (type(value) is not int or not 2 <= value <= MAX_CLASSES):
        raise ConfigError("model", f"has metadata {path} whose num_classes={value!r:.40} is not a class count in "
                                   f"[2, {MAX_CLASSES}]; {fix}", model)
    for what, theirs, ours in _metadata_differences(values, generator):
        raise ConfigError("model", f"has metadata {path} that does not match the model: {what} {theirs!r:.40} "
                                   f"there, {ours!r} in the model (another model's?); {fix}", model)
    return value


def _metadata_differences(values, generator):
    """[(field, metadata's value, the model's)] where the metadata describes another model."""
    ours = {"latent_dim": generator.latent_dim, "image_shape": list(generator.image_shape),
            "batch_size": generator.batch_size, "conditional": generator.conditional}
    theirs = {k: values[k] for k in ("latent_dim", "image_shape", "batch_size") if k in values}
    theirs["conditional"] = values.get("num_classes") is not None
    if generator.conditional and generator.num_classes is not None and theirs["conditional"]:
        ours["num_classes"], theirs["num_classes"] = generator.num_classes, values["num_classes"]
    return [(k, v, ours[k]) for k, v in theirs.items() if v != ours[k]]


def class_plan(generator, num, columns, label, num_classes, model="-"):
    """(num, columns, labels) for the grid: one class (--label), or one row per class, or unconditional."""
    if not generator.conditional:
        if label is not None:
            raise ConfigError("label", "applies to a conditional generator; this model has no 'label' input", label)
        return num or 64, columns, None
    if num_classes is None and label is None:
        raise ConfigError("model", "is a conditional generator without its metadata (<stem>.json, from "
                                   "wgan-export) to count its classes; pass --label N", model)
    if label is not None:
        if num_classes is not None and label >= num_classes:
            raise ConfigError("label", f"must be a class in [0, {num_classes - 1}] (the model has {num_classes})",
                              label)
        return num or 64, columns, np.full(num or 64, label, np.int32)
    num = num or 8 * num_classes
    columns = columns or -(-num // num_classes)  # one row per class
    return num, columns, labels_by_row(num, num_classes, columns)


def sample_png(model, num=None, seed=0, columns=None, label=None):
    """Runs the model on `num` latents z ~ N(0, 1) (`latent_vectors`: the portable rule) -> (PNG bytes, what
    it shows); a conditional model on `label`, or on one class per row (classes counted by its <stem>.json)."""
    check_fields(SampleConfig(model="-", out="-", num=num, seed=seed, columns=columns, label=label))
    generator = TFLiteGenerator(model)
    num_classes = read_num_classes(model, generator)  # checked against the model before anything reads it
    num, columns, labels = class_plan(generator, num, columns, label, num_classes,
                                      model if isinstance(model, (str, os.PathLike)) else "-")
    check_grid(num, columns, generator.image_shape)  # before anything is generated
    z = latent_vectors(num, generator.latent_dim, seed)
    step = max(generator.batch_size or 1, 256)  # float images a chunk at a time: only uint8 pixels are kept
    pixels = np.concatenate([generator(z[i:i + step], None if labels is None else labels[i:i + step])["pixels"]
                             for i in range(0, num, step)])
    shows = f"{num} samples" + ("" if labels is None else f" of class {label}" if label is not None else
                                f", one row per class ({len(np.unique(labels))} rows)")
    return encode_png(image_grid(pixels, columns=columns)), shows


def check_model_path(path):
    """What a --model that is not a .tflite file is, and what to do: the files a user confuses it with."""
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ConfigError("model", "is a SavedModel folder; wgan-sample runs a .tflite file (wgan-export "
                                       "--format tflite writes one)", path)
        raise ConfigError("model", "is a folder; wgan-sample runs a .tflite file", path)
    if not os.path.isfile(path):
        raise ConfigError("model", "not found: must be an existing .tflite file", path)
    with open(path, "rb") as f:
        zipped = f.read(4) == b"PK\x03\x04"  # a .keras file is a zip archive
    if zipped or path.endswith(".keras"):
        raise ConfigError("model", f"is a Keras checkpoint, not a .tflite file; export it first: wgan-export "
                                   f"--checkpoint {path} --out g.tflite", path)


def main(argv=None):
    (config,) = parse(build_parser("wgan-sample", __doc__, SampleConfig), argv, SampleConfig)
    check_fields(config)
    config.model = resolve(config.model)
    check_model_path(config.model)
    if os.path.exists(config.out) and not config.overwrite:
        raise ConfigError("out", "exists; pass --overwrite to replace it", config.out)
    data, shows = sample_png(config.model, config.num, config.seed, config.columns, config.label)
    write_bytes(config.out, data, overwrite=config.overwrite)
    print(f"wrote {config.out} ({shows}, {len(data)} bytes)")
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    quiet_libraries()  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" note
    run_cli("wgan-sample", main, argv, interrupted=interrupted_message())  # what the disk holds


if __name__ == "__main__":
    run()
