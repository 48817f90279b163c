"""Helper processes of tests/stream_test.py.

`stream_worker.py share FOLDER OUT` (TF_CONFIG set): one worker of a two-worker job training an epoch of
FOLDER streamed; writes the files it opened to OUT.txt, one a line, and its weights to OUT.npz.
`stream_worker.py resume FOLDER TMP` (under KERAS_BACKEND=jax or torch): trains a streamed folder for 9
generator iterations at once and in two runs (4, then resumed to 9); prints "<backend> identical" when
the weights agree bit for bit.
`stream_worker.py replicas FOLDER`: MirroredStrategy over two logical CPUs, trained in two fit calls (a resume at
step 3), against one device in one call; prints "replicas equal" when the weights agree. A process of its own:
after another MirroredStrategy in the same process, TensorFlow's collective instance keys collide (a shape
mismatch in CollectiveReduceV2), which made the test depend on which tests pytest-xdist ran before it.
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


def trained(strategy, streamed, parts):
    """A tiny seeded DCGAN WGAN trained on `streamed` (m=4, n_critic=2) in one fit call per (first step,
    steps) of `parts`, as `train` calls fit on a resume."""
    import wgan_keras as wk
    from wgan_keras.data.pipeline import epoch_dataset
    keras.utils.set_random_seed(0)
    with strategy.scope():
        critic, generator = wk.DCGANCritic((28, 28, 3), base_filters=4), wk.DCGANGenerator(4, (28, 28, 3),
                                                                                           base_filters=4)
        gan = wk.WGAN(critic, generator, n_critic=2, seed=1)
        gan.compile()
        for first, steps in parts:
            gan.fit(epoch_dataset(streamed, 4, 2, seed=2, epoch=0, first_step=first, num_steps=steps),
                    steps_per_epoch=steps, verbose=0)
    return gan


def share(folder, out):
    """One worker of a two-worker MultiWorkerMirroredStrategy job (TF_CONFIG names it) training 6 steps
    (one epoch: 48 files, m=4, n_critic=2) on FOLDER streamed; writes the files it opened and its weights."""
    from wgan_keras.distribute import make_strategy
    strategy = make_strategy("multi_worker")  # first: it must see the cluster before other TF work
    opened, real = [], stream._load

    def logged(path, size, channels):  # the path of every file the pipeline reads
        tf.py_function(lambda p: opened.append(p.numpy().decode()) or 0, [path], tf.int32)
        return real(path, size, channels)

    stream._load = logged
    streamed = source.Streamed(48, 28, 3, index=files.index_folder(folder))
    gan = trained(strategy, streamed, [(0, 6)])
    with open(out + ".txt", "w") as f:
        f.write("\n".join(os.path.relpath(p, folder) for p in opened))
    np.savez(out + ".npz", *[keras.ops.convert_to_numpy(w) for w in gan.weights],
             generator_iterations=int(gan.generator_iterations.numpy()))


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


def replicas(folder):
    from harness import assert_same_weights

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    streamed = source.Streamed(48, 28, 3, index=files.index_folder(folder))
    one = trained(tf.distribute.get_strategy(), streamed, [(0, 6)])
    two = trained(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), streamed, [(0, 3), (3, 3)])
    assert two.distribute_strategy.num_replicas_in_sync == 2 and int(two.generator_iterations.numpy()) == 6
    assert_same_weights(one, two, atol=1e-5)
    print("replicas equal")


if __name__ == "__main__":
    if sys.argv[1] == "share":
        share(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "replicas":
        replicas(sys.argv[2])
    else:
        resume(sys.argv[2], sys.argv[3])
