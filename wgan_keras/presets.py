"""Named settings: `wgan-train --preset NAME` and `TrainConfig.from_preset(NAME, **overrides)`.

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

PRESETS = {
    "paper": {},
    "fast": dict(lipschitz="gp", base_filters=32, learning_rate=4e-4, generator_learning_rate=2e-4, n_critic=2,
                 adam_beta1=0.5, mixed_precision="auto", ema_decay=0.999),
}


def preset_of(values):
    """The name of the first non-default preset whose settings `values` (a dict) all hold, or None."""
    for name, settings in PRESETS.items():
        if settings and all(values.get(k) == v for k, v in settings.items()):
            return name
    return None
