"""Kill soak: SIGKILL a small `wgan-train` run at random moments, rerun the same command, repeat.

    python benchmarks/kill_soak.py --kills 20 --json benchmarks/results/kill_soak.json

Each round starts the same command in the same workdir, waits until the run has
logged at least one new generator iteration (so the kill lands inside training,
not in the TensorFlow start-up), then either
  * "step":       sleeps a random 0..--max_delay seconds and sends SIGKILL, or
  * "checkpoint": polls the workdir until a checkpoint's temporary file appears
                  (write-then-rename in progress) and sends SIGKILL at once.
After each kill the script checks that checkpoint.keras loads (never a
half-written file) and reads where the run will resume from. Lost work per kill
= last generator iteration logged to metrics.csv before the kill minus the
checkpoint's generator iteration. Finally it lets the run finish and compares
its weights with an uninterrupted run of the same command in a fresh workdir.
"""
import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TMP_PREFIX = ".wgan-keras-tmp-checkpoint.keras-"  # then -p<pid>h<host>-<random> (wgan_edge.atomic)


def command(workdir, args):
    flags = ["--dataset", args.dataset, "--generator_iters", str(args.generator_iters),
             "--checkpoint_every", str(args.checkpoint_every), "--log_every", "1", "--sample_every", "1000000",
             "--seed", str(args.seed), "--workdir", workdir]
    if args.dataset in ("ring8", "grid25", "swissroll"):
        flags += ["--mlp_units", "16", "--latent_dim", "2"]
    else:
        flags += ["--base_filters", "8", "--latent_dim", "8", "--batch_size", "400", "--n_critic", "2"]
    return [sys.executable, "-m", "wgan_keras.main", *flags]


