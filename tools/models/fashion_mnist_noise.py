"""The deterministic noisy Fashion-MNIST test set of the denoising model.

Octet's C++ data reader regenerates this set bit for bit, so every step below
is specified exactly (models/README.md, "Noise"):

    clean c = byte / 255 (float64); target = float32(c)
    splitmix64 stream, state = seed; for image i in file order, pixel j in
    row-major order: a = next(), b = next()
    u1 = ((a >> 11) + 1) * 2^-53     in (0, 1]
    u2 = (b >> 11) * 2^-53           in [0, 1)
    g  = sqrt(-2 * log(u1)) * cos(2 * pi * u2)
    noisy = float32(min(max(c + sigma * g, 0), 1))

All float arithmetic is float64 with each operation rounded separately (no
fused multiply-add). log and cos are the C library's (Python's `math` calls
glibc, as std::log/std::cos do); numpy's SIMD versions of them are not used
because they may differ from glibc in the last bit.
"""

import math

import numpy as np

SPLITMIX64_GAMMA = 0x9E3779B97F4A7C15
SPLITMIX64_MUL1 = 0xBF58476D1CE4E5B9
SPLITMIX64_MUL2 = 0x94D049BB133111EB
# First output of splitmix64 seeded with 0 (Vigna's reference splitmix64.c);
# checked at run time so a broken generator cannot write fixtures.
SPLITMIX64_SEED0_FIRST = 0xE220A8397B1DCDAF

DEFAULT_SEED = 2026
DEFAULT_SIGMA = 0.2
PIXELS_PER_IMAGE = 28 * 28


def splitmix64(seed, first, count):
    """Outputs number first .. first+count-1 (0-based) of splitmix64 seeded with `seed`.

    The state after k+1 steps is seed + (k+1) * gamma (mod 2^64), so any slice of
    the stream is computed directly, without running through the ones before.
    """
    k = np.arange(first + 1, first + count + 1, dtype=np.uint64)
    # uint64 array arithmetic wraps mod 2^64, which is what splitmix64 wants.
    z = np.uint64(seed % (1 << 64)) + k * np.uint64(SPLITMIX64_GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(SPLITMIX64_MUL1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(SPLITMIX64_MUL2)
    return z ^ (z >> np.uint64(31))


def gaussians(seed, first_pixel, count):
    """Standard normal draws (float64) for pixels first_pixel .. first_pixel+count-1."""
    draws = splitmix64(seed, 2 * first_pixel, 2 * count)
    a = draws[0::2]
    b = draws[1::2]
    two_pow_minus_53 = 2.0 ** -53
    # (a >> 11) + 1 <= 2^53 and (b >> 11) < 2^53 are exact in float64.
    u1 = ((a >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * two_pow_minus_53
    u2 = (b >> np.uint64(11)).astype(np.float64) * two_pow_minus_53
    log_u1 = np.fromiter(map(math.log, u1.tolist()), dtype=np.float64, count=count)
    # 2 * pi * u2: scaling by 2 is exact, so the association does not matter.
    cos_arg = (2.0 * math.pi) * u2
    cos_v = np.fromiter(map(math.cos, cos_arg.tolist()), dtype=np.float64, count=count)
    return np.sqrt(-2.0 * log_u1) * cos_v


def noisy_images(images_u8, seed=DEFAULT_SEED, sigma=DEFAULT_SIGMA, chunk=1000):
    """(noisy, clean) float32 arrays [N,1,28,28] for uint8 images [N,28,28].

    One generator stream runs over the whole set in order, so the noise of
    image i depends on its index, not only on its pixels.
    """
    if splitmix64(0, 0, 1)[0] != np.uint64(SPLITMIX64_SEED0_FIRST):
        raise RuntimeError("splitmix64 self-check failed")
    n = images_u8.shape[0]
    if images_u8.shape[1:] != (28, 28) or images_u8.dtype != np.uint8:
        raise ValueError("expected uint8 images [N,28,28], got %s %s"
                         % (images_u8.dtype, images_u8.shape))
    flat = images_u8.reshape(n, PIXELS_PER_IMAGE)
    noisy = np.empty((n, PIXELS_PER_IMAGE), dtype=np.float32)
    clean = np.empty((n, PIXELS_PER_IMAGE), dtype=np.float32)
    sigma = float(sigma)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        c = flat[start:stop].astype(np.float64).ravel() / 255.0
        g = gaussians(seed, start * PIXELS_PER_IMAGE, c.size)
        v = c + sigma * g  # numpy rounds the product and the sum separately
        noisy[start:stop] = np.minimum(np.maximum(v, 0.0), 1.0).astype(np.float32).reshape(
            stop - start, PIXELS_PER_IMAGE)
        clean[start:stop] = c.astype(np.float32).reshape(stop - start, PIXELS_PER_IMAGE)
    return noisy.reshape(n, 1, 28, 28), clean.reshape(n, 1, 28, 28)


def noisy_pixel_scalar(byte, seed, pixel_index, sigma=DEFAULT_SIGMA):
    """One noisy pixel computed with Python ints and floats only.

    An independent, literal transcription of the definition (a sequential
    splitmix64 state instead of the jump-ahead above) used to cross-check
    `noisy_images` on a sample of pixels.
    """
    mask = (1 << 64) - 1
    state = (seed + (2 * pixel_index) * SPLITMIX64_GAMMA) & mask

    def next_u64():
        nonlocal state
        state = (state + SPLITMIX64_GAMMA) & mask
        z = state
        z = ((z ^ (z >> 30)) * SPLITMIX64_MUL1) & mask
        z = ((z ^ (z >> 27)) * SPLITMIX64_MUL2) & mask
        return z ^ (z >> 31)

    a = next_u64()
    b = next_u64()
    u1 = ((a >> 11) + 1) * 2.0 ** -53
    u2 = (b >> 11) * 2.0 ** -53
    g = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    c = byte / 255.0
    v = c + sigma * g
    return np.float32(min(max(v, 0.0), 1.0))
