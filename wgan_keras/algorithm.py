"""Algorithm 1 of the WGAN paper in keras.ops: the same code on TensorFlow, JAX and PyTorch.

It is written statefully (`critic(x)`, `optimizer.apply`, `variable.assign`,
`metric.update_state`), as Keras layers are; what differs per backend -- how a
gradient is taken, how noise is drawn, how many replicas sum their gradients --
comes from `plumbing`, one small module per backend in `wgan_keras.backends`. On
JAX that module runs this code inside a `keras.StatelessScope`, which turns every
assignment into a new state value: the stateless `train_step(state, data)` of
Keras 3's JAX trainer.
"""
from keras import ops

from wgan_keras import augment, ema
from wgan_keras.losses import (
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_distance_estimate,
    wasserstein_generator_loss,
)
from wgan_keras.noise import CRITIC_Z, EVAL_Z, GENERATOR_Z, GP_ALPHA
from wgan_keras.schedules import critic_iterations_for


def images(gan, data):
    """The real images of a batch (or of an (images, labels) pair), float32, shape-checked."""
    real = ops.cast(data[0] if isinstance(data, (tuple, list)) else data, "float32")
    if tuple(real.shape[1:]) != gan.sample_shape:
        raise ValueError(f"x: real batches have sample shape {tuple(real.shape[1:])} but the generator makes "
                         f"{gan.sample_shape}; resize the data or build the models for that shape")
    return real


def labels_of(gan, data):
    """The int32 class labels (batch,) of an (images, labels) batch for a conditional WGAN, else None."""
    if gan.num_classes is None:
        return None
    if not isinstance(data, (tuple, list)) or len(data) < 2:
        raise ValueError(f"x: a conditional WGAN (num_classes={gan.num_classes}) trains on (images, labels) "
                         f"batches; pass a dataset of such pairs, or fit(x=images, y=labels)")
    return ops.reshape(ops.cast(data[1], "int32"), [-1])


def generated(gan, generator, z, labels, training):
    """g(z), or g(z, y) for a conditional WGAN."""
    return generator(z if labels is None else [z, labels], training=training)


def scored(gan, x, labels, training):
    """f(x) as float32, or the projection critic's f(x, y)."""
    return ops.cast(gan.critic(x if labels is None else [x, labels], training=training), "float32")


def train_step(gan, data, plumbing):
    """One fit step: n_critic critic iterations, each on its own real batch, then one generator iteration."""
    # (n_critic * m_local, ...) in round-major order, see `group_batches`.
    rounds = ops.split(images(gan, data), gan.n_critic, axis=0)
    labels = labels_of(gan, data)
    label_rounds = [None] * gan.n_critic if labels is None else ops.split(labels, gan.n_critic, axis=0)
    batch = ops.shape(rounds[0])[0]
    step = gan.critic_iterations.value
    before = ops.copy(gan.generator_iterations.value)  # the count now, for the EMA after the step
    for k, (real, y) in enumerate(zip(rounds, label_rounds)):
        critic_step(gan, real, y, batch, step + k, plumbing)
    gan.critic_iterations.assign_add(gan.n_critic)
    # The generator step's labels are the last real batch's: drawn from the data as the critic's are, so the
    # generator is trained on each class as often as the critic judges it (and an imbalanced data set's
    # proportions are kept); no extra random stream to seed, save and reproduce across backends.
    y = label_rounds[-1]

    done = gan.critic_iterations_this_round.value + gan.n_critic
    if gan.critic_schedule == "paper":  # every step ends its round: no where() in the program
        generator_step(gan, batch, None, plumbing, y)
        gan.critic_iterations_this_round.assign(ops.zeros_like(done))
    else:
        needed = critic_iterations_for(gan.generator_iterations.value, gan.n_critic, gan.critic_schedule)
        keep = done >= ops.cast(needed, done.dtype)
        generator_step(gan, batch, keep, plumbing, y)
        gan.critic_iterations_this_round.assign(ops.where(keep, ops.zeros_like(done), done))
    if gan.ema_generator is not None:  # the generator EMA follows each generator update
        ema.step(gan.ema_generator, gan.generator, gan.ema_decay, before, ops.copy(gan.generator_iterations.value))
    return plumbing.logs(gan.metrics)


