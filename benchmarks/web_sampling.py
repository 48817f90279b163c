"""The web page in headless Chromium (CPU, LiteRT.js on Wasm): time from page load to the first grid,
time per grid, and which --quantize modes LiteRT.js runs (with the error of each one it refuses).

    python benchmarks/web_sampling.py --checkpoint run.keras [--modes float32,int8] [--batch_sizes 1,64]
        [--num 64] [--loads 3] [--grids 10] [--screenshot docs/figures/web_page.png] [--json out.json]

Each mode and batch is exported with `wgan-export --format web`, served from 127.0.0.1, and opened
`--loads` times in a fresh Chromium profile (cold HTTP and Wasm caches): first grid = performance.now()
when the first grid is drawn (milliseconds since navigation started: HTML, module, LiteRT.js and its
Wasm, the model, one grid). Then `--grids` more grids by seed (z, every fixed batch, pixels, canvas).
Agreement = share of the page's pixels equal to LiteRT-in-Python's (wgan_edge.runner) for the same z,
whose time for the same model runs (one thread, as the page's Wasm) is recorded beside the page's.
LiteRT.js comes from $WGAN_LITERT_CACHE (default ~/.cache/wgan-keras/litertjs; see .ci/run).
"""
import argparse
import contextlib
import functools
import http.server
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

CACHE = os.environ.get("WGAN_LITERT_CACHE", os.path.expanduser("~/.cache/wgan-keras/litertjs"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(root):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(10)


@contextlib.contextmanager
def chromium(size="1000,820"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    with tempfile.TemporaryDirectory(prefix="wgan-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={size}",
                    f"--user-data-dir={profile}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        driver.set_script_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()


def load(driver, url, timeout=120):
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    WebDriverWait(driver, timeout, 0.02).until(lambda d: d.execute_script("return window.wgan && wgan.state")
                                               != "loading")
    return driver.execute_script("return {state: wgan.state, error: wgan.error, timings: wgan.timings}")


def export(checkpoint, mode, batch, out):
    """`wgan-export --format web`; for a mode the command refuses (wgan_export.web.REFUSED) the same files
    by hand (--format tflite into the folder, then the page), to see what LiteRT.js itself says."""
    from wgan_export import main, web
    refused = web.refusal(mode)
    if refused:
        os.makedirs(out)
    args = ["--checkpoint", checkpoint, "--quantize", mode, "--batch_size", str(batch), "--format",
            "tflite" if refused else "web", "--out", os.path.join(out, web.MODEL) if refused else out]
    with contextlib.redirect_stdout(sys.stderr):
        if main.main(args):
            raise SystemExit(f"export {mode} failed")
    if refused:
        web.write_page(out)


def agreement(driver, site, num):
    """Share of the page's grid pixels for seed 0 equal to LiteRT-in-Python's for the same z."""
    from wgan_edge.contract import latent_vectors
    from wgan_edge.png import image_grid
    from wgan_edge.runner import TFLiteGenerator
    runner = TFLiteGenerator(os.path.join(site, "generator.tflite"))
    expected = image_grid(runner(latent_vectors(num, runner.latent_dim, 0))["pixels"])
    shown = driver.execute_async_script("const done = arguments[0]; wgan.sample('0').then("
                                        "(g) => done(Array.from(g.data)))")
    shown = np.array(shown, np.uint8).reshape(expected.shape)
    return float(np.mean(shown == expected)), int(np.abs(shown.astype(int) - expected).max())


def python_ms(site, num, repeats=10):
    """The same grid's model runs in LiteRT-in-Python, one thread like the page's Wasm (median ms)."""
    import time

    from wgan_edge.contract import latent_vectors
    from wgan_edge.runner import TFLiteGenerator
    runner = TFLiteGenerator(os.path.join(site, "generator.tflite"), num_threads=1)
    z = latent_vectors(num, runner.latent_dim, 0)
    runner(z)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        runner(z)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def measure(site_url, site, args):
    first, per_grid, row = [], [], {}
    for i in range(args.loads):
        with chromium() as driver:
            state = load(driver, f"{site_url}/index.html?num={args.num}&seed=0")
            if state["state"] != "ready":
                return {"runs": False, "error": state["error"]}
            first.append(state["timings"]["firstGridMs"])
            for seed in range(1, args.grids + 1):
                driver.execute_async_script(f"const done = arguments[0]; wgan.sample('{seed}').then(() => done())")
            per_grid += driver.execute_script("return wgan.timings.gridMs")[1:]
            if i == 0:
                row["pixels_equal"], row["max_level_diff"] = agreement(driver, site, args.num)
                row["python_litert_ms_1thread"] = python_ms(site, args.num)
            if i == 0 and args.screenshot and "shot" not in args.__dict__:
                driver.execute_script("document.getElementById('walk').value = 50;"
                                      "document.getElementById('walk').dispatchEvent(new Event('input'))")
                driver.save_screenshot(args.screenshot)
                args.shot = True
    row.update(runs=True, first_grid_ms=float(np.median(first)), first_grid_ms_all=first,
               grid_ms=float(np.median(per_grid)), grid_ms_min=float(np.min(per_grid)))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--modes", default="float32,float16,dynamic,int8,int16x8,full_int8,qat")
    parser.add_argument("--batch_sizes", default="1,64", help="batches timed for float32 and int8 (others: 1)")
    parser.add_argument("--num", type=int, default=64)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--grids", type=int, default=10)
    parser.add_argument("--screenshot")
    parser.add_argument("--json")
    args = parser.parse_args()
    chromium_version = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    results = {"cpu": cpu, "cores": os.cpu_count(), "chromium": chromium_version.strip(), "num": args.num,
               "loads": args.loads, "grids": args.grids, "command": " ".join(sys.argv), "modes": {}}
    with tempfile.TemporaryDirectory(prefix="wgan-web-bench-") as root, serve(root) as url:
        for mode in args.modes.split(","):
            batches = [int(b) for b in args.batch_sizes.split(",")] if mode in ("float32", "int8") else [1]
            for batch in batches:
                name = f"{mode}_b{batch}"
                site = os.path.join(root, name)
                export(args.checkpoint, mode, batch, site)
                os.symlink(os.path.join(CACHE, "node_modules"), os.path.join(site, "node_modules"))
                results["modes"][name] = row = measure(f"{url}/{name}", site, args)
                results["litert_js"] = json.load(open(os.path.join(site, "package.json")))["dependencies"]
                print(name, json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
