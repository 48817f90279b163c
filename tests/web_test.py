"""`wgan-export --format web`: the page, in Debian's real headless Chromium (Selenium + chromedriver),
draws the same z and the same pixels as wgan-sample (LiteRT in Python) for the same model and seed.

LiteRT.js comes from a cache folder that .ci/run fills with `npm ci` (export/web/package-lock.json):
$WGAN_LITERT_CACHE or ~/.cache/wgan-keras/litertjs; nothing is fetched while the tests run.
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading

import keras
import numpy as np
import pytest

from wgan_edge.cli import ConfigError
from wgan_edge.contract import latent_vectors, philox4x32
from wgan_edge.png import encode_png, image_grid
from wgan_edge.runner import TFLiteGenerator
from wgan_edge.sample import sample_png
from wgan_export import convert, load, web
from wgan_export import main as export_main
from wgan_keras import DCGANGenerator

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
LITERT_CACHE = os.environ.get("WGAN_LITERT_CACHE", os.path.expanduser("~/.cache/wgan-keras/litertjs"))
WGAN_JS = os.path.join(os.path.dirname(web.__file__), "web", "wgan.js")
LATENT = 8
browser_only = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="no chromium/chromedriver on this machine")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8)
    for layer in g.layers:  # BatchNorm statistics as after training: outputs spread over [-1, 1]
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(np.random.default_rng(1).normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(np.random.default_rng(2).uniform(0.5, 2, n).astype("float32"))
    path = tmp_path_factory.mktemp("ckpt") / "g.keras"
    g.save(path)
    return str(path)


EXPORTS = {"float32": "1", "int8": "4"}  # batch 4: the 10-sample grid below ends in a padded batch


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    return tmp_path_factory.mktemp("www")


@pytest.fixture(scope="module")
def site(checkpoint, www):
    """site(mode): the folder the command writes for `mode`, exported on first use (a pytest-xdist worker
    exports only what its tests open), with LiteRT.js linked in."""
    def get(mode):
        path = www / mode
        if not path.exists():
            assert export_main.main(["--checkpoint", checkpoint, "--format", "web", "--quantize", mode,
                                     "--batch_size", EXPORTS[mode], "--fidelity_samples", "8", "--out", str(path)]) == 0
            os.symlink(_node_modules(), path / "node_modules")
        return path
    return get


def _node_modules():
    modules = os.path.join(LITERT_CACHE, "node_modules")
    if not os.path.isfile(os.path.join(modules, "@litertjs", "core", "package.json")):
        pytest.fail(f"LiteRT.js is not installed in {LITERT_CACHE}: run `cp export/web/package*.json {LITERT_CACHE}"
                    f" && npm ci --prefix {LITERT_CACHE}` (.ci/run does)")
    return modules


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(www):
    _node_modules()  # before any browser starts: the one thing CI must have put in place
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 10
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1000,800",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def open_page(driver, url):
    """Loads the page and waits (bounded) until it has drawn its first grid or given up with a message."""
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    WebDriverWait(driver, 30, 0.05).until(lambda d: d.execute_script("return window.wgan && wgan.state") != "loading")
    return driver.execute_script("return {state: wgan.state, error: wgan.error}")


def page_call(driver, call, *args):
    """Awaits `call` (a JS expression over `args`) in the page."""
    return driver.execute_async_script(
        f"const done = arguments[arguments.length - 1], args = arguments;"
        f"Promise.resolve({call}).then(done, (e) => done('error: ' + e.message));", *args)


@browser_only
@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_page_draws_the_pixels_of_litert_in_python(browser, server, site, mode):
    meta = json.loads((site(mode) / web.METADATA).read_text())
    assert meta["quantize"] == mode and meta["tensors"]["z"]["shape"] == [int(EXPORTS[mode]), LATENT]
    state = open_page(browser, f"{server}/{mode}/index.html?seed=5&num=10")
    assert state == {"state": "ready", "error": None}, state
    runner = TFLiteGenerator(str(site(mode) / web.MODEL))
    # The grid the page shows for seed 5: z by the portable rule, pixels by LiteRT.js, laid out as wgan-sample's.
    expected = image_grid(runner(latent_vectors(10, LATENT, 5))["pixels"])
    grid = browser.execute_script("return [wgan.grid.height, wgan.grid.width, wgan.grid.channels, "
                                  "Array.from(wgan.grid.data)]")
    shown = np.array(grid[3], np.uint8).reshape(grid[:3])
    assert shown.shape == expected.shape
    assert np.mean(shown == expected) >= 0.999, np.abs(shown.astype(int) - expected).max()
    # Fixed z handed to the page (z far out in the tails too): the uint8 pixels LiteRT.js computes.
    z = np.concatenate([latent_vectors(6, LATENT, 2**64 - 1), 3.5 * latent_vectors(1, LATENT, 1)])
    pixels = np.array(page_call(browser, "wgan.pixels(args[0])", z.ravel().tolist()), np.uint8)
    reference = runner(z)["pixels"].ravel()
    assert pixels.shape == reference.shape and np.mean(pixels == reference) >= 0.999
    assert reference.std() > 20  # a spread of levels, not a grey field that any model would match
    # The seed field reproduces a grid: another seed differs, the first one comes back.
    other = page_call(browser, "wgan.sample('6').then((g) => Array.from(g.data))")
    again = page_call(browser, "wgan.sample('5').then((g) => Array.from(g.data))")
    assert other != grid[3] and again == grid[3]


@browser_only
def test_new_samples_button_and_latent_walk(browser, server, site):
    site("float32")
    assert open_page(browser, f"{server}/float32/index.html?seed=5&num=4")["state"] == "ready"
    before = browser.execute_script("return Array.from(wgan.grid.data)")
    browser.find_element("id", "new").click()
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30, 0.05).until(lambda d: d.find_element("id", "status").text.startswith("seed ")
                                           and "seed=5" not in d.current_url)
    seed = browser.find_element("id", "seed").get_attribute("value")
    assert f"seed={seed}" in browser.current_url and seed != "5"  # the URL reproduces the new grid
    assert browser.execute_script("return Array.from(wgan.grid.data)") != before
    # The slider's far end is sample 2 of the grid (row 0, column 1: 2 + 30 pixels in), drawn on its canvas as a
    # one-image grid (2 pixels of padding).
    walked = page_call(browser, "(async () => { const w = document.getElementById('walk'); w.value = 100;"
                                "await w.oninput(); const c = document.getElementById('between');"
                                "return Array.from(c.getContext('2d').getImageData(2, 2, 28, 28).data); })()")
    walked = np.array(walked, np.uint8).reshape(28, 28, 4)[..., 0]
    grid = np.array(browser.execute_script("return Array.from(wgan.grid.data)"), np.uint8).reshape(62, 62)  # 2 x 2
    assert np.mean(walked == grid[2:30, 32:60]) >= 0.99 and walked.std() > 0


@pytest.fixture(scope="module")
def conditional_site(tmp_path_factory, www):
    """conditional_site(mode): a conditional generator (3 classes named by its run's classes.json), exported."""
    root = tmp_path_factory.mktemp("conditional")
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8, num_classes=3)
    for layer in g.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(np.random.default_rng(1).normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(np.random.default_rng(2).uniform(0.5, 2, n).astype("float32"))
    g.save(root / "checkpoint.keras")
    (root / "classes.json").write_text(json.dumps({"classes": ["zero", "one", "two"]}))

    def get(mode):
        path = www / f"conditional_{mode}"
        if not path.exists():
            assert export_main.main(["--checkpoint", str(root / "checkpoint.keras"), "--format", "web", "--quantize",
                                     mode, "--batch_size", EXPORTS[mode], "--fidelity_samples", "8",
                                     "--out", str(path)]) == 0
            os.symlink(_node_modules(), path / "node_modules")
        return path
    return get


@browser_only
def test_class_picker_only_for_a_conditional_model(browser, server, site):
    site("float32")
    assert open_page(browser, f"{server}/float32/index.html?num=4")["state"] == "ready"
    assert not browser.execute_script("return document.getElementById('classes').checkVisibility()")


@browser_only
@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_conditional_page_draws_the_class_picked(browser, server, conditional_site, mode):
    path = conditional_site(mode)
    assert open_page(browser, f"{server}/conditional_{mode}/index.html?seed=5&num=10")["state"] == "ready"
    assert browser.execute_script("return document.getElementById('classes').checkVisibility()")
    names = browser.execute_script("return Array.from(document.getElementById('label').options, o => o.text)")
    assert names == ["zero", "one", "two"]
    runner = TFLiteGenerator(str(path / web.MODEL))
    z, grids = latent_vectors(10, LATENT, 5), {}
    for label in (0, 2):  # the picker's class reaches the model's int32 `label` input, as wgan-sample --label
        browser.execute_script(f"document.getElementById('label').value = '{label}'")
        expected = image_grid(runner(z, label)["pixels"])
        shown = np.array(page_call(browser, "wgan.sample('5').then((g) => Array.from(g.data))"), np.uint8)
        grids[label] = shown = shown.reshape(expected.shape)
        # float32: as the unconditional page. int8: XNNPACK's Wasm and x86 int8 kernels round a requantization
        # apart now and then; with the label's GATHER + CONCATENATION measured 99.79 % equal, never 2 levels.
        agree = np.mean(shown == expected)
        assert agree >= (0.999 if mode == "float32" else 0.995), agree
        assert np.abs(shown.astype(int) - expected).max() <= (0 if mode == "float32" else 1)
    assert np.mean(grids[0] != grids[2]) > 0.05  # the class changes the samples
    # The status line names the command that draws what the page shows, class included.
    browser.execute_script("const s = document.getElementById('seed'); s.value = '5';"
                           "s.dispatchEvent(new Event('change'))")
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30, 0.05).until(lambda d: "draws the same grid" in d.find_element("id", "status").text)
    hint = browser.find_element("id", "status").text
    assert f"wgan-sample --model {web.MODEL} --num 10 --seed 5 --label 2 draws the same grid" in hint, hint
    png, _ = sample_png(str(path / web.MODEL), num=10, seed=5, label=2)
    assert png == encode_png(image_grid(runner(z, 2)["pixels"]))  # the hint's command: the grid compared above


