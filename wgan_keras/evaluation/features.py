"""`FeatureExtractor`: images -> features for the Fréchet distance and KID.

With no model it is the bundled digit network (offline; see `digits`). Any Keras model
can take its place, e.g. InceptionV3(include_top=False, pooling="avg") where its weights
are available: images are resized to the model's input size and given its channels.
"""
import keras
import numpy as np


class FeatureExtractor:
    """Callable: images (n, H, W, C) in [-1, 1] (uint8 in [0, 255] is rescaled) -> float32 (n, d).

    Args:
        model: a Keras model from images to features; None: the bundled digit network
            (28x28x1; 32x32 inputs are centre-cropped, 28x28 ones used as they are).
        preprocess: optional function applied after resizing, on [-1, 1] images (e.g. a
            model's own preprocess_input rescaled accordingly); None: none.
        batch_size: images per model call.
    Spatial outputs (n, h, w, d) are averaged over h and w.
    """

    def __init__(self, model=None, preprocess=None, batch_size=250):
        if model is None:
            from wgan_keras.evaluation.digits import digit_feature_model
            model = digit_feature_model()
        shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else (None, None, None)
        if len(shape) != 3:
            raise ValueError(f"model must take images (n, H, W, C), its input has shape {shape}")
        self.model, self.preprocess, self.batch_size = model, preprocess, int(batch_size)
        self.input_shape = shape

    def fit_images(self, images):
        """float32 [-1, 1] images at the model's size and channels (crop/pad when 2-4 pixels off, else resize)."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise ValueError(f"images must have shape (n, H, W, C), got {x.shape}")
        x = x.astype(np.float32) / 127.5 - 1.0 if x.dtype == np.uint8 else x.astype(np.float32)
        height, width, channels = self.input_shape
        if channels is not None and x.shape[-1] != channels:
            if x.shape[-1] == 1:
                x = np.repeat(x, channels, axis=-1)
            elif channels == 1:
                x = x.mean(axis=-1, keepdims=True)
            else:
                raise ValueError(f"images have {x.shape[-1]} channels, the feature model takes {channels}")
        if height is not None and x.shape[1:3] != (height, width):
            dh, dw = x.shape[1] - height, x.shape[2] - width
            if dh == dw and 0 < dh <= 4 and dh % 2 == 0:  # 32 -> 28: the digits sit in the middle
                x = x[:, dh // 2:dh // 2 + height, dw // 2:dw // 2 + width]
            elif dh == dw and -4 <= dh < 0 and dh % 2 == 0:  # 28 -> 32: pad with background (-1)
                p = -dh // 2
                x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=-1.0)
            else:
                x = np.asarray(keras.ops.convert_to_numpy(keras.ops.image.resize(x, (height, width))), np.float32)
        return x

    def __call__(self, images):
        x = self.fit_images(images)
        out = []
        for i in range(0, len(x), self.batch_size):
            batch = x[i:i + self.batch_size]
            if self.preprocess is not None:
                batch = self.preprocess(batch)
            f = keras.ops.convert_to_numpy(self.model(batch, training=False))
            out.append(f.mean(axis=(1, 2)) if f.ndim == 4 else f.reshape(len(f), -1))
        return np.concatenate(out).astype(np.float32)
