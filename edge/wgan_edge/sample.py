"""`wgan-sample`: a PNG grid from a generator .tflite file, on a board without TensorFlow.

    wgan-sample --model g.tflite --num 64 --seed 0 --out grid.png [--overwrite]

z is drawn as `wgan_edge.contract.latent_vectors(num, latent_dim, seed)`: the same images on
every machine for a seed. Imports numpy, the standard library and ai_edge_litert only.
"""
import dataclasses
import os
from typing import Optional

import numpy as np

from wgan_edge.atomic import write_bytes
from wgan_edge.cli import ConfigError, build_parser, check_fields, option, parse, quiet_libraries, run_cli
from wgan_edge.contract import latent_vectors
from wgan_edge.png import encode_png, image_grid
from wgan_edge.runner import TFLiteGenerator

MAX_GRID_BYTES = 256 << 20  # one PNG grid held in memory; far beyond any grid a person looks at


@dataclasses.dataclass
class SampleConfig:
    """Settings of wgan-sample."""
    model: str = option(dataclasses.MISSING, "Generator .tflite file written by wgan-export.")
    out: str = option(dataclasses.MISSING, "PNG file to write.")
    num: int = option(64, "Number of samples in the grid.", low=1, high=65536)
    seed: int = option(0, "Seed of the latent vectors z (the portable Philox rule that the web page draws "
                          "too): same seed, same images.",
                       low=0, high=2**64 - 1)
    columns: Optional[int] = option(None, "Grid columns.", low=1, high=65536, default_help="a square grid")
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


def sample_png(model, num=64, seed=0, columns=None):
    """Runs the model on `num` latents z ~ N(0, 1) (`latent_vectors`: the portable rule) -> PNG bytes."""
    check_fields(SampleConfig(model="-", out="-", num=num, seed=seed, columns=columns))
    generator = TFLiteGenerator(model)
    check_grid(num, columns, generator.image_shape)  # before anything is generated
    z = latent_vectors(num, generator.latent_dim, seed)
    step = max(generator.batch_size or 1, 256)  # float images a chunk at a time: only uint8 pixels are kept
    pixels = np.concatenate([generator(z[i:i + step])["pixels"] for i in range(0, num, step)])
    return encode_png(image_grid(pixels, columns=columns))


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
    check_model_path(config.model)
    if os.path.exists(config.out) and not config.overwrite:
        raise ConfigError("out", "exists; pass --overwrite to replace it", config.out)
    data = sample_png(config.model, config.num, config.seed, config.columns)
    write_bytes(config.out, data, overwrite=config.overwrite)
    print(f"wrote {config.out} ({config.num} samples, {len(data)} bytes)")
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    quiet_libraries()  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" note
    run_cli("wgan-sample", main, argv, interrupted="interrupted; nothing was written")


if __name__ == "__main__":
    run()