@browser_only
def test_litert_from_a_url_or_named_when_missing(browser, server, site, www):
    site("float32")
    nowhere = f"{server}/nowhere/"
    state = open_page(browser, f"{server}/float32/index.html?litert={nowhere}")
    assert state["state"] == "error"
    assert f"could not be loaded from {nowhere}@litertjs/core@{web.litert_version()}/" in state["error"], state
    assert browser.find_element("id", "help").is_displayed()  # how to fix it: npm install, or another URL
    # A URL the user sets, laid out like an npm CDN (<root>/<name>@<version>/): a local mirror here.
    version = web.litert_version()
    for name in ("core", "wasm-utils"):
        os.makedirs(www / "mirror" / "@litertjs", exist_ok=True)
        os.symlink(os.path.join(_node_modules(), "@litertjs", name), www / "mirror" / "@litertjs" / f"{name}@{version}")
    state = open_page(browser, f"{server}/float32/index.html?num=4&litert={server}/mirror/")
    assert state["state"] == "ready", state
    assert f"from {server}/mirror/" in browser.find_element("id", "about").text


@browser_only
def test_litert_js_still_refuses_what_the_export_refuses(browser, server, site, www, checkpoint):
    # web.REFUSED is a measurement of the pinned LiteRT.js: a full_int8 model put in a page by hand.
    full = www / "full_int8"
    shutil.copytree(site("float32"), full, symlinks=True)
    model = convert.convert(load.load_generator(checkpoint), "full_int8")
    (full / web.MODEL).write_bytes(model)
    meta = json.loads((full / web.METADATA).read_text())
    (full / web.METADATA).write_text(json.dumps({**meta, "quantize": "full_int8", "tensors": convert.io_params(model)}))
    state = open_page(browser, f"{server}/full_int8/index.html")
    assert state["state"] == "error" and web.LITERT_ERROR in state["error"] and "z int8" in state["error"], state
    for args in (["--quantize", "full_int8"], ["--quantize", "int8", "--int8_io"]):  # so the command says it first
        with pytest.raises(ConfigError, match="LiteRT.js .* cannot run it in a browser"):
            export_main.main(["--checkpoint", checkpoint, "--format", "web", *args, "--out", str(www / "no")])


