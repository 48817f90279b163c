"""`wgan-train`: flags -> `TrainConfig` -> `train`. User errors end in one stderr line, exit 2.

    wgan-train --workdir runs/mnist                      # bundled MNIST subset, offline
    wgan-train --dataset ring8 --workdir runs/ring8      # a 2-D toy
    wgan-train --images ~/faces --image_size 64 --workdir runs/faces
"""
import dataclasses
import os
import sys
import typing

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported: keep stderr readable

from absl import app, flags  # noqa: E402

from wgan_keras.config import TrainConfig  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "runs/wgan", "Where checkpoints, samples and logs go; rerun to resume.")


def _define_config_flags():
    """One flag per TrainConfig field, with its default (the flags mirror the dataclass)."""
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        kind = hints[field.name]
        kind = next((a for a in typing.get_args(kind) if a is not type(None)), kind)  # Optional[x] -> x
        define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float}.get(
            kind, flags.DEFINE_string)
        define(field.name, field.default, f"TrainConfig.{field.name}")


_define_config_flags()


def _fail(message, code=2):
    print(f"wgan-train: error: {message}", file=sys.stderr)
    sys.exit(code)


def _parse(argv):
    try:
        return FLAGS(argv)
    except flags.Error as e:
        _fail(str(e).splitlines()[0])


def main(argv):
    if len(argv) > 1:
        _fail(f"unexpected arguments {argv[1:]}; all settings are --flags")
    config = TrainConfig(**{f.name: FLAGS[f.name].value for f in dataclasses.fields(TrainConfig)})
    from wgan_keras.train import train  # heavy imports after the flags are known good
    try:
        train(config.validate(), FLAGS.workdir)
    except (ValueError, OSError) as e:
        _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except FloatingPointError as e:
        _fail(str(e), code=1)
    except KeyboardInterrupt:
        _fail(f"interrupted; run the same command again to resume from {FLAGS.workdir}", code=130)


def run():
    app.run(main, flags_parser=_parse)


if __name__ == "__main__":
    run()
