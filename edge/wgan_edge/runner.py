"""`TFLiteGenerator`: the `generate` signature of a .tflite generator, run with LiteRT alone.

Latent size and image shape come from the signature; a fixed-batch model runs as many
invocations as needed; integer inputs and outputs are quantized and dequantized with the
tensors' own scale and zero point (an int8 z saturates at the calibrated range).
"""
import numpy as np

from wgan_edge.cli import first_line
from wgan_edge.contract import INPUT, LABEL, OUTPUTS, SIGNATURE, to_uint8

INTEGER = (np.int8, np.uint8, np.int16)
_KEEP = []  # interpreters never to be destroyed (see TFLiteGenerator.__init__)


class RunnerError(ValueError):
    """The model is not a `generate` generator this runner can drive (one line)."""


def _check_tensor(name, details, allowed):
    """A tensor's dtype must be one of `allowed`; an integer one needs a usable scale."""
    dtype = np.dtype(details["dtype"])
    if dtype.type not in allowed:
        raise RunnerError(f"the '{SIGNATURE}' signature's '{name}' is {dtype.name}, expected one of "
                          f"{[np.dtype(a).name for a in allowed]}")
    scale = details["quantization"][0]
    if dtype.type in INTEGER and name != "pixels" and not (np.isfinite(scale) and scale > 0):
        raise RunnerError(f"the '{SIGNATURE}' signature's '{name}' is {dtype.name} without a usable quantization "
                          f"scale ({scale})")


def _check_quantization(interpreter):
    """Every quantized tensor needs finite, non-negative scales: LiteRT prepares a NaN output scale into a
    SIGSEGV inside allocate_tensors (no handler runs), so this is read from the model before that."""
    for details in interpreter.get_tensor_details():
        scales = np.asarray(details.get("quantization_parameters", {}).get("scales", ()), np.float64)
        if scales.size and not (np.all(np.isfinite(scales)) and np.all(scales >= 0)):
            bad = scales[~(np.isfinite(scales) & (scales >= 0))][0]
            raise RunnerError(f"the model's tensor '{details['name']}' has an unusable quantization scale ({bad}); "
                              f"the .tflite is damaged or was edited: export it again")


def _label_rows(interpreter, label):
    """The class count a conditional model holds: the rows of the table its label is gathered from (every
    export mode keeps that GATHER), or None when the graph has no such op (a foreign model)."""
    try:
        tensors = interpreter.get_tensor_details()
        for op in interpreter._get_ops_details():  # LiteRT's only view of the graph's ops
            inputs = list(op["inputs"])
            if op["op_name"] == "GATHER" and len(inputs) == 2 and inputs[1] == label["index"]:
                return int(tensors[inputs[0]]["shape"][0])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return None


def _interpreter(num_threads, delegates, kwargs):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    resolver = OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return Interpreter(num_threads=num_threads, experimental_op_resolver_type=resolver, **kwargs)


def _xnnpack_safe(inputs):
    """False for an integer input whose quantization XNNPACK may crash on (LiteRT 2.x: a z scale of 1e10
    ends in "double free detected", a zero point outside the type's range in a RuntimeError); LiteRT's
    own kernels run those. A calibrated z ~ N(0, 1) has a scale near 0.03 and a zero point near 0."""
    for details in inputs:
        dtype = np.dtype(details["dtype"])
        if dtype.kind in "iu":
            scale, zero = details["quantization"]
            info = np.iinfo(dtype)
            if not (1e-6 <= scale <= 1e3 and info.min <= zero <= info.max):
                return False
    return True


