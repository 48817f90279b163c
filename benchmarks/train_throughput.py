#!/usr/bin/env python3
"""Training throughput of wgan_keras vs a plain PyTorch loop.

Both train "DCGAN-32" (generator z(128) -> Dense 4*4*256 -> 3 ConvT -> 32x32x1,
critic 3 Conv(4x4, s2) -> Dense 1) with batch m=64, n_critic=5, RMSProp(5e-5)
and weight clipping at 0.01, on random data in [-1, 1]. Every round runs the
PyTorch baseline (/work/shared/baselines/torch_wgan_baseline.py) and then each
Keras variant, each in its own subprocess so that their thread pools never run
at the same time; the ratio of each variant to the torch run of the *same round*
is reported, and the median over rounds. The machine is shared: compare ratios.

Variants are names joined by "+": "graph" (tf.function, no XLA), "xla" (jit_compile=True),
"spe<N>" (steps_per_execution=N), "intra<N>"/"inter<N>" (tf.config.threading), "eigen" (oneDNN
off: TensorFlow 2.21's own default on plain AVX2 CPUs), "bf16" (the "mixed_bfloat16" Keras policy:
bf16 compute, float32 variables, clipping and losses), "default" or "cli" (what `wgan-train` runs:
oneDNN on through `wgan_keras.cpu.use_onednn`, WGAN.compile's defaults), "api" (the README's quick
start as a user runs it: Keras imported first, TF_ENABLE_ONEDNN_OPTS unset, so whatever TensorFlow
picks on this CPU), "caller" (TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD=1), "isa512bf16" (oneDNN
capped at AVX512-BF16 without AMX,
ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16: a stand-in for AMD Zen 4 on an AMX machine). "jax" and
"keras-torch" run the same WGAN under KERAS_BACKEND=jax (jit, XLA) and =torch (eager autograd);
they combine with "bf16" ("jax+bf16"), not with the TensorFlow-only parts. `--torch_bf16` adds a
like-for-like baseline: the same PyTorch loop run under `torch.autocast("cpu", torch.bfloat16)`.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/train_throughput.py --rounds 3 \
        --variants default,bf16 --torch_bf16 --json /tmp/throughput.json
    python benchmarks/train_throughput.py --rounds 3 --variants default,jax,keras-torch  # the backends
    taskset -c 1 python benchmarks/train_throughput.py --clock cpu --variants api,cli,api+eigen  # user vs CLI

It also reports effective GFLOP/s of one generator iteration (FLOPs counted
analytically from the layer shapes, see `flops_per_generator_iteration`) and
the fp32 and bf16 matmul peaks measured in the same run (bf16 variants are
set against the bf16 peak).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BASELINE = os.environ.get("WGAN_TORCH_BASELINE", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "baselines", "torch_wgan_baseline.py"))
BATCH, N_CRITIC, LATENT, CLIP, LR = 64, 5, 128, 0.01, 5e-5


# ----------------------------------------------------------------- FLOP count

def forward_macs(model):
    """Multiply-accumulates of one forward pass of one sample through Dense/Conv2D/Conv2DTranspose."""
    import keras
    macs = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Dense):
            macs += int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
        elif isinstance(layer, keras.layers.Conv2DTranspose):  # every input pixel scatters a k*k*Cout patch
            kh, kw, cout, cin = layer.kernel.shape
            h, w = layer.input.shape[1:3]
            macs += h * w * kh * kw * cin * cout
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            macs += h * w * kh * kw * cin * cout
    return int(macs)


def flops_per_generator_iteration(generator, critic, batch=BATCH, n_critic=N_CRITIC):
    """FLOPs (2 per MAC) of one generator iteration of Algorithm 1, convolutions and dense layers only.

    Backward of a layer = 2x its forward (input gradient + weight gradient), 1x where
    only the input gradient is needed (the frozen critic in the generator step).
    Critic iteration: G fwd on m + critic fwd on 2m + critic bwd on 2m.
    Generator iteration: G fwd + critic fwd + critic input-bwd + G bwd, on m.
    """
    g, c = 2 * forward_macs(generator), 2 * forward_macs(critic)
    critic_step = batch * (g + 2 * c + 2 * 2 * c)
    generator_step = batch * (g + c + c + 2 * g)
    return n_critic * critic_step + generator_step


# -------------------------------------------------------------------- workers

def configure_threads(variant):
    import tensorflow as tf
    for part in variant.split("+"):
        if part.startswith("intra"):
            tf.config.threading.set_intra_op_parallelism_threads(int(part[5:]))
        elif part.startswith("inter"):
            tf.config.threading.set_inter_op_parallelism_threads(int(part[5:]))


def keras_backend(variant):
    """The Keras backend a variant runs on (each worker is its own process: Keras picks it at import)."""
    parts = variant.split("+")
    return "jax" if "jax" in parts else "torch" if "keras-torch" in parts else "tensorflow"


def keras_worker(variant, iters, warmup):
    import keras  # first, as the README's quick start has it (`import keras, wgan_keras as wk`)
    import numpy as np
    import tensorflow as tf  # tf.data feeds every backend

    import wgan_keras  # noqa: F401
    if keras_backend(variant) == "tensorflow":
        configure_threads(variant)
    from wgan_keras.cpu import onednn_enabled
    from wgan_keras.data.pipeline import in_memory
    from wgan_keras.distribute import set_precision
    from wgan_keras.models import DCGANCritic, DCGANGenerator
    from wgan_keras.wgan import WGAN

    parts = variant.split("+")
    if "bf16" in parts:
        set_precision("mixed_bfloat16")
    kwargs = {}
    if "graph" in parts:
        kwargs["jit_compile"] = False
    if "xla" in parts:
        kwargs["jit_compile"] = True
    spe = 1
    for part in parts:
        if part.startswith("spe"):
            spe = int(part[3:])
            kwargs["steps_per_execution"] = spe
    keras.utils.set_random_seed(0)
    generator = DCGANGenerator(latent_dim=LATENT, image_shape=(32, 32, 1), base_filters=64)
    critic = DCGANCritic((32, 32, 1), base_filters=64)
    gan = WGAN(critic, generator, n_critic=N_CRITIC, clip_value=CLIP, seed=0)
    gan.compile(critic_optimizer=keras.optimizers.RMSprop(LR, rho=0.99, epsilon=1e-8),
                generator_optimizer=keras.optimizers.RMSprop(LR, rho=0.99, epsilon=1e-8), **kwargs)
    data = np.random.default_rng(0).uniform(-1, 1, (BATCH * N_CRITIC * 20, 32, 32, 1)).astype("float32")
    # Autotuning off, as the package's own pipelines have it: with it on, TF 2.21 can block for seconds
    # when `fit` destroys the iterator (docs/benchmarks.md section 4), which here cut some runs to half speed.
    ds = in_memory(tf.data.Dataset.from_tensor_slices(data).batch(BATCH, drop_remainder=True).repeat())
    warmup = max(spe, -(-warmup // spe) * spe)
    iters = max(spe, -(-iters // spe) * spe)
    gan.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0)  # trace + compile
    start, cpu_start = time.perf_counter(), time.process_time()
    gan.fit(ds, epochs=1, steps_per_epoch=iters, verbose=0)
    dt, cpu_dt = time.perf_counter() - start, time.process_time() - cpu_start
    flops = flops_per_generator_iteration(generator, critic)
    print(json.dumps({"framework": "keras", "variant": variant, "jit_compile": bool(gan.jit_compile),
                      "onednn": onednn_enabled() if keras_backend(variant) == "tensorflow" else None,
                      "steps_per_execution": spe, "iters": iters, "gen_iters_per_s": iters / dt,
                      "cpu_gen_iters_per_s": iters / cpu_dt,
                      "gflop_per_iter": flops / 1e9, "gflops": flops / 1e9 * iters / dt}))


def peak_worker(dtype="float32", n=2048, reps=10, clock="wall"):
    """Matmul peak of TensorFlow (with oneDNN, as the package runs it) on this machine, best of `reps`.
    clock "cpu": per CPU second of this process (on a core other jobs share, wall time counts theirs too)."""
    import tensorflow as tf

    timer = time.process_time if clock == "cpu" else time.perf_counter
    a = tf.random.normal((n, n), dtype=dtype)
    b = tf.random.normal((n, n), dtype=dtype)
    mm = tf.function(lambda a, b: tf.matmul(a, b))
    mm(a, b).numpy()
    best = float("inf")
    for _ in range(reps):
        start = timer()
        mm(a, b).numpy()
        best = min(best, timer() - start)
    row = {"framework": "matmul", "dtype": dtype, "n": n, "gflops": 2 * n ** 3 / best / 1e9}
    print(json.dumps(row if clock == "wall" else {**row, "clock": clock}))


def torch_worker(baseline_args, bf16=False):
    """The baseline loop, unchanged (with `bf16`, under `torch.autocast("cpu", torch.bfloat16)`, PyTorch's
    own mixed precision), its timed iterations also counted in CPU seconds."""
    import contextlib
    import importlib.util
    import io
    import types

    import torch
    spec = importlib.util.spec_from_file_location("torch_wgan_baseline", BASELINE)
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    marks = []

    def perf_counter():  # the loop reads the clock before and after its timed iterations
        marks.append(time.process_time())
        return time.perf_counter()

    baseline.time = types.SimpleNamespace(perf_counter=perf_counter)
    sys.argv = [BASELINE] + baseline_args
    out = io.StringIO()
    with contextlib.redirect_stdout(out), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        baseline.main()
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    result["cpu_gen_iters_per_s"] = int(baseline_args[baseline_args.index("--iters") + 1]) / (marks[-1] - marks[0])
    print(json.dumps(result))


def run_child(args, timeout, variant=""):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND=keras_backend(variant))
    # oneDNN on, as `import wgan_keras` sets it before TensorFlow loads; set here because the workers
    # import TensorFlow first (import order). "eigen": TensorFlow's own CPU kernels (TF 2.21's default).
    env["TF_ENABLE_ONEDNN_OPTS"] = "0" if "eigen" in variant.split("+") else "1"
    if "api" in variant.split("+") and "eigen" not in variant.split("+"):
        env.pop("TF_ENABLE_ONEDNN_OPTS")  # as a user's shell has it: TensorFlow's own choice for this CPU
    proc = subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=timeout, env=env)
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{args} failed:\n{proc.stderr[-3000:]}")


def baseline_args(a):
    return ["--iters", str(a.iters), "--warmup", str(a.warmup), "--batch", str(BATCH), "--n_critic", str(N_CRITIC),
            "--clip", str(CLIP), "--lr", str(LR)]


def precision(variant):
    """"bfloat16" for bf16 variants ("bf16", "bf16+xla", "torch-bf16"), else "float32"."""
    return "bfloat16" if "bf16" in variant.replace("-", "+").split("+") else "float32"


def summarize(runs, name, torch_name, key="gen_iters_per_s"):
    """Median it/s of one variant, and its median per-round ratio to the `torch_name` run of the same round.
    key: "gen_iters_per_s" (wall clock) or "cpu_gen_iters_per_s" (per CPU second of the process)."""
    mine = [r for r in runs if r["variant"] == name]
    base = {r["round"]: r[key] for r in runs if r["variant"] == torch_name}
    ratios = [r[key] / base[r["round"]] for r in mine]
    return {"variant": name, "clock": key, "median_gen_iters_per_s": statistics.median(r[key] for r in mine),
            "median_ratio": statistics.median(ratios), "ratios": [round(x, 3) for x in ratios]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=10, help="timed generator iterations per run")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--variants", default="graph,xla,default", help="comma-separated Keras variants")
    p.add_argument("--torch_bf16", action="store_true", help="also time the baseline under bf16 autocast")
    p.add_argument("--json", help="write all runs and the summary here")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what the summary divides by: wall seconds, or the process's CPU seconds (a core shared "
                        "with other work: pin with taskset -c N, so each run is one core's work)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=1200)
    a = p.parse_args()
    if a.worker in ("peak", "peak-bfloat16"):
        return peak_worker("bfloat16" if a.worker == "peak-bfloat16" else "float32")
    if a.worker in ("torch", "torch-bf16"):
        return torch_worker(baseline_args(a), bf16=a.worker == "torch-bf16")
    if a.worker:
        return keras_worker(a.worker, a.iters, a.warmup)

    here = os.path.abspath(__file__)
    variants = a.variants.split(",")
    torch_variants = ["torch"] + (["torch-bf16"] if a.torch_bf16 else [])
    peaks = {"float32": [], "bfloat16": []}

    def measure_peaks():
        for dtype, worker in (("float32", "peak"), ("bfloat16", "peak-bfloat16")):
            if dtype == "bfloat16" and not bf16_peak_wanted(variants + torch_variants):
                continue
            peaks[dtype].append(run_child([here, "--worker", worker], a.timeout)["gflops"])

    measure_peaks()
    runs = []
    for r in range(a.rounds):
        for tv in torch_variants:
            run = run_child([here, "--worker", tv, "--iters", str(a.iters), "--warmup", str(a.warmup)], a.timeout)
            run.update(round=r, variant=tv)
            runs.append(run)
            print(f"round {r}: {tv} {run['gen_iters_per_s']:.3f} it/s, {run['cpu_gen_iters_per_s']:.3f} per CPU-s",
                  flush=True)
        for v in variants:
            run = run_child([here, "--worker", v, "--iters", str(a.iters), "--warmup", str(a.warmup)], a.timeout, v)
            run["round"] = r
            runs.append(run)
            print(f"round {r}: {v} {run['gen_iters_per_s']:.3f} it/s, {run['cpu_gen_iters_per_s']:.3f} per CPU-s",
                  flush=True)
    measure_peaks()
    peak = {dtype: max(values) for dtype, values in peaks.items() if values}

    gflop_per_iter = next(r["gflop_per_iter"] for r in runs if r["framework"] == "keras")
    key = "cpu_gen_iters_per_s" if a.clock == "cpu" else "gen_iters_per_s"
    summary = [summarize(runs, tv, "torch", key) for tv in torch_variants]
    for v in variants:
        s = summarize(runs, v, "torch", key)
        if a.torch_bf16:  # like for like: bf16 against bf16, fp32 against fp32
            s["median_ratio_same_precision"] = summarize(
                runs, v, "torch-bf16" if precision(v) == "bfloat16" else "torch", key)["median_ratio"]
        summary.append(s)
    for s in summary:
        s["precision"] = precision(s["variant"])
        s["gflops"] = s["median_gen_iters_per_s"] * gflop_per_iter
        s["onednn"] = next((r.get("onednn") for r in runs if r["variant"] == s["variant"]), None)
        s["fraction_of_peak"] = s["gflops"] / peak[s["precision"]]

    print(f"\n{a.clock} clock. DCGAN-32, m={BATCH}, n_critic={N_CRITIC}, {a.rounds} rounds x {a.iters} generator "
          f"iterations, "
          f"{gflop_per_iter:.1f} GFLOP per generator iteration; matmul peak fp32 {peak['float32']:.1f}, "
          f"bf16 {peak.get('bfloat16', float('nan')):.1f} GFLOP/s")
    print(f"{'variant':<20} {'it/s (median)':>14} {'vs torch fp32':>14} {'vs torch, same prec.':>21} "
          f"{'GFLOP/s':>8} {'% peak':>7} {'oneDNN':>6}  ratios")
    for s in summary:
        same = 1.0 if s["variant"] in torch_variants else s.get("median_ratio_same_precision", float("nan"))
        print(f"{s['variant']:<20} {s['median_gen_iters_per_s']:>14.3f} {s['median_ratio']:>14.2f} {same:>21.2f} "
              f"{s['gflops']:>8.1f} {100 * s['fraction_of_peak']:>6.1f}% {str(s['onednn']):>6}  {s['ratios']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": runs, "summary": summary, "matmul_peak_gflops": peak,
                       "gflop_per_generator_iteration": gflop_per_iter, "rounds": a.rounds, "iters": a.iters,
                       "clock": a.clock, "variants": variants, "cpu": cpu_model(), "isa_caps": isa_caps(),
                       "date": time.strftime("%Y-%m-%d %H:%M:%S")},
                      f, indent=1)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        info = f.read()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return {"model": name, "cores": len(os.sched_getaffinity(0)),
            "isa": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]}


# An AVX2 CPU stood in for on a newer one: each library's kernels held to AVX2 (every child inherits them),
#   ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/...
# with the "eigen" variants for TensorFlow's own choice there (it leaves oneDNN off on AVX2 CPUs).
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY")


def isa_caps():
    """The instruction-set caps this run's libraries were held to ({} when none: the CPU's own)."""
    return {k: os.environ[k] for k in ISA_CAPS if k in os.environ}


def bf16_peak_wanted(variants):
    """Whether to measure the bf16 matmul peak: oneDNN held below bf16 hardware has no bf16 matmul at all
    (the worker aborts), so only when it is not held there or a bf16 variant needs the peak anyway."""
    return "ONEDNN_MAX_CPU_ISA" not in isa_caps() or any(precision(v) == "bfloat16" for v in variants)


if __name__ == "__main__":
    main()
