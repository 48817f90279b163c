#!/usr/bin/env python3
"""How long a command takes to answer `--help` or refuse a bad flag.

Each case runs `python -m <module> argv` in a fresh process --runs times and reports the median wall
time and the process's CPU time (user + sys). The commands parse and validate their flags before
TensorFlow or Keras load, so these are Python start-up, argparse and numpy (wgan-sample) only;
tests/startup_test.py asserts that neither TensorFlow nor Keras is imported on these paths.

    python benchmarks/cli_startup.py --runs 5 --json benchmarks/results/cli_startup.json
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

CASES = [
    ("wgan-train", "wgan_keras.main", ["--help"]),
    ("wgan-train", "wgan_keras.main", ["--preset", "fast", "--help"]),
    ("wgan-train", "wgan_keras.main", ["--seed=-1"]),
    ("wgan-export", "wgan_export.main", ["--help"]),
    ("wgan-export", "wgan_export.main", ["--checkpoint", "missing.keras", "--out", "g.tflite"]),
    ("wgan-sample", "wgan_edge.sample", ["--help"]),
    ("wgan-sample", "wgan_edge.sample", ["--model", "missing.tflite", "--out", "grid.png"]),
]


def once(module, argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json")
    a = p.parse_args()
    rows = []
    for tool, module, argv in CASES:
        times = [once(module, argv) for _ in range(a.runs)]
        wall, cpu = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
        rows.append({"command": " ".join([tool, *argv]), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)})
        print(f"{rows[-1]['command']:<58} {wall:6.2f} s wall  {cpu:6.2f} s CPU", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": a.runs, "median": rows, "python": platform.python_version(), "cpus": os.cpu_count(),
                       "date": time.strftime("%Y-%m-%d %H:%M")}, f, indent=1)


if __name__ == "__main__":
    main()
