"""The path of `config` through `wgan-export`: which modules it passes and how often it comes back to one.

A real export (the shipped generator, 16 fidelity samples) runs under sys.setprofile (TensorFlow resets
sys.settrace). A frame "holds config" when one of its arguments is the ExportConfig the command parsed; the
path is the module of the innermost such frame, recorded at every call into one and every return out of one,
consecutive repeats merged ("stays"). Only the project's modules count (wgan_*: the standard library's
`dataclasses.fields` is not a room). Prints the stays, the modules and the returns (stays in a module
already visited):

    python benchmarks/export_config_path.py [--format tflite|saved_model|web] [--quantize float32]
"""
import argparse
import os
import sys
import tempfile


def _holds(frame, ids):
    code = frame.f_code
    return any(id(frame.f_locals.get(name)) in ids for name in code.co_varnames[:code.co_argcount])


def path_of_config(argv):
    from wgan_export import main as cli
    ids, stays = set(), []
    parse = cli.parse

    def spy_parse(*args, **kwargs):  # the ExportConfig the command builds from its flags
        configs = parse(*args, **kwargs)
        ids.update(id(c) for c in configs)
        return configs

    def here(frame):
        while frame is not None and not (frame.f_globals.get("__name__", "").startswith("wgan_")
                                         and _holds(frame, ids)):
            frame = frame.f_back
        return None if frame is None else frame.f_globals["__name__"]

    def profile(frame, event, arg):
        if event not in ("call", "return") or not ids or not _holds(frame, ids):
            return
        module = here(frame if event == "call" else frame.f_back)
        if module and (not stays or stays[-1] != module):
            stays.append(module)

    cli.parse = spy_parse
    sys.setprofile(profile)
    try:
        status = cli.main(argv)
    finally:
        sys.setprofile(None)
        cli.parse = parse
    return status, stays


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--format", default="tflite")
    p.add_argument("--quantize", default="float32")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "g.tflite" if args.format == "tflite" else "g")
        status, stays = path_of_config(["--checkpoint", "mnist", "--format", args.format, "--quantize",
                                        args.quantize, "--fidelity_samples", "16", "--out", out])
    names = [s.replace("wgan_export.", "") for s in stays]
    rooms = len(set(names))
    print(" -> ".join(names))
    print(f"exit {status}: {len(names)} stays in {rooms} modules, {len(names) - rooms} returns; "
          + ", ".join(f"{n} {names.count(n)}x" for n in sorted(set(names), key=names.index)))


if __name__ == "__main__":
    main()
