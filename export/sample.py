"""`wgan-sample`: a PNG grid from a generator .tflite file, on a board without TensorFlow.

Imports numpy, ai_edge_litert and the numpy-only `export.png` / `export.atomic`
only. Latent size and image shape come from the model's `generate` signature;
a fixed-batch model runs as many invocations as needed; an int8-input model
gets z quantized with its input scale / zero point (saturating at the
calibrated range, which is the clip of z the int8 model was calibrated for).

    wgan-sample --model g.tflite --num 64 --seed 0 --out grid.png [--overwrite]
"""
import os
import sys

import numpy as np

from export.atomic import write_bytes
from export.cli import OneLineParser
from export.png import encode_png, image_grid, to_uint8

SIGNATURE = "generate"


class SampleError(ValueError):
    pass


class TFLiteGenerator:
    """A `generate` signature of a .tflite generator, run with LiteRT."""

    def __init__(self, model, num_threads=2):
        from ai_edge_litert.interpreter import Interpreter
        kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else {"model_path": model}
        try:
            self.interpreter = Interpreter(num_threads=num_threads, **kwargs)
        except Exception as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise SampleError(f"cannot load the TFLite model: {first[:200]}") from None
        if SIGNATURE not in self.interpreter.get_signature_list():
            raise SampleError(f"the model has no '{SIGNATURE}' signature (signatures: "
                              f"{sorted(self.interpreter.get_signature_list())}); export it with wgan-export")
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        inputs = self.runner.get_input_details()
        if list(inputs) != ["z"]:
            raise SampleError(f"the '{SIGNATURE}' signature must take one input 'z', got {sorted(inputs)}")
        self.input = inputs["z"]
        self.outputs = self.runner.get_output_details()
        shape = list(self.input["shape_signature"]) if len(self.input.get("shape_signature", [])) else \
            list(self.input["shape"])
        self.batch_size = int(shape[0]) if shape[0] > 0 else None
        self.latent_dim = int(self.input["shape"][-1])
        self.image_shape = tuple(int(d) for d in self.outputs["images"]["shape"][1:]) \
            if "images" in self.outputs else tuple(int(d) for d in self.outputs["pixels"]["shape"][1:])

    def _quantize_z(self, z):
        if self.input["dtype"] == np.float32:
            return z.astype(np.float32)
        scale, zero = self.input["quantization"]
        info = np.iinfo(self.input["dtype"])
        return np.clip(np.rint(z / scale) + zero, info.min, info.max).astype(self.input["dtype"])

    @staticmethod
    def _dequantize(value, details):
        if value.dtype == np.float32:
            return value
        scale, zero = details["quantization"]
        return (value.astype(np.float32) - zero) * scale

    def __call__(self, z):
        """z (n, latent_dim) float32 -> {"images": float32 (n, H, W, C), "pixels": uint8 (n, H, W, C)}."""
        z = np.asarray(z, np.float32)
        n = len(z)
        step = self.batch_size or n
        images, pixels = [], []
        for i in range(0, n, step):
            chunk = z[i:i + step]
            if len(chunk) < step:  # pad the last fixed batch, drop the padding after
                chunk = np.concatenate([chunk, np.zeros((step - len(chunk), self.latent_dim), np.float32)])
            out = self.runner(z=self._quantize_z(chunk))
            take = min(step, n - i)
            if "images" in out:
                images.append(self._dequantize(out["images"], self.outputs["images"])[:take])
            if "pixels" in out and out["pixels"].dtype == np.uint8:
                pixels.append(out["pixels"][:take])
        result = {}
        if images:
            result["images"] = np.concatenate(images)
        result["pixels"] = np.concatenate(pixels) if pixels else to_uint8(result["images"])
        return result


def sample_png(model, num=64, seed=0, columns=None):
    """Runs the model on `num` latents z ~ N(0, 1) (numpy PCG64 with `seed`) -> PNG bytes."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise SampleError(f"--num must be a positive integer, got {num!r}")
    if columns is not None and (isinstance(columns, bool) or not isinstance(columns, int) or columns < 1):
        raise SampleError(f"--columns must be a positive integer, got {columns!r}")
    generator = TFLiteGenerator(model)
    z = np.random.default_rng(seed).standard_normal((num, generator.latent_dim)).astype(np.float32)
    return encode_png(image_grid(generator(z)["pixels"], columns=columns))


def parse_args(argv):
    parser = OneLineParser(prog="wgan-sample", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="generator .tflite file (from wgan-export)")
    parser.add_argument("--num", type=int, default=64, help="number of samples")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent vectors")
    parser.add_argument("--columns", type=int, default=None, help="grid columns (default: square)")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.model):
        raise SampleError(f"model not found: {args.model}")
    if os.path.exists(args.out) and not args.overwrite:
        raise SampleError(f"{args.out} exists; pass --overwrite to replace it")
    data = sample_png(args.model, args.num, args.seed, args.columns)
    write_bytes(args.out, data, overwrite=args.overwrite)
    print(f"wrote {args.out} ({args.num} samples, {len(data)} bytes)")
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    try:
        sys.exit(main(argv))
    except (SampleError, FileExistsError, OSError, ValueError) as e:
        print(f"wgan-sample: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    run()