class TFLiteGenerator:
    """Runs a .tflite generator (path or bytes): `runner(z)` -> {"images", "pixels"}."""

    def __init__(self, model, num_threads=2):
        kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else {"model_path": model}
        self.delegated = True
        try:
            self.interpreter = _interpreter(num_threads, True, kwargs)
            signatures = self.interpreter.get_signature_list()
        except Exception as e:  # LiteRT raises ValueError/RuntimeError with multi-line C++ text
            raise RunnerError(f"cannot load the TFLite model: {first_line(e)[:200]}") from None
        if SIGNATURE not in signatures:
            raise RunnerError(f"the model has no '{SIGNATURE}' signature (signatures: {sorted(signatures)}); "
                              f"export it with wgan-export")
        _check_quantization(self.interpreter)  # before any kernel is prepared
        if not _xnnpack_safe(self.interpreter.get_input_details()):  # before XNNPACK ever sees it
            self.delegated = False
            self.interpreter = _interpreter(num_threads, False, kwargs)
        try:
            self.interpreter.allocate_tensors()  # XNNPACK (LiteRT's default delegate) prepares here
        except RuntimeError:
            # XNNPACK refuses some quantization parameters ("unsupported zero-point value", "failed to create
            # XNNPACK runtime") that LiteRT's own kernels may run: try once more without the delegate.
            self.delegated = False
            _KEEP.append(self.interpreter)  # LiteRT double-frees an interpreter whose delegate failed to prepare
            try:
                self.interpreter = _interpreter(num_threads, False, kwargs)
                self.interpreter.allocate_tensors()
            except Exception as e:
                raise RunnerError(f"LiteRT cannot prepare the model, with or without XNNPACK: "
                                  f"{first_line(e)[:200]}") from None
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        inputs = self.runner.get_input_details()
        if sorted(inputs) not in ([INPUT], sorted([INPUT, LABEL])):
            raise RunnerError(f"the '{SIGNATURE}' signature must take '{INPUT}' (and, conditional, '{LABEL}'), "
                              f"got {sorted(inputs)}")
        self.input = inputs[INPUT]
        self.label = inputs.get(LABEL)  # a conditional generator's int32 classes (batch,)
        if self.label is not None and np.dtype(self.label["dtype"]) != np.int32:
            raise RunnerError(f"the '{SIGNATURE}' signature's '{LABEL}' is {np.dtype(self.label['dtype']).name}, "
                              f"expected int32")
        self.num_classes = None if self.label is None else _label_rows(self.interpreter, self.label)
        self.outputs = {k: v for k, v in self.runner.get_output_details().items() if k in OUTPUTS}
        _check_tensor(INPUT, self.input, (np.float32,) + INTEGER)
        if "images" in self.outputs:
            _check_tensor("images", self.outputs["images"], (np.float32,) + INTEGER)
        if "pixels" in self.outputs:
            _check_tensor("pixels", self.outputs["pixels"], (np.uint8,))
        if not self.outputs:
            raise RunnerError(f"the '{SIGNATURE}' signature has neither output {OUTPUTS}")
        shape = list(self.input.get("shape_signature", [])) or list(self.input["shape"])
        if len(shape) != 2:
            raise RunnerError(f"'{INPUT}' must have shape (batch, latent_dim), got {list(self.input['shape'])}")
        self.batch_size = int(shape[0]) if shape[0] > 0 else None
        self.latent_dim = int(self.input["shape"][-1])
        out = self.outputs.get("images", self.outputs.get("pixels"))
        self.image_shape = tuple(int(d) for d in out["shape"][1:])
        if len(self.image_shape) != 3 or self.image_shape[-1] not in (1, 3):
            raise RunnerError(f"the model's outputs have shape {self.image_shape}, not images (H, W, 1|3)")

    def _quantize_z(self, z):
        if self.input["dtype"] == np.float32:
            return z.astype(np.float32)
        scale, zero = self.input["quantization"]
        info = np.iinfo(self.input["dtype"])
        return np.clip(np.rint(z / scale) + zero, info.min, info.max).astype(self.input["dtype"])

    @staticmethod
    def _dequantize(value, details):
        if value.dtype == np.float32:
            return value
        scale, zero = details["quantization"]
        return (value.astype(np.float32) - zero) * np.float32(scale)

    @property
    def conditional(self):
        return self.label is not None

    def _labels(self, labels, n):
        if not self.conditional:
            if labels is not None:
                raise RunnerError("labels: this generator is unconditional (its signature has no 'label')")
            return None
        if labels is None:
            raise RunnerError(f"labels: this generator is conditional (input '{LABEL}'): pass a class per sample")
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu" or labels.ndim > 1 or (labels.ndim == 1 and len(labels) != n) or \
                (labels.size and labels.min() < 0):
            raise RunnerError(f"labels must be one class or {n} classes (ints >= 0), got shape {labels.shape} "
                              f"of {labels.dtype}")
        return np.broadcast_to(labels.astype(np.int32), (n,))

    def __call__(self, z, labels=None):
        """z (n, latent_dim) float32 [, labels (n,) ints: a conditional generator's classes] ->
        {"images": float32 (n, H, W, C), "pixels": uint8 (n, H, W, C)}."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise RunnerError(f"z must have shape (n, {self.latent_dim}), got {z.shape}")
        n = len(z)
        labels = self._labels(labels, n)
        step = self.batch_size or n
        images, pixels = [], []
        for i in range(0, n, step):
            chunk = z[i:i + step]
            inputs = {}
            if labels is not None:  # padded with class 0, dropped with the padding of z
                inputs[LABEL] = np.zeros(step, np.int32)
                inputs[LABEL][:len(chunk)] = labels[i:i + step]
            if len(chunk) < step:  # pad the last fixed batch, drop the padding after
                chunk = np.concatenate([chunk, np.zeros((step - len(chunk), self.latent_dim), np.float32)])
            inputs[INPUT] = self._quantize_z(chunk)
            try:
                out = self.runner(**inputs)
            except RuntimeError as e:  # a kernel that refuses its tensors at run time: one line, not C++ text
                if labels is not None and "gather index out of bounds" in str(e):  # the label's lookup
                    raise RunnerError(f"labels: class {int(labels.max())} is not one of this model's classes "
                                      f"(LiteRT: gather index out of bounds)") from None
                raise RunnerError(f"LiteRT cannot run the model: {first_line(e)[:200]}") from None
            take = min(step, n - i)
            if "images" in out:
                # int8 images on the pixel grid: q = -128 (black) dequantizes to -1.0039; the contract says [-1, 1]
                images.append(np.clip(self._dequantize(out["images"], self.outputs["images"]), -1, 1)[:take])
            if "pixels" in out:
                pixels.append(out["pixels"][:take])
        result = {"images": np.concatenate(images)} if images else {}
        result["pixels"] = np.concatenate(pixels) if pixels else to_uint8(result["images"])
        return result