def last_logged(workdir):
    path = os.path.join(workdir, "metrics.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return int(rows[-1]["generator_iterations"]) if rows else 0
    except (OSError, ValueError, KeyError, csv.Error):
        return 0


def checkpoint_iteration(workdir):
    """Generator iteration of checkpoint.keras (loading it proves it is whole), or 0 without one."""
    import keras

    from wgan_keras import WGAN  # noqa: F401  (loads the core: registers the classes)
    path = os.path.join(workdir, "checkpoint.keras")
    if not os.path.exists(path):
        return 0
    model = keras.saving.load_model(path)
    return int(keras.ops.convert_to_numpy(model.generator_iterations))


def weights(workdir):
    import keras

    from wgan_keras import WGAN  # noqa: F401  (loads the core: registers the classes)
    model = keras.saving.load_model(os.path.join(workdir, "checkpoint.keras"))
    return [keras.ops.convert_to_numpy(w) for w in model.weights], \
        int(keras.ops.convert_to_numpy(model.generator_iterations))


def stale_tmp(workdir):
    return sorted(n for n in os.listdir(workdir) if n.startswith(TMP_PREFIX))


def one_kill(workdir, args, rng, mode, log):
    """Starts the run, kills it per `mode`; returns a dict describing the round, or None if it finished."""
    start_ckpt = checkpoint_iteration(workdir)
    before = last_logged(workdir)
    stale = set(stale_tmp(workdir)) if os.path.isdir(workdir) else set()
    proc = subprocess.Popen(command(workdir, args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    t0 = time.time()
    # Wait for training to be under way (past the first, slow, compiled step and checkpoint
    # write of this process): a metrics row past this round's first checkpoint.
    while (proc.poll() is None and last_logged(workdir) <= start_ckpt + args.checkpoint_every
           and time.time() - t0 < args.timeout):
        time.sleep(0.01)
    killed_in = None
    if proc.poll() is None:
        if mode == "checkpoint":
            deadline = time.time() + args.timeout
            while proc.poll() is None and time.time() < deadline:
                if any(n.startswith(TMP_PREFIX) and n not in stale for n in os.listdir(workdir)):
                    killed_in = "checkpoint write"
                    break
                time.sleep(0.0005)
        else:
            time.sleep(rng.uniform(0, args.max_delay))
            killed_in = "training step"
    if proc.poll() is not None:  # it finished (or failed) before we could kill it
        err = proc.stderr.read().decode(errors="replace").strip().splitlines()
        proc.stderr.close()
        return {"finished": proc.returncode, "stderr": err[-1] if err else ""}
    tmp_seen = any(n.startswith(TMP_PREFIX) and n not in stale for n in os.listdir(workdir))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    reached = last_logged(workdir)
    try:
        resume_at = checkpoint_iteration(workdir)
        loads = True
    except Exception as e:  # a half-written checkpoint would land here
        log(f"  checkpoint does not load after the kill: {type(e).__name__}: {e}")
        resume_at, loads = None, False
    return {"mode": mode, "killed_in": killed_in, "tmp_file_present_at_kill": tmp_seen,
            "round_started_at": start_ckpt, "logged_before_round": before, "reached": reached,
            "resumes_from": resume_at, "checkpoint_loads": loads,
            "lost_generator_iterations": None if resume_at is None else reached - resume_at,
            "seconds": round(time.time() - t0, 2)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--dataset", default="ring8", help="ring8 (MLP) or mnist_4k (DCGAN, base_filters 8)")
    p.add_argument("--generator_iters", type=int, default=400)
    p.add_argument("--checkpoint_every", type=int, default=5)
    p.add_argument("--checkpoint_kill_every", type=int, default=3,
                   help="every k-th kill lands during a checkpoint write (0: never)")
    p.add_argument("--max_delay", type=float, default=1.5, help="seconds into training for a 'step' kill")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--kill_seed", type=int, default=1, help="seed of the kill times")
    p.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one, removed)")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args()

    rng = random.Random(args.kill_seed)
    root = args.workdir or tempfile.mkdtemp(prefix="kill-soak-")
    killed, straight = os.path.join(root, "killed"), os.path.join(root, "straight")
    for d in (killed, straight):
        shutil.rmtree(d, ignore_errors=True)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    t_start = time.time()

    rounds = []
    for i in range(args.kills):
        mode = "checkpoint" if args.checkpoint_kill_every and (i + 1) % args.checkpoint_kill_every == 0 else "step"
        r = one_kill(killed, args, rng, mode, log)
        if "finished" in r:
            log(f"kill {i + 1}: the run ended (exit {r['finished']}) before the kill: {r['stderr']}")
            break
        r["kill"] = i + 1
        rounds.append(r)
        log(f"kill {i + 1:2d} ({r['killed_in']:16s}): reached {r['reached']:4d}, resumes from "
            f"{r['resumes_from']}, lost {r['lost_generator_iterations']}, tmp file at kill: "
            f"{r['tmp_file_present_at_kill']}")

    leftovers = stale_tmp(killed)
    final = subprocess.run(command(killed, args), capture_output=True, text=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    ref = subprocess.run(command(straight, args), capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    import numpy as np
    wa, gi_a = weights(killed)
    wb, gi_b = weights(straight)
    diff = max(float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(wa, wb))
    exact = all(np.array_equal(a, b) for a, b in zip(wa, wb))
    with open(os.path.join(killed, "metrics.csv"), newline="") as f:
        logged = [int(r["generator_iterations"]) for r in csv.DictReader(f)]

    lost = [r["lost_generator_iterations"] for r in rounds if r["lost_generator_iterations"] is not None]
    summary = {
        "command": " ".join(command("WORKDIR", args)[1:]),
        "kills": len(rounds),
        "kills_during_checkpoint_write": sum(r["killed_in"] == "checkpoint write" for r in rounds),
        "kills_with_tmp_file_present": sum(r["tmp_file_present_at_kill"] for r in rounds),
        "resumes_ok": sum(r["checkpoint_loads"] for r in rounds),
        "lost_generator_iterations": {"mean": round(sum(lost) / len(lost), 2) if lost else None,
                                      "max": max(lost) if lost else None, "min": min(lost) if lost else None},
        "stale_tmp_entries_before_final_run": len(leftovers),
        "final_exit": final.returncode, "reference_exit": ref.returncode,
        "final_generator_iterations": gi_a, "reference_generator_iterations": gi_b,
        "max_abs_weight_difference": diff, "weights_bitwise_equal": exact,
        "metrics_rows_contiguous": logged == list(range(1, gi_a + 1)),
        "files_lost": 0 if os.path.exists(os.path.join(killed, "checkpoint.keras")) else 1,
        "seconds": round(time.time() - t_start, 1),
        "rounds": rounds,
    }
    print()
    print(f"{'kill':>4} {'killed in':<17} {'reached':>7} {'resumes':>7} {'lost':>4} {'loads':>5}")
    for r in rounds:
        print(f"{r['kill']:>4} {r['killed_in']:<17} {r['reached']:>7} {str(r['resumes_from']):>7} "
              f"{str(r['lost_generator_iterations']):>4} {str(r['checkpoint_loads']):>5}")
    print()
    for k, v in summary.items():
        if k != "rounds":
            print(f"{k:38s} {v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    ok = summary["resumes_ok"] == summary["kills"] and final.returncode == 0 and ref.returncode == 0 \
        and gi_a == gi_b == args.generator_iters and diff <= 1e-5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
