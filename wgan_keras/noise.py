"""Training noise from stateless seeds: (seed, counter, stream) fixes every draw."""
import tensorflow as tf

# Independent streams, each indexed by an iteration counter.
CRITIC_Z, GENERATOR_Z, GP_ALPHA, EVAL_Z = range(4)


def replica_noise(shape, seed, stream, counter):
    """This replica's slice of one *global*-batch draw: N(0, 1), or U[0, 1) for GP_ALPHA.

    Seeds indexed by the saved iteration counters make a resumed run draw exactly
    the noise of an uninterrupted one, and under tf.distribute each replica takes
    its slice of the same global draw, so N replicas reproduce a single-device run.
    """
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    counter = tf.cast(tf.math.floormod(tf.cast(counter, tf.int64) * 4 + stream, 2**31 - 1), tf.int32)
    seed = tf.stack([tf.constant(seed, tf.int32), counter])
    local = shape[0]
    draw = tf.random.stateless_uniform if stream == GP_ALPHA else tf.random.stateless_normal
    values = draw([local * replicas] + list(shape[1:]), seed=seed)
    if replicas == 1:
        return values
    return values[tf.cast(ctx.replica_id_in_sync_group, tf.int32) * local:][:local]
