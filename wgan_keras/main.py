"""`wgan-train`: flags -> `TrainConfig` -> `train`. User errors end in one stderr line, exit 2.

    wgan-train --workdir runs/mnist                      # bundled MNIST subset, offline
    wgan-train --preset fast --workdir runs/mnist_fast   # the measured best quality per CPU-minute
    wgan-train --dataset ring8 --workdir runs/ring8      # a 2-D toy
    wgan-train --images ~/faces --image_size 64 --workdir runs/faces

Run the same command again to resume (or to extend with a larger --generator_iters);
Ctrl-C saves a checkpoint first.
"""
import argparse
import dataclasses
import os
import sys

from wgan_edge.cli import build_parser, check_fields, fail, option, parse, quiet_libraries, run_cli
from wgan_keras import presets
from wgan_keras.choices import check_keras_backend
from wgan_keras.config import TrainConfig  # standard library only: flags are checked before TensorFlow loads
from wgan_keras.cpu import use_onednn
from wgan_keras.downloads import check_reachable


@dataclasses.dataclass
class RunFlags:
    """Where the run lives, and the named settings that fill the flags not given."""
    workdir: str = option("runs/wgan", "Folder for checkpoints, samples and logs; run again to resume.")
    preset: str = option("paper", "Named settings for every flag not given: paper (Algorithm 1 as published) "
                                  "or fast (" + ", ".join(f"--{k} {v}" for k, v in presets.settings("fast").items())
                         + "; the best quality per CPU-minute we measured, docs/benchmarks.md).",
                         choices=tuple(presets.PRESETS))


def parser(preset="paper"):
    # A preset only moves defaults (in the parse and in --help alike): every flag given still wins.
    return build_parser("wgan-train", __doc__, RunFlags, TrainConfig, defaults=presets.settings(preset))


def configs(argv):
    """argv -> (RunFlags, validated TrainConfig); ConfigError names the first bad flag."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)  # --preset first, --help not yet:
    early.add_argument("--preset", default="paper")                      # the help shows the preset's defaults
    preset = early.parse_known_args(argv)[0].preset
    check_fields(RunFlags(preset=preset))
    flags, config = parse(parser(preset), argv, RunFlags, TrainConfig)
    check_fields(flags)
    return flags, config.validate()


def main(argv=None):
    flags, config = configs(list(sys.argv[1:] if argv is None else argv))
    check_keras_backend(os.environ)  # Keras raises a traceback while importing an unknown one
    check_reachable(config)  # offline, TFDS would retry for minutes, printing dozens of lines
    from wgan_keras.train import Interrupted, train  # the heavy part, once the flags are known good
    try:
        train(config, flags.workdir)
    except FloatingPointError as e:
        return fail("wgan-train", str(e), code=1)
    except Interrupted as e:  # a stop the user asked for, saved and resumable: said as such, not as an error
        print(f"wgan-train: {e.message}", file=sys.stderr)
        return 130
    return 0


def run(argv=None):
    """Console entry point. The process-wide settings are the command's, made here, never on import:"""
    # TF 2.21's x86 wheels leave oneDNN off on plain AVX2 CPUs, at half the training speed
    # (wgan_keras.cpu). TF_ENABLE_ONEDNN_OPTS=0 keeps TensorFlow's own kernels.
    use_onednn(os.environ)
    quiet_libraries()  # TensorFlow's C++ log lines off the terminal, before TensorFlow loads
    run_cli("wgan-train", main, argv if argv is not None else sys.argv[1:],
            interrupted="interrupted before training started; nothing was written")


if __name__ == "__main__":
    run()
