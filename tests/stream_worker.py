"""Helper processes of tests/stream_test.py.

`stream_worker.py share FOLDER W OUT`: reads worker W's share (of 2) of one epoch of FOLDER through the
streaming pipeline and writes the files it opened to OUT, one a line.
`stream_worker.py resume FOLDER TMP` (under KERAS_BACKEND=jax or torch): trains a streamed folder for 9
generator iterations at once and in two runs (4, then resumed to 9); prints "<backend> identical" when
the weights agree bit for bit.
"""
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import wgan_keras.data.source as source  # noqa: E402
from wgan_keras.data import files, stream  # noqa: E402


def share(folder, worker, out):
    opened = []
    real = stream._load

    def logged(path, size, channels):  # the path of every file the pipeline reads, in the order it asks
        tf.py_function(lambda p: opened.append(p.numpy().decode()) or 0, [path], tf.int32)
        return real(path, size, channels)

    stream._load = logged
    index = files.index_folder(folder)
    # 48 files, m=4, n_critic=2: one epoch is 6 steps of 8 files
    for _ in stream.stream(index, 16, 3, 4, 2, seed=0, first_epoch=0, first_step=0, num_steps=6, worker=worker,
                           workers=2):
        pass
    with open(out, "w") as f:
        f.write("\n".join(os.path.relpath(p, folder) for p in opened))


def resume(folder, tmp):
    from wgan_keras.config import TrainConfig
    from wgan_keras.train import train
    source.CACHE_BYTES = 0
    config = TrainConfig(images=folder, image_size=28, channels=3, base_filters=4, latent_dim=4, batch_size=4,
                         n_critic=2, generator_iters=9, checkpoint_every=1)
    whole = train(config, os.path.join(tmp, "whole"), verbose=0)
    train(dataclasses.replace(config, generator_iters=4), os.path.join(tmp, "parts"), verbose=0)
    parts = train(config, os.path.join(tmp, "parts"), verbose=0)
    for a, b in zip(whole.weights, parts.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path)
    print(keras.backend.backend(), "identical")


if __name__ == "__main__":
    if sys.argv[1] == "share":
        share(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        resume(sys.argv[2], sys.argv[3])
