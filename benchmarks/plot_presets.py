#!/usr/bin/env python3
"""Every preset's Fréchet distance against CPU-minutes on one figure, with the sweep's best
variant beside them.

Reads the rows `benchmarks/quality_cpu_minutes.py` wrote (each run's result.json, gathered into the JSON files
of benchmarks/results/ named in CURVES), and draws, per preset, each seed as a thin line and the median over
seeds at each CPU-minute mark as a thick one, against the real-data floor (1,000 real training digits vs the
held-out ones). FD is the bundled digit network's (`wgan_keras.evaluation`), of the raw generator or, with
--ema, of its EMA. Log scale: the paper defaults sit two orders of magnitude above the floor.

    python benchmarks/plot_presets.py --out docs/figures/presets_fd_vs_cpu_minutes.png

The runs behind each curve (one Intel Xeon core each, AVX-512 + AMX) are the table below; a run of another
session or CPU kind is a different clock, so add curves measured on one machine kind.
"""
import argparse
import json
import os
import statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
FLOOR = 2.2  # FD of 1,000 real training digits vs the held-out 1,000 (quality_cpu_minutes_intel.json "floor")

# preset -> (label, colour, [(results file, keys down to one run's dict holding "rows")...])
CURVES = {
    "paper": ("paper (Algorithm 1 as published)", "tab:gray", [
        ("quality_curve_intel_2026-11-27.json", ("paper", f"paper_s{s}")) for s in range(3)]),
    "fast": ("fast", "tab:blue", [
        ("quality_q28_lr_decay_seed0_intel_2026-12-03.json", ("runs", "preset fast")),
        ("quality_q28_fast_seeds12_intel_2026-12-03.json", ("runs", "seed 1")),
        ("quality_q28_fast_seeds12_intel_2026-12-03.json", ("runs", "seed 2"))]),
    "fast_w48": ("fast --base_filters 48 (runner-up, not a preset)", "tab:red", [
        ("quality_q28_width48_3seeds_intel_2026-12-03.json", ("runs", f"seed {s}")) for s in range(3)]),
}


def runs(files):
    """The rows of each run named in `files`."""
    out = []
    for name, keys in files:
        with open(os.path.join(RESULTS, name)) as f:
            node = json.load(f)
        for key in keys:
            node = node[key]
        out.append(node["rows"])
    return out


def medians(rows_per_seed, key):
    """{mark: (median over the seeds that reached it, how many did)}."""
    marks = [{r["mark"]: r[key] for r in rows if r.get("mark")} for rows in rows_per_seed]
    reached = sorted(set().union(*marks))
    return {m: (statistics.median(seed[m] for seed in marks if m in seed), sum(m in seed for seed in marks))
            for m in reached}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--ema", action="store_true", help="the EMA generator's FD (fd_ema) instead of the raw one's")
    a = p.parse_args()
    if not os.path.isdir(os.path.dirname(os.path.abspath(a.out))):
        p.error(f"--out {a.out}: its folder does not exist")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "fd_ema" if a.ema else "fd"
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for label, color, files in CURVES.values():
        seeds = runs(files)
        for rows in seeds:
            ax.plot([r["cpu_minutes"] for r in rows], [r[key] for r in rows], color=color, alpha=0.25, lw=1)
        med = medians(seeds, key)
        ax.plot(list(med), [v for v, _ in med.values()], "o-", color=color, lw=2.5,
                label=f"{label}, median of {len(seeds)}: " + " / ".join(
                    f"{v:.1f}" if n == len(seeds) else f"{v:.0f} ({n} seed{'s' * (n > 1)})" for v, n in med.values())
                + " at " + "/".join(f"{m:g}" for m in med) + " min")
        print(label, {m: (round(v, 1), n) for m, (v, n) in med.items()})
    ax.axhline(FLOOR, color="k", ls="--", lw=1, label=f"real digits (floor) {FLOOR}")
    ax.axhline(2 * FLOOR, color="k", ls=":", lw=1, label="2x the floor (the 30-minute target)")
    ax.set_yscale("log")
    ax.set_xlim(0, 31)
    ax.set_xlabel("CPU-minutes of one Intel Xeon core (AVX-512, AMX)")
    ax.set_ylabel(("EMA generator's " if a.ema else "") + "Fréchet distance, bundled digit features")
    ax.set_title("MNIST (bundled 4,000), 1,000 samples vs 1,000 held-out digits")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)


if __name__ == "__main__":
    main()
