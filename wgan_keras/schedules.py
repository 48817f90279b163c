"""How many critic iterations precede each generator iteration."""
from keras import ops

from wgan_keras.choices import SCHEDULES


def critic_iterations_for(generator_iteration, n_critic=5, schedule="paper"):
    """Critic iterations to run before generator iteration `generator_iteration` (0-based).

    "paper": always `n_critic` (Algorithm 1). "reference": 100 for the first 25
    generator iterations and for every 500th, else `n_critic` -- the authors' code,
    which trains the critic close to optimality before the generator moves.
    Works on Python ints and on tensors.
    """
    if schedule == "paper":
        return n_critic
    if schedule != "reference":
        raise ValueError(f"schedule must be one of {SCHEDULES}, got schedule={schedule!r}")
    if isinstance(generator_iteration, int):
        return 100 if generator_iteration < 25 or generator_iteration % 500 == 0 else n_critic
    heavy = ops.logical_or(generator_iteration < 25, ops.equal(generator_iteration % 500, 0))
    return ops.where(heavy, 100, n_critic)
