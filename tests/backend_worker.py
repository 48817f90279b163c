"""One Keras backend's half of tests/backends_test.py, run as `python backend_worker.py TASK DIR`.

Keras picks its backend at import, so the TensorFlow test process starts this
script with KERAS_BACKEND=jax or =torch. It reads the initial weights and data
that the TensorFlow side wrote to DIR and writes back what it trained:

    equivalence  each config of CONFIGS, STEPS fit steps from DIR/init_<config>.npz
                 -> DIR/<backend>_<config>.npz (weights, logs); the dcgan run also
                 -> DIR/<backend>.keras (for the portability test); noise draws -> DIR/<backend>_noise.npz
    resume       DIR/tensorflow_mlp_reference.keras fitted one more step -> DIR/<backend>_resumed.npz
    dataparallel mlp_gp under keras.distribution.DataParallel on every (logical) device
                 -> DIR/<backend>_parallel.npz, against the single-device equivalence run

`all` runs the three in that order (one process start, one import of each library).
"""
import os
import sys

import numpy as np

SHAPE = (28, 28, 1)
M, STEPS, N_CRITIC = 16, 2, 2  # n_critic 2, not 5: the same loop, half the program for XLA to compile
# name: (networks, lipschitz, critic_schedule, optimizers). "default" is the package's (RMSProp for
# clip, Adam for gp). SN runs with SGD: Adam's first step is lr * sign(g), and spectral normalization
# leaves some bias gradients at float-noise size, whose sign flips between backends (measured: 1.5e-4
# = 1.5 lr on 64 of 2,200 weights with Adam; 1.8e-7 on all with SGD).
CONFIGS = {
    "mlp_gp": ("mlp", "gp", "paper", "default"),
    "mlp_sn": ("mlp", "sn", "paper", "sgd"),
    "mlp_reference": ("mlp", "clip", "reference", "default"),
    "dcgan_clip": ("dcgan", "clip", "paper", "default"),
    # A generator EMA (BatchNorm statistics too), and sampling's standing statistics, on every backend.
    "dcgan_clip_ema": ("dcgan", "clip", "paper", "default"),
    # Conditional (3 classes): projection critic, the penalty's closure over the labels, label batches.
    "mlp_conditional_gp": ("mlp_conditional", "gp", "paper", "default"),
}
CLASSES = 3


def build(name):
    import keras

    import wgan_keras as wk
    networks, lipschitz, schedule, optimizers = CONFIGS[name]
    if networks.startswith("mlp"):
        classes = CLASSES if networks == "mlp_conditional" else None
        critic = wk.MLPCritic((2,), hidden_units=(32, 32), spectral_norm=lipschitz == "sn", num_classes=classes)
        generator = wk.MLPGenerator(4, (2,), hidden_units=(32, 32), num_classes=classes)
    else:
        critic, generator = wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4)
    gan = wk.WGAN(critic, generator, n_critic=N_CRITIC, lipschitz=lipschitz, critic_schedule=schedule, seed=5,
                  ema_decay=0.9 if name.endswith("_ema") else None)
    if optimizers == "sgd":
        gan.compile(critic_optimizer=keras.optimizers.SGD(0.1), generator_optimizer=keras.optimizers.SGD(0.1))
    else:
        gan.compile()
    return gan


def data(name, steps=STEPS):
    shape = (2,) if CONFIGS[name][0].startswith("mlp") else SHAPE
    x = np.random.RandomState(1).uniform(-1, 1, (M * N_CRITIC * steps,) + shape).astype("float32")
    if CONFIGS[name][0] != "mlp_conditional":
        return x
    return x, np.random.RandomState(2).randint(0, CLASSES, len(x)).astype("int32")


def dataset(x):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(x).batch(M, drop_remainder=True)  # x: samples or (samples, labels)


def weights(gan):
    import keras
    return [keras.ops.convert_to_numpy(v) for v in gan.weights]


def set_weights(gan, arrays):
    for variable, value in zip(gan.weights, arrays):
        variable.assign(value)


def save(path, gan, history=None):
    logs = {f"log_{k}": np.asarray(v) for k, v in (history or {}).items()}
    np.savez(path, *weights(gan), **logs)


def load(path):
    f = np.load(path)
    return [f[f"arr_{i}"] for i in range(len([k for k in f.files if k.startswith("arr_")]))], \
        {k[4:]: f[k] for k in f.files if k.startswith("log_")}


def equivalence(folder, backend):
    import keras

    from wgan_keras.noise import CRITIC_Z, GP_ALPHA, counter_noise
    for name in CONFIGS:
        gan = build(name)
        set_weights(gan, load(os.path.join(folder, f"init_{name}.npz"))[0])
        history = gan.fit(dataset(data(name)), epochs=1, verbose=0).history
        save(os.path.join(folder, f"{backend}_{name}.npz"), gan, history)
        if name == "dcgan_clip":  # the portability test loads it under TensorFlow and compares the samples
            gan.save(os.path.join(folder, f"{backend}.keras"))
            z = np.random.RandomState(2).normal(size=(8, 8)).astype("float32")
            np.save(os.path.join(folder, f"{backend}_images.npy"),
                    keras.ops.convert_to_numpy(gan.generator(z, training=False)))
        if name.endswith("_ema"):
            np.save(os.path.join(folder, f"{backend}_ema_samples.npy"), gan.generate(8, seed=3))
    draws = {f"{stream}_{counter}": keras.ops.convert_to_numpy(counter_noise([M, 8], 5, stream, counter))
             for stream in (CRITIC_Z, GP_ALPHA) for counter in (0, 3, 2**30 + 7)}
    np.savez(os.path.join(folder, f"{backend}_noise.npz"), **draws)


def resume(folder, backend):
    import keras
    gan = keras.saving.load_model(os.path.join(folder, "tensorflow_mlp_reference.keras"))
    gan.fit(dataset(data("mlp_reference", 1)), epochs=1, verbose=0)
    save(os.path.join(folder, f"{backend}_resumed.npz"), gan)


def dataparallel(folder, backend):
    import keras
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    gan = build("mlp_gp")
    set_weights(gan, load(os.path.join(folder, "init_mlp_gp.npz"))[0])
    history = gan.fit(dataset(data("mlp_gp")), epochs=1, verbose=0).history
    save(os.path.join(folder, f"{backend}_parallel.npz"), gan, dict(history, devices=[len(devices)]))


def run_all(folder, backend):
    equivalence(folder, backend)
    resume(folder, backend)
    if backend == "jax":
        dataparallel(folder, backend)


if __name__ == "__main__":
    import keras
    task, folder = sys.argv[1:3]
    tasks = {"equivalence": equivalence, "resume": resume, "dataparallel": dataparallel, "all": run_all}
    tasks[task](folder, keras.backend.backend())
