#!/usr/bin/env python3
"""64x64 RGB training throughput: wgan-keras's API path against a PyTorch loop of the same model.

Models: DCGANGenerator/DCGANCritic (base_filters 32, `--preset fast`'s width) and ResNetGenerator/
ResNetCritic (base_filters 16, the colour runs' ResNet) at (64, 64, 3); their PyTorch copies are in
`torch_models64.py`, and every run checks that both sides have the same parameter count. Algorithms:
"clip" (the paper's Algorithm 1: RMSProp 5e-5, clip 0.01, m = 64, n_critic = 5) and "gp" (`--preset
fast`'s: gradient penalty 10, Adam 4e-4 / 2e-4 with betas (0.5, 0.9), m = 64, n_critic = 2; no EMA on
either side). Random data in [-1, 1].

Each round runs, per (arch, algo), every variant in its own subprocess: "torch" (the PyTorch loop),
"torch-bf16" (the same under `torch.autocast("cpu", torch.bfloat16)`; "torch-cl", "torch-bf16-cl": in
PyTorch's channels_last memory format, which a plain loop does not set), then the Keras variants: "cli"
(TF_ENABLE_ONEDNN_OPTS=1, what `wgan-train` sets), "cli+bf16" (with the mixed_bfloat16 policy) and "api"
(the README's quick start as a user runs it: the variable unset, Keras imported first). The Keras side is
the Python API: `WGAN(critic, generator)`, `compile`, `fit` on a tf.data of random images.

    TF_CPP_MIN_LOG_LEVEL=2 taskset -c 0 python benchmarks/throughput64.py --clock cpu --rounds 3 \
        --arch dcgan,resnet --algo clip,gp --iters dcgan:clip=3,dcgan:gp=4,resnet:gp=2 --json /tmp/t64.json

(an arch:algo pair missing from --iters is left out: above, the ResNet runs "gp" only). docs/benchmarks.md
§8a has the figures.

Effective GFLOP/s: FLOPs of one generator iteration counted from the layer shapes (Dense and convolutions
only; see `flops`), against the fp32 and bf16 matmul peaks measured at the start and end of the run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_throughput import bf16_peak_wanted, cpu_model, forward_macs, isa_caps, peak_worker  # noqa: E402

BATCH = 64
WIDTH = {"dcgan": 32, "resnet": 16}
N_CRITIC = {"clip": 5, "gp": 2}


def flops(generator, critic, algo, batch=BATCH):
    """FLOPs (2 per MAC) of one generator iteration; a layer's backward is 2x its forward (input and weight
    gradients), 1x through the frozen critic in the generator step. Critic iteration per example: G forward
    + critic forward and backward on real and fake (6C); "gp" adds the critic forward on x_hat (C), its input
    gradient (C) and that gradient's backward (2C: the weight gradient of each W^T product and its input
    gradient), 4C in all; the zero gradients through the ReLU masks are not counted."""
    g, c = 2 * forward_macs(generator), 2 * forward_macs(critic)
    critic_iteration = g + 6 * c + (4 * c if algo == "gp" else 0)
    return batch * (N_CRITIC[algo] * critic_iteration + 3 * g + 2 * c)


def keras_worker(variant, arch, algo, iters, warmup):
    import keras  # first, as the README's quick start has it
    import numpy as np
    import tensorflow as tf

    import wgan_keras as wk
    from wgan_keras.cpu import onednn_enabled

    if "bf16" in variant.split("+"):
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    shape = (64, 64, 3)
    if arch == "dcgan":
        generator = wk.DCGANGenerator(128, shape, base_filters=WIDTH[arch])
        critic = wk.DCGANCritic(shape, base_filters=WIDTH[arch])
    else:
        generator = wk.ResNetGenerator(128, shape, base_filters=WIDTH[arch])
        critic = wk.ResNetCritic(shape, base_filters=WIDTH[arch])
    n = N_CRITIC[algo]
    if algo == "clip":
        gan = wk.WGAN(critic, generator, n_critic=n, clip_value=0.01, seed=0)
        gan.compile(critic_optimizer=keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-8),
                    generator_optimizer=keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-8))
    else:
        gan = wk.WGAN(critic, generator, n_critic=n, lipschitz="gp", seed=0)
        gan.compile(critic_optimizer=keras.optimizers.Adam(4e-4, beta_1=0.5, beta_2=0.9),
                    generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9))
    data = np.random.default_rng(0).uniform(-1, 1, (BATCH * n * 4,) + shape).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(data).batch(BATCH, drop_remainder=True).repeat()
    gan.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0)  # trace
    start, cpu_start = time.perf_counter(), time.process_time()
    gan.fit(ds, epochs=1, steps_per_epoch=iters, verbose=0)
    dt, cpu_dt = time.perf_counter() - start, time.process_time() - cpu_start
    count = {m.name: (sum(int(np.prod(w.shape)) for w in m.trainable_weights), m.count_params())
             for m in (critic, generator)}
    return {"framework": "keras", "onednn": onednn_enabled(), "iters": iters, "gen_iters_per_s": iters / dt,
            "cpu_gen_iters_per_s": iters / cpu_dt, "gflop_per_iter": flops(generator, critic, algo) / 1e9,
            "params": {"critic": count[critic.name], "generator": count[generator.name]}}


def run_child(args, variant, timeout):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if variant.startswith("api"):
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)  # as a user's shell has it
    elif not variant.startswith("torch"):
        env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, capture_output=True, text=True,
                          timeout=timeout, env=env)
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{args} failed:\n{proc.stderr[-3000:]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--arch", default="dcgan,resnet")
    p.add_argument("--algo", default="clip,gp")
    p.add_argument("--variants", default="torch,torch-bf16,cli,cli+bf16,api")
    p.add_argument("--iters", default="dcgan:clip=3,dcgan:gp=4,resnet:clip=1,resnet:gp=2",
                   help="timed generator iterations per run, per arch:algo")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    p.add_argument("--json")
    p.add_argument("--peaks_only", action="store_true", help="measure the matmul peaks by --clock, and stop")
    p.add_argument("--timeout", type=float, default=1200)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args()
    iters = dict(item.split("=") for item in a.iters.split(","))
    if a.worker in ("peak", "peak-bfloat16"):
        return peak_worker("bfloat16" if a.worker == "peak-bfloat16" else "float32")
    if a.worker in ("peak-cpu", "peak-cpu-bfloat16"):
        return peak_worker("bfloat16" if a.worker.endswith("bfloat16") else "float32", clock="cpu")
    if a.worker:
        (arch,), (algo,) = a.arch.split(","), a.algo.split(",")
        n = int(iters[f"{arch}:{algo}"])
        if a.worker.startswith("torch"):
            from torch_models64 import train
            result = train(arch, algo, WIDTH[arch], n, a.warmup, BATCH, N_CRITIC[algo], bf16="bf16" in a.worker,
                           channels_last="cl" in a.worker.split("-"))
        else:
            result = keras_worker(a.worker, arch, algo, n, a.warmup)
        return print(json.dumps(result))

    key = "cpu_gen_iters_per_s" if a.clock == "cpu" else "gen_iters_per_s"
    peaks = {"float32": [], "bfloat16": []}  # by the summary's clock

    def measure_peaks():
        for dtype in ("float32", "bfloat16"):
            if dtype == "bfloat16" and not bf16_peak_wanted(a.variants.split(",")):
                continue
            worker = ("peak-cpu" if a.clock == "cpu" else "peak") + ("-bfloat16" if dtype == "bfloat16" else "")
            peaks[dtype].append(run_child(["--worker", worker], "cli", a.timeout)["gflops"])

    measure_peaks()
    if a.peaks_only:
        return print(json.dumps({"clock": a.clock, "matmul_peaks_gflops": peaks, "cpu": cpu_model(),
                                 "date": time.strftime("%Y-%m-%d %H:%M:%S")}))
    configs = [(arch, algo) for arch in a.arch.split(",") for algo in a.algo.split(",")
               if f"{arch}:{algo}" in iters]  # a pair without an iteration count is left out
    variants = a.variants.split(",")
    runs = []
    for r in range(a.rounds):
        for arch, algo in configs:
            for v in variants:
                try:
                    run = run_child(["--worker", v, "--arch", arch, "--algo", algo, "--iters", a.iters,
                                     "--warmup", str(a.warmup)], v, a.timeout)
                except (RuntimeError, subprocess.TimeoutExpired) as e:  # the other runs go on
                    print(f"round {r} {arch}/{algo} {v} failed: {e}", flush=True)
                    continue
                run.update(round=r, arch=arch, algo=algo, variant=v)
                runs.append(run)
                print(f"round {r} {arch}/{algo} {v}: {run['gen_iters_per_s']:.3f} it/s wall, "
                      f"{run['cpu_gen_iters_per_s']:.3f} per CPU-s, params {run['params']}", flush=True)
                if a.json:  # the runs so far, in case the run is stopped
                    with open(a.json + ".partial", "w") as f:
                        json.dump({"runs": runs, "peaks": peaks}, f)
    measure_peaks()
    peak = {dtype: max(values) for dtype, values in peaks.items() if values}

    summary = []
    for arch, algo in configs:
        mine = [x for x in runs if (x["arch"], x["algo"]) == (arch, algo)]
        torch_run = next(x for x in mine if x["framework"] == "torch")
        keras_run = next((x for x in mine if x["framework"] == "keras"), None) or dict(torch_run, gflop_per_iter=None)
        same = {k: tuple(keras_run["params"][k]) == tuple(torch_run["params"][k]) for k in ("critic", "generator")}
        gflop = keras_run["gflop_per_iter"] or float("nan")  # counted on the Keras models
        for v in variants:
            bf16 = "bf16" in v
            base = {x["round"]: x[key] for x in mine if x["variant"] == ("torch-bf16" if bf16 else "torch")}
            fp32 = {x["round"]: x[key] for x in mine if x["variant"] == "torch"}
            vals = [x for x in mine if x["variant"] == v and x["round"] in base and x["round"] in fp32]
            if not vals:
                continue
            med = statistics.median(x[key] for x in vals)
            summary.append({
                "arch": arch, "algo": algo, "variant": v, "clock": key, "median_gen_iters_per_s": med,
                "ratios_vs_torch_fp32": [round(x[key] / fp32[x["round"]], 3) for x in vals],
                "ratios_vs_torch_same_precision": [round(x[key] / base[x["round"]], 3) for x in vals],
                "gflop_per_iter": gflop, "gflops": med * gflop,
                "fraction_of_peak": med * gflop / peak["bfloat16" if bf16 else "float32"],
                "onednn": vals[0].get("onednn"), "params_equal": same, "params": keras_run["params"]})
    print(f"\n{a.clock} clock; matmul peak fp32 {peak['float32']:.1f}, "
          f"bf16 {peak.get('bfloat16', float('nan')):.1f} GFLOP/s")
    print(f"{'config':<14} {'variant':<11} {'it/s':>7} {'vs torch fp32':>16} {'vs torch same':>16} "
          f"{'GFLOP/s':>8} {'% peak':>7}")
    for s in summary:
        print(f"{s['arch'] + '/' + s['algo']:<14} {s['variant']:<11} {s['median_gen_iters_per_s']:>7.3f} "
              f"{statistics.median(s['ratios_vs_torch_fp32']):>16.2f} "
              f"{statistics.median(s['ratios_vs_torch_same_precision']):>16.2f} {s['gflops']:>8.1f} "
              f"{100 * s['fraction_of_peak']:>6.1f}%  {s['ratios_vs_torch_same_precision']} "
              f"params equal {s['params_equal']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": runs, "summary": summary, "matmul_peak_gflops": peak, "peaks": peaks,
                       "rounds": a.rounds, "iters": iters, "clock": a.clock, "cpu": cpu_model(),
                       "isa_caps": isa_caps(),
                       "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)


if __name__ == "__main__":
    main()
