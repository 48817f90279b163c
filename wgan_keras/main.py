"""`wgan-train`: flags -> `TrainConfig` -> `train`. User errors end in one stderr line, exit 2.

    wgan-train --workdir runs/mnist                      # bundled MNIST subset, offline
    wgan-train --dataset ring8 --workdir runs/ring8      # a 2-D toy
    wgan-train --images ~/faces --image_size 64 --workdir runs/faces

Run the same command again to resume (or to extend with a larger --generator_iters);
Ctrl-C saves a checkpoint first.
"""
import dataclasses
import sys

from wgan_edge.cli import build_parser, fail, option, parse, quiet_libraries, run_cli

quiet_libraries()  # before TensorFlow loads (the config's imports load it)

from wgan_keras.config import TrainConfig  # noqa: E402


@dataclasses.dataclass
class RunFlags:
    """Where the run lives."""
    workdir: str = option("runs/wgan", "Folder for checkpoints, samples and logs; run again to resume.")


def parser():
    return build_parser("wgan-train", __doc__, RunFlags, TrainConfig)


def main(argv=None):
    flags, config = parse(parser(), argv, RunFlags, TrainConfig)
    config.validate()
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
