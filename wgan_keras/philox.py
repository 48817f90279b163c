"""TensorFlow's stateless Philox draws, rebuilt in keras.ops so JAX and PyTorch draw TF's noise.

`tf.random.stateless_normal/uniform(shape, seed)` on CPU and GPU run Philox4x32-10
on a key and counter scrambled from the seed; this module computes the same words
with int32 arithmetic only (JAX without x64 has no 64-bit integers, PyTorch no
uint32 arithmetic), so a (seed, stream, counter) triple draws the same numbers on
every backend: uniforms bitwise, normals within 2e-6 (sin/cos/log round
differently per backend). Measured in tests/backends_test.py.
"""
import math

from keras import ops

MASK16 = 0xFFFF


def _i32(c):  # an unsigned 32-bit constant as the int32 with the same bits
    return c - 2**32 if c >= 2**31 else c


M_A, M_B = _i32(0xD2511F53), _i32(0xCD9E8D57)
W_A, W_B = _i32(0x9E3779B9), _i32(0xBB67AE85)
SCRAMBLE_KEY = (0x3EC8F720, 0x02461E29)


def _shr(x, n):  # logical shift right of int32 bits
    return ops.bitwise_and(ops.right_shift(x, n), (1 << (32 - n)) - 1)


def _mul_hi_lo(a, b):
    """(low, high) 32-bit words of the 64-bit product of two unsigned 32-bit words held in int32."""
    a_lo, a_hi = ops.bitwise_and(a, MASK16), _shr(a, 16)
    b_lo, b_hi = b & MASK16, (b >> 16) & MASK16  # b is a Python constant
    ll, lh, hl, hh = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi  # each < 2^32: int32 wraps, bits kept
    mid = _shr(ll, 16) + ops.bitwise_and(lh, MASK16) + ops.bitwise_and(hl, MASK16)
    hi = hh + _shr(lh, 16) + _shr(hl, 16) + _shr(mid, 16)
    return a * _i32(b), hi


def philox(counter, key):
    """Philox4x32-10: four int32 words of counter (arrays), two of key -> four int32 words."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(10):
        lo0, hi0 = _mul_hi_lo(c0, M_A)
        lo1, hi1 = _mul_hi_lo(c2, M_B)
        c0, c1, c2, c3 = (ops.bitwise_xor(ops.bitwise_xor(hi1, c1), k0), lo1,
                          ops.bitwise_xor(ops.bitwise_xor(hi0, c3), k1), lo0)
        if r < 9:
            k0, k1 = k0 + W_A, k1 + W_B
    return c0, c1, c2, c3


def _uint32_to_unit(x):  # TF's Uint32ToFloat: the low 23 bits as the mantissa of [1, 2), minus 1
    return ops.cast(ops.bitwise_and(x, 0x7FFFFF), "float32") * (2.0 ** -23)


def stateless_words(groups, seed):
    """4 * `groups` random int32 words of tf.random.stateless_* with `seed` = (s0, s1), int32 >= 0."""
    s0, s1 = ops.cast(seed[0], "int32"), ops.cast(seed[1], "int32")
    zero = ops.zeros((), "int32")
    mix = philox((s0, zero, s1, zero), (ops.convert_to_tensor(_i32(SCRAMBLE_KEY[0]), "int32"),
                                        ops.convert_to_tensor(_i32(SCRAMBLE_KEY[1]), "int32")))
    g = ops.arange(groups, dtype="int32")
    words = philox((g, ops.zeros_like(g), ops.zeros_like(g) + mix[2], ops.zeros_like(g) + mix[3]), (mix[0], mix[1]))
    return words


def stateless_uniform(shape, seed):
    n = math.prod(shape)
    words = stateless_words(-(-n // 4), seed)
    flat = ops.reshape(ops.stack([_uint32_to_unit(w) for w in words], axis=1), [-1])
    return ops.reshape(flat[:n], shape)


def stateless_normal(shape, seed):
    n = math.prod(shape)
    x0, x1, x2, x3 = stateless_words(-(-n // 4), seed)
    out = []
    for a, b in ((x0, x1), (x2, x3)):
        u1 = ops.maximum(_uint32_to_unit(a), 1e-7)
        v1 = (2.0 * math.pi) * _uint32_to_unit(b)
        u2 = ops.sqrt(-2.0 * ops.log(u1))
        out += [ops.sin(v1) * u2, ops.cos(v1) * u2]
    flat = ops.reshape(ops.stack(out, axis=1), [-1])
    return ops.reshape(flat[:n], shape)
