"""The contract between an exported generator and whatever runs it, stated once.

signature "generate": input  "z"      float32[batch, latent_dim]  (int8 for full-integer models)
                      input  "label"  int32[batch], in [0, num_classes): conditional generators only
                      output "images" float32[batch, H, W, C] in [-1, 1]  (int8 for full_int8: scale 1/127.5)
                      output "pixels" uint8[batch, H, W, C]: `to_uint8(images)`
"""
import numpy as np

SIGNATURE = "generate"
INPUT = "z"
LABEL = "label"  # the class input of a conditional generator (metadata: num_classes, class_names)
OUTPUTS = ("images", "pixels")
METADATA_FILE = "wgan_export.json"  # beside a SavedModel's files, and as <model>.json beside a .tflite
# wgan-export --quantize, the one list. full_int8: int8 z and images, uint8 pixels (TFLM, Edge TPU, NPUs);
# int16x8: int16 activations, int8 weights, float I/O (closest to float of the integer modes).
QUANTIZATIONS = ("float32", "float16", "dynamic", "int8", "int16x8", "full_int8", "qat")
LATENT_PRIOR = "normal(0, 1)"
# The portable latent rule (docs/export.md, "web"): Philox4x32-10 words -> 53-bit uniforms -> Box-Muller in
# float64 -> float32. Every step is 32-bit integer or IEEE float64 arithmetic, so the page's JavaScript
# (export/web/wgan.js) and any language with 32-bit multiplies draw the same z; numpy's PCG64 normals
# (the rule before) cannot be reproduced outside numpy.
LATENT_RULE = "philox4x32-10 box-muller float64->float32"
PHILOX_M = (0xD2511F53, 0xCD9E8D57)  # Salmon et al. 2011, the Philox4x32 multipliers
PHILOX_W = (0x9E3779B9, 0xBB67AE85)  # and its Weyl key increments
MAX_SEED = 2**64 - 1


def philox4x32(counter, key, rounds=10):
    """Philox4x32-`rounds` (Random123): four uint32 arrays of counter words, two uint32 key words ->
    four uint32 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, np.uint32) for c in counter)
    k0, k1 = int(key[0]), int(key[1])
    for r in range(rounds):
        p0 = c0.astype(np.uint64) * np.uint64(PHILOX_M[0])
        p1 = c2.astype(np.uint64) * np.uint64(PHILOX_M[1])
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)).astype(np.uint32) ^ c1 ^ np.uint32(k0), p1.astype(np.uint32),
                          (p0 >> np.uint64(32)).astype(np.uint32) ^ c3 ^ np.uint32(k1), p0.astype(np.uint32))
        k0, k1 = (k0 + PHILOX_W[0]) & 0xFFFFFFFF, (k1 + PHILOX_W[1]) & 0xFFFFFFFF
    return c0, c1, c2, c3


def _unit(hi, lo):
    """Two uint32 words -> a float64 uniform in [0, 1) with 53 random bits (exact in every language)."""
    return ((hi >> np.uint32(5)).astype(np.float64) * 67108864.0 + (lo >> np.uint32(6))) * 2.0**-53


def latent_vectors(n, latent_dim, seed=0, stream=0):
    """`n` latent vectors z ~ N(0, 1), float32 (n, latent_dim), by the portable rule: element k of the
    row-major array is half of Box-Muller pair p = k // 2, whose uniforms come from
    Philox4x32-10(counter = (p mod 2^32, p div 2^32, stream, 0), key = (seed mod 2^32, seed div 2^32)):
    u = words 0-1, v = words 2-3 as 53-bit fractions, r = sqrt(-2 ln(1 - u)), t = 2 pi v,
    z[2p] = float32(r cos t), z[2p + 1] = float32(r sin t). The first rows do not depend on `n`."""
    seed, stream = int(seed), int(stream)
    if not 0 <= seed <= MAX_SEED or not 0 <= stream < 2**32:
        raise ValueError(f"seed must be in [0, 2^64) and stream in [0, 2^32), got {seed}, {stream}")
    pairs = np.arange((n * latent_dim + 1) // 2, dtype=np.uint64)
    words = philox4x32((pairs.astype(np.uint32), (pairs >> np.uint64(32)).astype(np.uint32),
                        np.full(len(pairs), stream, np.uint32), np.zeros(len(pairs), np.uint32)),
                       (seed & 0xFFFFFFFF, seed >> 32))
    u, v = _unit(words[0], words[1]), _unit(words[2], words[3])
    radius = np.sqrt(-2.0 * np.log(1.0 - u))  # 1 - u in (0, 1]: never log(0)
    angle = (2.0 * np.pi) * v
    z = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).reshape(-1)
    return z[:n * latent_dim].astype(np.float32).reshape(n, latent_dim)


def to_uint8(images):
    """Generator outputs in [-1, 1] -> uint8 pixels: floor(images * 127.5 + 128) clipped to [0, 255],
    i.e. (images + 1) * 127.5 rounded half up. The exported `pixels` output computes the same."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.floor(images * np.float32(127.5) + np.float32(128.0)), 0, 255).astype(np.uint8)


def labels_in_turn(n, num_classes):
    """The classes in turn, 0, 1, ..., num_classes - 1, 0, ... as int32 (n,): the labels that
    `WGAN.generate(n)` draws by default, and that the export measures a conditional generator on."""
    return np.arange(n, dtype=np.int32) % np.int32(num_classes)


def labels_by_row(n, num_classes, columns):
    """One class per grid row (row r shows class r mod num_classes): wgan-sample's default grid."""
    return (np.arange(n, dtype=np.int32) // np.int32(columns)) % np.int32(num_classes)
