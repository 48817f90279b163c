#!/usr/bin/env python3
"""Where one training iteration's time goes at 64x64, per architecture, on one core (TensorFlow, one thread).

    taskset -c 1 python benchmarks/profile_step.py [--batch 64] [--width 32] [--precision mixed_bfloat16]

For the DCGAN and the ResNet pair at 64x64x3 it measures, in this process's CPU time (median of --repeat
compiled calls, after warm-up): the generator's forward, forward + backward, the critic's forward, forward
+ backward, the gradient penalty's double backward (the critic's loss with the penalty, differentiated),
and the whole WGAN.train_step with --n_critic critic iterations; then, per layer, the forward and
forward + backward of that layer alone on its real input (largest first). Prints one JSON object.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_ms(fn, repeat):
    fn()
    fn()  # traced and warmed
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1000 * sorted(times)[len(times) // 2]


def per_layer(model, x, repeat, tf):
    """[(layer name, class, forward ms, forward+backward ms)] of each layer with weights, on its real input."""
    import keras
    rows = []
    for layer in model.layers:
        if not layer.weights or isinstance(layer, keras.layers.InputLayer):
            continue
        sub = keras.Model(model.inputs, layer.input)
        inp = tf.constant(sub(x, training=True))

        @tf.function
        def fwd(layer=layer, inp=inp):
            return layer(inp, training=True)

        @tf.function
        def fwd_bwd(layer=layer, inp=inp):
            with tf.GradientTape() as tape:
                tape.watch(inp)
                y = tf.reduce_sum(tf.cast(layer(inp, training=True), tf.float32))
            return tape.gradient(y, [inp, *layer.trainable_weights])

        rows.append((layer.name, type(layer).__name__, round(cpu_ms(fwd, repeat), 2),
                     round(cpu_ms(fwd_bwd, repeat), 2)))
    return sorted(rows, key=lambda r: -r[3])


def profile(arch, a, tf, keras, wk):
    shape = (64, 64, 3)
    if arch == "dcgan":
        critic, generator = wk.DCGANCritic(shape, base_filters=a.width), wk.DCGANGenerator(100, shape,
                                                                                          base_filters=a.width)
    else:
        critic, generator = wk.ResNetCritic(shape, base_filters=a.width), wk.ResNetGenerator(100, shape,
                                                                                            base_filters=a.width)
    gan = wk.WGAN(critic, generator, lipschitz="gp", n_critic=a.n_critic, seed=0)
    gan.compile(critic_optimizer=keras.optimizers.Adam(1e-4), generator_optimizer=keras.optimizers.Adam(1e-4))
    z = tf.random.normal((a.batch, 100))
    real = tf.random.uniform((a.batch,) + shape, -1, 1)
    gen_vars, crit_vars = generator.trainable_weights, critic.trainable_weights

    @tf.function
    def g_fwd():
        return generator(z, training=True)

    @tf.function
    def g_fwd_bwd():  # the generator iteration: G forward, C forward, both backward, G's gradients
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(critic(generator(z, training=True), training=True))
        return tape.gradient(loss, gen_vars)

    @tf.function
    def c_fwd_bwd():
        fake = generator(z, training=True)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(critic(fake, training=True)) - tf.reduce_mean(critic(real, training=True))
        return tape.gradient(loss, crit_vars)

    @tf.function
    def c_gp():  # the same plus the penalty: its input gradient, then the gradient of that (double backward)
        fake = generator(z, training=True)
        with tf.GradientTape() as tape:
            penalty, _ = wk.gradient_penalty(critic, real, fake, seed=tf.constant([1, 2]))
            loss = tf.reduce_mean(critic(fake, training=True)) - tf.reduce_mean(critic(real, training=True))
            loss = loss + 10.0 * penalty
        return tape.gradient(loss, crit_vars)

    data = tf.data.Dataset.from_tensor_slices(tf.random.uniform((a.batch * a.n_critic * 4,) + shape, -1, 1))
    batches = iter(data.batch(a.batch * a.n_critic).repeat())
    step = tf.function(lambda x: gan.train_step(x))
    out = {"generator_params": generator.count_params(), "critic_params": critic.count_params(),
           "generator_forward_ms": cpu_ms(g_fwd, a.repeat),
           "generator_iteration_ms": cpu_ms(g_fwd_bwd, a.repeat),
           "critic_iteration_no_gp_ms": cpu_ms(c_fwd_bwd, a.repeat),
           "critic_iteration_gp_ms": cpu_ms(c_gp, a.repeat),
           "train_step_ms": cpu_ms(lambda: step(next(batches)), a.repeat)}
    out["gp_share_of_critic_iteration"] = round(1 - out["critic_iteration_no_gp_ms"] / out["critic_iteration_gp_ms"], 3)
    out["generator_layers"] = per_layer(generator, z, a.repeat, tf)[:a.top]
    out["critic_layers"] = per_layer(critic, real, a.repeat, tf)[:a.top]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--n_critic", type=int, default=2)
    p.add_argument("--precision", default="float32")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--top", type=int, default=8, help="layers listed per network")
    p.add_argument("--arch", default="dcgan,resnet")
    a = p.parse_args()
    import keras
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.config.set_dtype_policy(a.precision)
    import wgan_keras as wk
    result = {"cpu": "see /proc/cpuinfo", "batch": a.batch, "width": a.width, "precision": a.precision}
    with open("/proc/cpuinfo") as f:
        result["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    for arch in a.arch.split(","):
        result[arch] = profile(arch, a, tf, keras, wk)
        print(json.dumps({arch: result[arch]}), flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
