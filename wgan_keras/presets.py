"""Named settings: `wgan-train --preset NAME` and `TrainConfig.from_preset(NAME, **overrides)`.

The one place presets are interpreted: `settings` resolves a name (wgan-train's parser defaults and
`--help`, `TrainConfig.from_preset`), `unset_values` says which values of a field a preset may have set
(`TrainConfig.validate`), and `preset_of` is the one matcher (the workdir's "pass it again" hint, the tests).

A preset fills the settings the user did not give; any flag (or keyword) given wins. `config.json`
records the resolved settings, so a run is resumed by the same command, preset included.

* **paper** (the default): Algorithm 1 as published: weight clipping c = 0.01, RMSProp 5e-5, m = 64,
  n_critic = 5, DCGAN width 64.
* **fast**: the best Fréchet distance per CPU-minute on the bundled MNIST subset that we measured
  (docs/benchmarks.md §5: a 5-CPU-minute sweep of precision, width, learning rates, n_critic and Adam's
  beta_1 under the gradient penalty; real digits score 2.2). Judged again at 30 CPU-minutes (§7-7c,
  one Intel Xeon core, 2026-12-03): its 3 seeds reach median FD 30 / 15 / 8.6 at 5 / 10 / 30 minutes (the
  paper defaults: 467 at 5, 146 at 30); DiffAugment, linear LR decay to 0, n_critic 1 and width 48 did not
  beat it over that budget (width 48: raw median 9.0, its EMA 8.1 vs 10.0, behind until ~15 minutes).
"""
# Standard library only, like config.py: wgan-train resolves its preset before TensorFlow loads.
from wgan_edge.cli import ConfigError

PRESETS = {
    "paper": {},
    "fast": dict(lipschitz="gp", base_filters=32, learning_rate=4e-4, generator_learning_rate=2e-4, n_critic=2,
                 adam_beta1=0.5, mixed_precision="auto", ema_decay=0.999),
}


def settings(name):
    """The settings preset `name` fills in; ConfigError names an unknown one."""
    if name not in PRESETS:
        raise ConfigError("preset", f"must be one of {', '.join(PRESETS)}", name)
    return dict(PRESETS[name])


def unset_values(field, default):
    """The values of `field` that do not mean "the user set it": its `default` and any preset's."""
    return [default] + [p[field] for p in PRESETS.values() if field in p]


def held(values, name):
    """How many of preset `name`'s settings `values` (a dict: a config.json, `TrainConfig.to_dict()`) hold."""
    return sum(values.get(k) == v for k, v in PRESETS[name].items())


def preset_of(values):
    """The non-default preset most of whose settings `values` hold (the one holding the most), or None."""
    best = max((name for name in PRESETS if PRESETS[name]), key=lambda name: held(values, name), default=None)
    return best if best is not None and 2 * held(values, best) > len(PRESETS[best]) else None
