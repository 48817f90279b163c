"""`wgan-train`: flags -> `TrainConfig` -> `train`. User errors end in one stderr line, exit 2.

    wgan-train --workdir runs/mnist                      # bundled MNIST subset, offline
    wgan-train --preset fast --workdir runs/mnist_fast   # the measured best quality per CPU-minute
    wgan-train --dataset ring8 --workdir runs/ring8      # a 2-D toy
    wgan-train --images ~/faces --image_size 64 --workdir runs/faces

Run the same command again to resume (or to extend with a larger --generator_iters);
Ctrl-C saves a checkpoint first.
"""
import dataclasses
import sys

from wgan_edge.cli import build_parser, check_fields, fail, option, parse, quiet_libraries, run_cli

quiet_libraries()  # before TensorFlow loads (the config's imports load it)

from wgan_keras.config import TrainConfig  # noqa: E402
from wgan_keras.presets import PRESETS  # noqa: E402


@dataclasses.dataclass
class RunFlags:
    """Where the run lives, and the named settings that fill the flags not given."""
    workdir: str = option("runs/wgan", "Folder for checkpoints, samples and logs; run again to resume.")
    preset: str = option("paper", "Named settings for every flag not given: paper (Algorithm 1 as published) "
                                  "or fast (" + ", ".join(f"--{k} {v}" for k, v in PRESETS["fast"].items())
                         + "; the best quality per CPU-minute we measured, docs/benchmarks.md).",
                         choices=tuple(PRESETS))


def parser(preset="paper"):
    p = build_parser("wgan-train", __doc__, RunFlags, TrainConfig)
    p.set_defaults(**PRESETS[preset])  # a preset only moves defaults: every flag given still wins
    return p


def configs(argv):
    """argv -> (RunFlags, validated TrainConfig); ConfigError names the first bad flag."""
    first = parser().parse_known_args(argv)[0]  # --preset first: it sets the other flags' defaults
    check_fields(RunFlags(first.workdir, first.preset))
    flags, config = parse(parser(first.preset), argv, RunFlags, TrainConfig)
    return flags, config.validate()


def main(argv=None):
    flags, config = configs(list(sys.argv[1:] if argv is None else argv))
    from wgan_keras.train import Interrupted, train  # the heavy part, once the flags are known good
    try:
        train(config, flags.workdir)
    except FloatingPointError as e:
        return fail("wgan-train", str(e), code=1)
    except Interrupted as e:
        return fail("wgan-train", e.message, code=130)
    return 0


def run(argv=None):
    run_cli("wgan-train", main, argv if argv is not None else sys.argv[1:],
            interrupted="interrupted before training started; nothing was written")


if __name__ == "__main__":
    run()
