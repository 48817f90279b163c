#!/usr/bin/env python3
"""The generator iteration at 64x64 with and without BatchNorm, bf16 and float32, on one core (TensorFlow, one
thread): process CPU ms, median of 5 compiled calls, batch 64; ResNet d=16 and DCGAN width 32 generators, each
against its critic. `python benchmarks/profile_batchnorm.py` (see docs/benchmarks.md §8c)."""
import json
import os
import time

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import wgan_keras as wk  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)


def ms(fn, r=5):
    fn()
    fn()
    t = []
    for _ in range(r):
        t0 = time.process_time()
        fn()
        t.append(time.process_time() - t0)
    return round(1000 * sorted(t)[r // 2], 1)


out = {}
for policy in ("mixed_bfloat16", "float32"):
    keras.config.set_dtype_policy(policy)
    for arch, bn in (("resnet", True), ("resnet", False), ("dcgan", True), ("dcgan", False)):
        G = wk.ResNetGenerator if arch == "resnet" else wk.DCGANGenerator
        g = G(100, (64, 64, 3), base_filters=16 if arch == "resnet" else 32, batch_norm=bn)
        c = (wk.ResNetCritic((64, 64, 3), base_filters=16) if arch == "resnet"
             else wk.DCGANCritic((64, 64, 3), base_filters=32))
        z = tf.random.normal((64, 100))

        @tf.function
        def step(g=g, c=c, z=z):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(c(g(z, training=True), training=True))
            return tape.gradient(loss, g.trainable_weights)
        out[f"{arch} bn={bn} {policy}"] = ms(step)
        print(f"{arch} bn={bn} {policy}", out[f"{arch} bn={bn} {policy}"], flush=True)
print(json.dumps(out))
