"""`wgan-export --format web`: a static folder that samples the generator in a browser with LiteRT.js.

    DIR/index.html         the page: a grid, "new samples", a seed field, a latent walk (a class picker
                           when the metadata has num_classes)
    DIR/wgan.js            one ES module, no framework, no build step: the portable latent rule and
                           the pixel rule of wgan-sample, and the page
    DIR/generator.tflite   the model, any --quantize mode (float32 by default)
    DIR/generator.json     its metadata, as beside any .tflite (shapes, dtypes, scales, zero points)
    DIR/package.json       @litertjs/core pinned (with package-lock.json): `npm install` puts the
                           Wasm runtime in DIR/node_modules, where the page looks first

The page's static files are package data (export/web/); this module only copies them.
"""
import json
import os
from importlib import resources

MODEL = "generator.tflite"  # the names wgan.js fetches
METADATA = "generator.json"
STATIC = ("index.html", "wgan.js", "package.json", "package-lock.json")
VERSION_MARK = "__LITERT_VERSION__"
# What the pinned LiteRT.js refuses, measured in headless Chromium (benchmarks/web_sampling.py; tests/web_test.py
# checks it still does): its tensors have no int8 type, so loadAndCompile fails on an int8 `z` or `images`
# (the modes' `why_not_web`, and --int8_io: wgan_export.formats).
LITERT_ERROR = "Element type INT8 is not supported."


def static_text(name):
    """One of the page's static files, as shipped in the package."""
    return resources.files("wgan_export").joinpath("web", name).read_text(encoding="utf-8")


def litert_version():
    """The @litertjs/core version pinned in the page's package.json (the one place it is stated)."""
    return json.loads(static_text("package.json"))["dependencies"]["@litertjs/core"]


def refusal(why):
    """The one line that refuses a page LiteRT.js could not run, for `why` (checked before anything is
    converted)."""
    return (f"LiteRT.js {litert_version()} cannot run it in a browser: {why} (\"{LITERT_ERROR}\"); "
            f"int8 and qat with a float z run")


def write_page(folder):
    """Writes the page's static files into `folder` (which then also needs MODEL and METADATA)."""
    for name in STATIC:
        text = static_text(name).replace(VERSION_MARK, litert_version())
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
    return [os.path.join(folder, name) for name in STATIC]
