"""Faults the error table (tests/error_cases.py) injects in-process: data a custom loader could return,
NaN batches or EMA weights, a disk that fills in the middle of a write, a tight address space, a machine
offline. Each takes pytest's monkeypatch; `nan_output_scales` damages a .tflite for an asset."""
import errno
import os

import numpy as np

from wgan_edge import atomic


def data(array):
    """Injects `array` as the training data (as a custom loader would return it)."""
    return lambda mp: mp.setattr("wgan_keras.data.source.load_data", lambda config: array)


def nan_batches(mp):
    """Every batch becomes NaN inside the pipeline, after the input checks: losses go NaN."""
    import wgan_keras.fit as t
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
    from wgan_export import endpoint
    real = endpoint.write_saved_model

    def write(generator, path, *a, **k):
        real(generator, path, *a, **k)
        with open(os.path.join(path, "saved_model.pb"), "r+b") as f:
            f.truncate(10)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    mp.setattr(endpoint, "write_saved_model", write)



def edit_quantization(model_bytes, which, scale=None, zero_point=None):
    """A .tflite whose quantized `which` ("inputs" or "outputs") tensors get `scale` and/or `zero_point`: a
    damaged, hand-edited or foreign file."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    graph = model.subgraphs[0]
    for index in getattr(graph, which):
        quantization = graph.tensors[index].quantization
        if quantization is not None and quantization.scale is not None and len(quantization.scale):
            quantization.scale = quantization.scale if scale is None else [scale]
            quantization.zeroPoint = quantization.zeroPoint if zero_point is None else [zero_point]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def nan_output_scales(model_bytes):
    """A .tflite whose output tensors' quantization scales are NaN."""
    return edit_quantization(model_bytes, "outputs", scale=float("nan"))


def offline(mp):
    """A machine without a network: name resolution fails (no proxy set)."""
    import socket

    def unreachable(address, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    mp.setattr(socket, "create_connection", unreachable)
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        mp.delenv(name, raising=False)


def poison_ema_at(gi):
    """Makes the EMA NaN at generator iteration `gi` while the losses stay finite (what the checkpoint
    writer alone can see), through the run's own callback list."""
    def patch(mp):
        import keras

        import wgan_keras.train as t
        real = t.run_callbacks.make_callbacks

        class Poison(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if int(self.model.generator_iterations.numpy()) == gi:
                    w = self.model.ema_generator.weights[0]
                    w.assign(np.full(w.shape, np.nan, "float32"))

        def callbacks(*args):
            *head, ours = real(*args)
            return (*head, [Poison(), *ours])
        mp.setattr(t.run_callbacks, "make_callbacks", callbacks)
    return patch


def small_address_space(mp):
    mp.setattr("wgan_keras.memory._address_space_left", lambda: 600 << 20)  # as a tight `ulimit -v` leaves it


def grid_limit(mp):
    """A 1 MiB grid limit: as 65,536 RGB 64x64 samples overrun the real 256 MiB one."""
    mp.setattr("wgan_edge.sample.MAX_GRID_BYTES", 1 << 20)


def tensorboard_full(mp):
    """TensorBoard's event writer finds the disk full (TensorFlow's error, two lines)."""
    import tensorflow as tf

    def full(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "tensorboard/events: No space left on device\nmore")
    mp.setattr(tf.summary, "create_file_writer", full)


def _on_load(error):
    def patch(mp):
        def load(*args, **kwargs):
            raise error
        mp.setattr("wgan_export.load.load_generator", load)
    return patch


efbig_on_load = _on_load(OSError(errno.EFBIG, os.strerror(errno.EFBIG)))  # over the file-size limit
ctrl_c_on_load = _on_load(KeyboardInterrupt())  # Ctrl-C while the checkpoint loads


def unreadable_subfolder(mp):
    """A sub-folder `private` of the image folder that cannot be read (root reads every folder, so listing it
    raises as it would for another user's folder)."""
    real = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "private":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)
    mp.setattr(os, "scandir", scandir)
