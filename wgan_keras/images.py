"""Sample images: uint8 conversion, grids and PNG files (numpy only, shared with the edge sampler)."""
from export.atomic import write_bytes
from export.png import encode_png, image_grid, to_uint8


def save_image_grid(path, images, columns=None):
    """Writes generator outputs in [-1, 1] (N, H, W, C) as one PNG grid, atomically. Returns `path`."""
    return write_bytes(path, encode_png(image_grid(to_uint8(images), columns)))


__all__ = ["encode_png", "image_grid", "save_image_grid", "to_uint8"]