def critic_step(gan, real, labels, batch, step, plumbing):
    """Algorithm 1, lines 2-8. The fakes are made outside the differentiated function:
    no generator backward pass is traced or run here.

    Conditional: the fakes are asked for the real batch's own labels, example by example. The generated
    pairs then follow the data's class distribution exactly, the projection term <embed(y), phi(x)> compares
    real and generated images of the same classes (like with like), and the gradient penalty's x_hat
    interpolates two images of one class, scored with that class (alpha per example, labels kept)."""
    with plumbing.no_grad():
        z = plumbing.noise(gan, [batch, gan.latent_dim], CRITIC_Z, step)
        fake = generated(gan, gan.generator, z, labels, training=True)
        if gan.augment is not None:  # the critic sees T(x) and T(g(z)), each with its own draw of T
            n = augment.uniforms_needed(gan.augment)
            u = augment.draw(gan, batch, 2 * n, augment.CRITIC_SALT, step, plumbing)
            real = augment.diff_augment(real, gan.augment, u[:, :n])
            fake = augment.diff_augment(fake, gan.augment, u[:, n:])
    alpha = plumbing.noise(gan, [batch], GP_ALPHA, step) if gan.lipschitz == "gp" else None

    def objective():
        # Scores and losses in float32 whatever the dtype policy.
        real_scores = scored(gan, real, labels, training=True)
        fake_scores = scored(gan, fake, labels, training=True)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        penalty = ops.zeros(())
        if alpha is not None:
            critic = gan.critic if labels is None else lambda x, training: gan.critic([x, labels], training=training)
            penalty, _ = gradient_penalty(critic, real, fake, alpha=alpha, input_gradient=plumbing.input_gradient)
            loss = loss + gan.gp_weight * penalty
        # Per-replica mean / replicas: the optimizer sums gradients over replicas.
        scaled = gan.critic_optimizer.scale_loss(loss / plumbing.replicas())
        return scaled, (wasserstein_distance_estimate(real_scores, fake_scores), loss, penalty)

    grads, (w_distance, loss, penalty) = plumbing.gradients(objective, gan.critic.trainable_variables)
    plumbing.apply(gan.critic_optimizer, grads, gan.critic.trainable_variables)  # + WeightClip constraints
    if alpha is not None:
        gan.gradient_penalty_tracker.update_state(penalty)
    gan.w_distance_tracker.update_state(w_distance)
    gan.critic_loss_tracker.update_state(loss)


def generator_step(gan, batch, keep, plumbing, labels=None):
    """Algorithm 1, lines 9-11; with `keep` (a boolean tensor), kept only where it is true.

    tf.distribute forbids an optimizer step inside tf.cond, so a round that must
    not move the generator (the "reference" schedule's 100-iteration critic
    rounds) computes the update and then restores the old values.
    """
    z = plumbing.noise(gan, [batch, gan.latent_dim], GENERATOR_Z, gan.generator_iterations.value)
    u = None if gan.augment is None else augment.draw(
        gan, batch, augment.uniforms_needed(gan.augment), augment.GENERATOR_SALT, gan.generator_iterations.value,
        plumbing)

    def objective():
        fake = generated(gan, gan.generator, z, labels, training=True)
        if u is not None:  # the generator's gradient flows through T
            fake = augment.diff_augment(fake, gan.augment, u)
        fake_scores = scored(gan, fake, labels, training=True)
        loss = wasserstein_generator_loss(fake_scores)
        return gan.generator_optimizer.scale_loss(loss / plumbing.replicas()), loss

    variables = gan.generator.trainable_variables
    if variables:  # else a fixed sampler: only the critic learns (W estimation)
        # Differentiated toward the generator's variables only: the critic stays frozen.
        grads, loss = plumbing.gradients(objective, variables)
        with plumbing.no_grad():
            reverted = [] if keep is None else variables + gan.generator_optimizer.variables
            old = [ops.copy(v.value) for v in reverted]
            plumbing.apply(gan.generator_optimizer, grads, variables)
            for variable, value in zip(reverted, old):
                variable.assign(ops.where(keep, variable.value, value))
    else:
        with plumbing.no_grad():
            loss = objective()[1]
    kept = ops.ones((), "float32") if keep is None else ops.cast(keep, "float32")
    gan.generator_iterations.assign_add(ops.cast(kept, gan.generator_iterations.dtype))
    gan.generator_loss_tracker.update_state(loss, sample_weight=kept)


def test_step(gan, data, plumbing):
    """val_w_distance: E[f(x_val)] - E[f(g(z))] with the current critic, no update."""
    real, labels = images(gan, data), labels_of(gan, data)
    z = plumbing.noise(gan, [ops.shape(real)[0], gan.latent_dim], EVAL_Z, gan.generator_iterations.value)
    with plumbing.no_grad():
        fake = generated(gan, gan.generator, z, labels, training=False)  # for the real batch's labels
        real_scores = scored(gan, real, labels, training=False)
        fake_scores = scored(gan, fake, labels, training=False)
    gan.w_distance_tracker.update_state(wasserstein_distance_estimate(real_scores, fake_scores))
    gan.critic_loss_tracker.update_state(wasserstein_critic_loss(real_scores, fake_scores))
    return plumbing.logs(gan.metrics[:2])
