"""Faults the error table (tests/error_cases.py) injects in-process: data a custom loader could return,
NaN batches, and a disk that fills in the middle of a write. Each takes pytest's monkeypatch."""
import errno
import os

import numpy as np

from wgan_edge import atomic


def data(array):
    """Injects `array` as the training data (as a custom loader would return it)."""
    return lambda mp: mp.setattr("wgan_keras.train.load_data", lambda config: array)


def nan_batches(mp):
    """Every batch becomes NaN inside the pipeline, after the input checks: losses go NaN."""
    import wgan_keras.train as t
    real = t.epoch_dataset
    mp.setattr(t, "epoch_dataset", lambda *a, **k: real(*a, **k).map(lambda b: b * np.float32(np.nan)))


def enospc_on_checkpoint(mp):
    """The disk fills while the checkpoint is being written: half a file, then ENOSPC."""
    from wgan_keras.wgan import WGAN

    def save(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    mp.setattr(WGAN, "save", save)


class _FullDisk:
    """A file object that writes part of the data, then fails like a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[:len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def enospc_in_write_bytes(mp):
    mp.setattr(atomic, "open", lambda path, mode="r", *a, **k: _FullDisk(open(path, mode, *a, **k)) if "w" in mode
               else open(path, mode, *a, **k), raising=False)


def enospc_in_saved_model(mp):
    """The disk fills while the SavedModel is written: part of the folder, then ENOSPC."""
    from wgan_export import lib
    real = lib.write_saved_model

    def write(generator, path, *a, **k):
        real(generator, path, *a, **k)
        with open(os.path.join(path, "saved_model.pb"), "r+b") as f:
            f.truncate(10)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    mp.setattr(lib, "write_saved_model", write)



def nan_output_scales(model_bytes):
    """A .tflite whose output tensors' quantization scales are NaN (a damaged or hand-edited file)."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    graph = model.subgraphs[0]
    for index in graph.outputs:
        quantization = graph.tensors[index].quantization
        if quantization is not None and quantization.scale is not None and len(quantization.scale):
            quantization.scale = [float("nan")]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def offline(mp):
    """A machine without a network: name resolution fails (no proxy set)."""
    import socket

    def unreachable(address, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    mp.setattr(socket, "create_connection", unreachable)
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        mp.delenv(name, raising=False)