@pytest.mark.skipif(not shutil.which("node"), reason="no node on this machine")
def test_node_draws_the_same_z_as_numpy(tmp_path):
    cases = [(64, 128, 0, 0), (5, 7, 2**64 - 1, 0), (3, 3, 123456789012345, 1), (4096, 100, 42, 0)]
    script = tmp_path / "z.mjs"
    script.write_text(f"import {{latentVectors, philox4x32}} from {json.dumps(WGAN_JS)};\n"
                      "import {writeFileSync} from 'node:fs';\n"
                      f"for (const [i, [n, d, s, t]] of {json.dumps([[*c[:2], str(c[2]), c[3]] for c in cases])}"
                      ".entries())\n"
                      f"  writeFileSync({json.dumps(str(tmp_path))} + `/z${{i}}.bin`,\n"
                      "                latentVectors(n, d, BigInt(s), t));\n"
                      "console.log(JSON.stringify(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], "
                      "[0xa4093822, 0x299f31d0])));\n")
    r = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # Random123's known answer for Philox4x32-10, in JavaScript and in numpy.
    known = [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    assert json.loads(r.stdout) == known
    assert [int(w[0]) for w in philox4x32(*[[[c] for c in (0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344)],
                                            (0xa4093822, 0x299f31d0)])] == known
    for i, (n, d, seed, stream) in enumerate(cases):
        z = np.fromfile(tmp_path / f"z{i}.bin", np.float32).reshape(n, d)
        np.testing.assert_array_equal(z.view(np.uint32), latent_vectors(n, d, seed, stream).view(np.uint32))


def test_export_writes_all_or_nothing_and_gates(checkpoint, tmp_path, capsys):
    out = tmp_path / "site"
    args = ["--checkpoint", checkpoint, "--format", "web", "--fidelity_samples", "8", "--out", str(out)]
    # --report and the quality gate as for a .tflite: measured, refused, nothing written.
    assert export_main.main(args + ["--report", "--min_psnr", "999"]) == 1
    assert "Fréchet distance" in capsys.readouterr().out and not out.exists()
    out.mkdir()
    (out / "mine.txt").write_text("keep")  # a folder of the user's is not a page: --overwrite does not take it
    for flags in ([], ["--overwrite"]):
        with pytest.raises(Exception, match="holds mine.txt, which is not part of a web page"):
            export_main.main(args + flags)
        assert os.listdir(out) == ["mine.txt"]
    (out / "mine.txt").unlink()
    out.rmdir()
    assert export_main.main(args) == 0
    with pytest.raises(Exception, match="exists; pass --overwrite"):
        export_main.main(args)
    assert export_main.main(args + ["--overwrite"]) == 0
    assert sorted(os.listdir(out)) == sorted(web.STATIC + (web.MODEL, web.METADATA))
    html = (out / "index.html").read_text()
    assert web.VERSION_MARK not in html and f'"{web.litert_version()}"' in html
    assert json.loads((out / web.METADATA).read_text())["quantize"] == "float32"
