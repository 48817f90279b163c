"""JAX: Keras 3's stateless `train_step(state, data)`, jax.value_and_grad, DataParallel.

`wgan_keras.algorithm` is written statefully; here it runs inside a
`keras.StatelessScope` mapping every variable (model, both optimizers, metrics)
to its value in `state`, so each assignment -- an optimizer update, a WeightClip
constraint, a counter, a metric -- becomes a new value read back into the new
state, as `optimizer.stateless_apply` does for one optimizer. Under
`keras.distribution.DataParallel` jit traces the *global* batch (GSPMD), so
losses, batch statistics and noise are those of one device: `replicas()` is 1.
"""
import contextlib
import sys

import jax
import jax.numpy as jnp
import keras

from wgan_keras.backends.single import logs, noise, replicas, replicas_in_sync  # noqa: F401  (plumbing API)

_plumbing = sys.modules[__name__]
_scopes = []  # (variables, scope) of the StatelessScopes entered while tracing, innermost last


class _Scope(keras.StatelessScope):
    """A StatelessScope that remembers what was assigned, and keeps TensorFlow's gradient
    semantics for `differentiated` variables ({id: traced value}) that are assigned."""

    def __init__(self, variables, values, differentiated=None):
        super().__init__(state_mapping=list(zip(variables, values)))
        self.differentiated = differentiated or {}
        self.assigned = {}

    def add_update(self, update):
        variable, value = update
        traced = self.differentiated.get(id(variable))
        if traced is not None:
            # SpectralNormalization assigns its kernel during the forward pass. On TF's tape a later
            # read is still a read of the variable: the gradient reaches the variable directly, not
            # through the computation of the assigned value. Value `value`, derivative 1 to `traced`:
            value = jax.lax.stop_gradient(value) + (traced - jax.lax.stop_gradient(traced))
        self.assigned[id(variable)] = variable
        super().add_update((variable, value))


@contextlib.contextmanager
def _scope(variables, values, differentiated=None):
    with _Scope(variables, values, differentiated) as scope:
        _scopes.append((variables, scope))
        try:
            yield scope
        finally:
            _scopes.pop()


def _current():
    variables, scope = _scopes[-1]
    return variables, [scope.get_current_value(v) for v in variables]


def _run(groups, state, step):
    """`step()` with each variable of `groups` bound to its value in `state` -> (its result, new state)."""
    variables = [v for group in groups for v in group]
    with _scope(variables, [x for values in state for x in values]) as scope:
        result = step()
    new, i = [], 0
    for group in groups:
        new.append([scope.get_current_value(v) for v in variables[i:i + len(group)]])
        i += len(group)
    return result, tuple(new)


def run_step(gan, step, state, data):
    """`step(gan, data, plumbing)` (an `algorithm` step) as Keras's JAX trainer calls
    train_step(state, data) and test_step(state, data): -> (logs, new state)."""
    groups = [gan.trainable_variables, gan.non_trainable_variables, gan.optimizer.variables, gan.metrics_variables]
    if len(state) == 3:  # evaluate: no optimizer variables in the state
        del groups[2]
    return _run(groups, state, lambda: step(gan, data, _plumbing))


def gradients(objective, variables):
    everything, values = _current()
    assigned = []  # filled while tracing: which variables the objective assigned

    def loss_fn(trainable):
        differentiated = dict(zip(map(id, variables), trainable))
        bound = [differentiated.get(id(v), value) for v, value in zip(everything, values)]
        with _scope(everything, bound, differentiated) as scope:
            loss, aux = objective()
        # What the objective assigned (batch statistics, spectral-norm vectors and kernels) leaves as aux.
        assigned[:] = scope.assigned.values()
        return loss, (aux, [jax.lax.stop_gradient(scope.get_current_value(v)) for v in assigned])

    (_, (aux, updated)), grads = jax.value_and_grad(loss_fn, has_aux=True)([v.value for v in variables])
    for variable, value in zip(assigned, updated):
        variable.assign(value)
    return grads, aux


def input_gradient(fn, x):
    everything, values = _current()

    def total(x):
        # A throwaway scope: assignments made while differentiating toward x would leak tracers.
        with _scope(everything, values):
            return jnp.sum(fn(x))

    return jax.grad(total)(x)


def apply(optimizer, grads, variables):
    optimizer.apply(grads, variables)


def no_grad():
    return contextlib.nullcontext()  # only what `gradients` wraps is differentiated


def default_jit_compile():
    return "auto"


class OptimizerPair:
    """What Keras's JAX trainer reads as `model.optimizer`: the variables of both optimizers.

    The trainer threads `model.optimizer.variables` through the state of each step;
    a WGAN has two optimizers and compiles with none. Not saved: the two are.
    """

    def __init__(self, *optimizers):
        self.optimizers = optimizers
        self.built = True

    @property
    def variables(self):
        return [v for optimizer in self.optimizers for v in optimizer.variables]

    def build(self, variables):
        pass  # WGAN.compile builds each optimizer on its own network's variables


def compiled(gan):
    gan.optimizer = OptimizerPair(gan.critic_optimizer, gan.generator_optimizer)
