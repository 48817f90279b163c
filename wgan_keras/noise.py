"""Training noise from stateless seeds: (seed, counter, stream) fixes every draw."""
from keras import ops

from wgan_keras import philox

# Independent streams, each indexed by an iteration counter.
CRITIC_Z, GENERATOR_Z, GP_ALPHA, EVAL_Z = range(4)
PRIME = 2**31 - 1  # counter words stay non-negative int32


def replica_noise(shape, seed, stream, counter):
    """This replica's slice of one *global*-batch draw: N(0, 1), or U[0, 1) for GP_ALPHA (TensorFlow).

    Seeds indexed by the saved iteration counters make a resumed run draw exactly
    the noise of an uninterrupted one, and under tf.distribute each replica takes
    its slice of the same global draw, so N replicas reproduce a single-device run.
    """
    import tensorflow as tf
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    counter = tf.cast(tf.math.floormod(tf.cast(counter, tf.int64) * 4 + stream, PRIME), tf.int32)
    seed = tf.stack([tf.constant(seed, tf.int32), counter])
    local = shape[0]
    draw = tf.random.stateless_uniform if stream == GP_ALPHA else tf.random.stateless_normal
    values = draw([local * replicas] + list(shape[1:]), seed=seed)
    if replicas == 1:
        return values
    return values[tf.cast(ctx.replica_id_in_sync_group, tf.int32) * local:][:local]


def _add_mod(x, y):  # (x + y) mod PRIME for 0 <= x, y < PRIME, without leaving int32
    return ops.where(x >= PRIME - y, x - (PRIME - y), x + y)


def counter_noise(shape, seed, stream, counter):
    """The same draw as `replica_noise` on one device, in keras.ops for every backend.

    JAX's DataParallel traces the global batch, so one global draw is also what N
    devices need. The counter word (4 * counter + stream) mod (2^31 - 1) is formed
    by modular doubling: JAX has no int64 without x64, and 4 * counter overflows
    int32 after 2^29 iterations.
    """
    word = ops.cast(ops.mod(counter, PRIME), "int32")
    word = _add_mod(word, word)
    word = _add_mod(_add_mod(word, word), stream)
    draw = philox.stateless_uniform if stream == GP_ALPHA else philox.stateless_normal
    return draw(list(shape), (seed, word))
