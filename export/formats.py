"""Stage 7, publish: one `Format` row per output format, with its checks, destinations and writer.

    saved_model   a folder: the endpoint as a SavedModel with `wgan_export.json` (float32, dynamic batch)
    tflite        a .tflite, its metadata (<stem>.json) and, with --c_array, the TFLite Micro C array
    web           a folder: the .tflite and its metadata as tflite writes them, in a static page

A row's `build` makes the artifact and yields it to be measured (`Built`: how to run it, its size, the .tflite
bytes); `publish` writes it once the gate has passed, all files or none. Adding a format is one row here
(and its destinations' kinds in `wgan_export.owned`, when --overwrite may replace them). Nothing heavier than
the standard library loads at import: the CLI lists and validates the formats before TensorFlow loads.
"""
import contextlib
import dataclasses
import os
from typing import Callable, Optional

from wgan_edge.atomic import atomic_path, write_files


@dataclasses.dataclass
class Built:
    """An artifact before it is published: `outputs(z, labels)` runs it, `size` in bytes, `model` the .tflite."""
    outputs: Callable
    size: int
    model: Optional[bytes] = None


@dataclasses.dataclass(frozen=True)
class Format:
    name: str
    build: Callable  # (config, generator, mode) -> a context manager yielding Built
    publish: Callable  # (config, generator, built, row): writes, all files or none
    kinds: Callable  # config -> [(path, kind)]: every destination (wgan_export.owned checks each)
    refuse: Callable = lambda config, mode: None  # (flag, why) when it cannot hold this mode, else None
    fixed_batch: bool = True  # the model's batch is fixed (1 unless --batch_size)
    c_array: bool = False  # --c_array writes the TFLite Micro C array beside it
    on_board: bool = False  # the summary reports TFLite Micro (--report)


def _float32_only(config, mode):
    if config.format not in mode.formats:
        return "quantize", "applies to tflite only; a SavedModel is float32"


def _in_a_browser(config, mode):
    """What the pinned LiteRT.js cannot run (wgan_export.web): int8 tensors, measured."""
    from wgan_export import web
    if config.int8_io:
        return "int8_io", web.refusal("--int8_io makes z int8")
    if config.format not in mode.formats:
        return "quantize", web.refusal(mode.why_not_web)


def _one_path(config):
    return [(config.out, config.format)]


def _tflite_kinds(config):
    stem = os.path.splitext(config.out)[0]
    return [(config.out, "tflite"), (stem + ".json", "json")] + (
        [(stem + ".cc", "cc"), (stem + ".h", "h")] if config.c_array else [])


@contextlib.contextmanager
def _build_saved_model(config, generator, mode):
    """The SavedModel in the atomic folder: published when the body ends without an exception (the gate)."""
    from wgan_export import endpoint
    names = _class_names(config, generator)
    with atomic_path(config.out, overwrite=config.overwrite) as tmp:
        endpoint.write_saved_model(generator, tmp, config.batch_size, class_names=names)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tmp) for f in fs)
        yield Built(lambda z, labels: endpoint.run_saved_model(tmp, z, labels), size)


@contextlib.contextmanager
def _build_tflite(config, generator, mode):
    """The .tflite, converted by the mode's recipe (wgan_export.convert), builtin ops only."""
    from wgan_edge.runner import TFLiteGenerator
    from wgan_export.convert import check_builtin_only, convert
    options = {keyword: getattr(config, flag) for flag, keyword in mode.options}
    model = convert(generator, mode, batch_size=config.batch_size or 1, int8_io=config.int8_io, **options)
    check_builtin_only(model)
    yield Built(TFLiteGenerator(model), len(model), model)


def tflite_files(config, generator, model, row):
    """{path: bytes}: the .tflite, its metadata (tensor dtypes, scales, zero points) and, with --c_array, the
    C array; published together (wgan_edge.atomic.write_files: all or none)."""
    import json

    from wgan_export import endpoint, micro
    from wgan_export.convert import io_params
    out, meta_path, *c_paths = [path for path, _ in _tflite_kinds(config)]
    names = _class_names(config, generator)
    info = endpoint.metadata(generator, config.batch_size or 1, quantize=config.quantize, tensors=io_params(model),
                             class_names=names,
                             fidelity={k: v for k, v in row.items() if isinstance(v, (int, float))})
    files = {out: model, meta_path: b""}
    if c_paths:
        info["tflm_arena_bytes"] = row.get("tflm_arena_bytes") or micro.arena_bytes(model)
        stem = os.path.basename(os.path.splitext(config.out)[0])
        notes = [f"{k}: {v['dtype']}{v['shape']} scale {v['scale']:.9g} zero_point {v['zero_point']}"
                 for k, v in info["tensors"].items()]
        texts = micro.c_array(model, config.c_name or micro.c_identifier(stem), info["tflm_arena_bytes"], notes,
                              header_name=os.path.basename(c_paths[1]))
        files.update({path: text.encode() for path, text in zip(c_paths, texts)})
    files[meta_path] = json.dumps(info, indent=2).encode()
    return files


def _class_names(config, generator):
    """The run's class names for a conditional generator (its workdir's classes.json), else None."""
    from wgan_export import load
    return load.class_names(config.checkpoint, load.describe(generator).get("num_classes"))


def _publish_tflite(config, generator, built, row):
    write_files(tflite_files(config, generator, built.model, row), overwrite=config.overwrite)


def _publish_web(config, generator, built, row):
    """The page's folder, all files or none: the .tflite and its metadata exactly as a tflite
    export writes them, beside the page's static files."""
    from wgan_export import web
    with atomic_path(config.out, overwrite=config.overwrite) as tmp:
        os.mkdir(tmp)
        inner = dataclasses.replace(config, format="tflite", out=os.path.join(tmp, web.MODEL), overwrite=False)
        write_files(tflite_files(inner, generator, built.model, row), overwrite=False)
        web.write_page(tmp)


FORMATS = {f.name: f for f in (
    Format("saved_model", _build_saved_model, lambda *published_on_exit: None, _one_path, _float32_only,
           fixed_batch=False),
    Format("tflite", _build_tflite, _publish_tflite, _tflite_kinds, c_array=True, on_board=True),
    Format("web", _build_tflite, _publish_web, _one_path, _in_a_browser),
)}
