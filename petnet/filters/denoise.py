"""Talk 3.1.1, "mean and Gaussian filters remove noise", shown and measured.

A clean photo gets two kinds of noise -- **Gaussian** (every pixel off by a little, standard
deviation ``noise_sigma``) and **salt and pepper** (a fraction ``salt_pepper`` of the pixels set to
0 or 1) -- and is cleaned by four filters: mean, Gaussian, median and bilateral. PSNR and SSIM
(:mod:`petnet.filters.metrics`) against the clean photo say how much each one gave back.

What it shows: the averaging filters (mean, Gaussian) do remove Gaussian noise, at the price of
blurring edges; the bilateral filter keeps the edges; against salt and pepper an average only
smears every white or black dot over its window, while the **median** of the window ignores the
outliers altogether -- it is not a convolution (no weights can express it), which is why the talk's
list of kernels does not have it.

:func:`median_filter` is a plain NumPy median of every window (checked against
``scipy.ndimage.median_filter`` and OpenCV's ``medianBlur`` in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.filters.api import apply, check_sigma_color
from petnet.filters.convolve import BORDERS, as_hwc, check_border, like_input
from petnet.filters.image_io import load_image
from petnet.filters.metrics import psnr, ssim
from petnet.validate import check_int, check_number

#: the largest median window (its work and memory grow as size^2)
MAX_MEDIAN_SIZE = 15

#: the cleaning filters of the demo: name -> (filter of petnet.filters.FILTERS or "median", params);
#: the bilateral filter's ``sigma_color`` in grey levels 0..255, as ``petnet filter`` and OpenCV
DENOISERS = {
    "mean": ("mean", {"size": 3}),
    "gaussian": ("gaussian", {"size": 5, "sigma": 1.0}),
    "median": ("median", {"size": 3}),
    "bilateral": ("bilateral", {"size": 9, "sigma_color": 76.5, "sigma_space": 3.0}),
}

#: the two kinds of noise
NOISES = ("gaussian", "salt & pepper")

#: the photo is cut to at most this many pixels a side (the centre) unless told otherwise
MAX_SIDE = 4096


def median_filter(image, size: int = 3, border: str = "reflect") -> np.ndarray:
    """The median of every ``size x size`` window, per channel (``(H, W)`` or ``(H, W, C)``);
    ``border`` as in :data:`petnet.filters.BORDERS`. Returns a float array of the image's shape."""
    size = check_int("size", size, min=1, max=MAX_MEDIAN_SIZE)
    if size % 2 == 0:
        raise ParamError("size", f"must be odd (the window needs a centre pixel), got {size}")
    mode = BORDERS[check_border(border)]
    x = as_hwc(image)
    r = size // 2
    padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode=mode)
    out = np.empty_like(x)
    # bands of rows keep the (rows, W, C, size, size) window copy that np.median makes small
    rows = max(1, (1 << 22) // max(1, x.shape[1] * x.shape[2] * size * size))
    for top in range(0, x.shape[0], rows):
        band = padded[top:top + rows + 2 * r]
        win = np.lib.stride_tricks.sliding_window_view(band, (size, size), axis=(0, 1))
        out[top:top + rows] = np.median(win, axis=(-2, -1))
    return like_input(out, image)


def add_gaussian_noise(image, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``image + N(0, sigma^2)`` per pixel, clipped to [0, 1]."""
    x = np.asarray(image, dtype=np.float64)
    return np.clip(x + rng.normal(0.0, sigma, x.shape), 0.0, 1.0)


def add_salt_pepper(image, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A fraction ``amount`` of the pixels (all channels of each) set to 0 or 1, half each."""
    x = np.array(image, dtype=np.float64)
    hit = rng.random(x.shape[:2]) < amount
    salt = rng.random(x.shape[:2]) < 0.5
    x[hit & salt] = 1.0
    x[hit & ~salt] = 0.0
    return x


def settings(name: str, sigma_color: float | None = None) -> dict:
    """The parameters of the demo's filter ``name`` (:data:`DENOISERS`), the bilateral filter's
    ``sigma_color`` (grey levels 0..255) replaced when given."""
    if name not in DENOISERS:
        raise PetnetError(f"no denoising filter {name!r}; choose one of {', '.join(DENOISERS)}")
    params = dict(DENOISERS[name][1])
    if sigma_color is not None and "sigma_color" in params:
        params["sigma_color"] = sigma_color
    return params


def clean(image, name: str, sigma_color: float | None = None) -> np.ndarray:
    """``image`` cleaned by the demo's filter ``name`` of :data:`DENOISERS` (``sigma_color``: the
    bilateral filter's, in grey levels 0..255, instead of the default)."""
    params = settings(name, sigma_color)
    kernel = DENOISERS[name][0]
    if kernel == "median":
        return median_filter(image, **params)
    return np.clip(apply(image, kernel, **params), 0.0, 1.0)


@dataclass
class DenoiseRow:
    noise: str        #: 'gaussian' or 'salt & pepper'
    method: str       #: 'noisy' (no filter) or a name of DENOISERS
    psnr: float
    ssim: float


@dataclass
class DenoiseResult:
    """What :func:`denoise` measured: ``rows`` (one per noise and method, the noisy image first)
    and the images themselves, ``images[noise][method]`` (``images["clean"]`` the photo);
    ``settings[method]``: the parameters of each filter used."""

    noise_sigma: float
    salt_pepper: float
    rows: list[DenoiseRow]
    images: dict = field(repr=False)
    settings: dict = field(default_factory=dict)

    def best(self, noise: str) -> DenoiseRow:
        """The filter with the highest PSNR against the given noise."""
        return max((r for r in self.rows if r.noise == noise and r.method != "noisy"), key=lambda r: r.psnr)

    def table(self) -> list[dict]:
        return [{"noise": r.noise, "method": r.method, "psnr": r.psnr, "ssim": r.ssim} for r in self.rows]


def denoise(image, *, noise_sigma: float = 0.1, salt_pepper: float = 0.05, random_state: int = 0,
            methods=None, sigma_color: float | None = None) -> DenoiseResult:
    """Add Gaussian noise (``noise_sigma``, pixels in [0, 1]) and salt-and-pepper noise (a fraction
    ``salt_pepper`` of the pixels) to ``image`` (floats in [0, 1], (H, W) or (H, W, C)), clean each
    with every filter of ``methods`` (default: all of :data:`DENOISERS`) and measure PSNR and SSIM
    against the clean image. ``sigma_color``: the bilateral filter's colour sigma in grey levels
    0..255 (default 76.5, :data:`DENOISERS`); a value of 1 or less, the old 0..1 scale, is refused."""
    if sigma_color is not None:
        sigma_color = check_sigma_color(sigma_color)
    noise_sigma = check_number("noise_sigma", noise_sigma, min=0, min_exclusive=True, max=1)
    salt_pepper = check_number("salt_pepper", salt_pepper, min=0, min_exclusive=True, max=1)
    random_state = check_int("random_state", random_state, min=0)
    methods = list(DENOISERS) if methods is None else list(methods)
    for m in methods:
        if m not in DENOISERS:
            raise ParamError("methods", f"has {m!r}, not a denoising filter; "
                                        f"choose from {', '.join(DENOISERS)}")
    x = np.asarray(image, dtype=np.float64)
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 11:
        raise PetnetError(f"the photo must be an (H, W) or (H, W, C) image of at least 11x11 pixels, "
                          f"got shape {x.shape}")
    if x.min() < 0 or x.max() > 1:
        raise PetnetError("the photo's pixels must be floats in [0, 1] (divide 8-bit values by 255)")
    rng = np.random.default_rng(random_state)
    noisy = {"gaussian": add_gaussian_noise(x, noise_sigma, rng),
             "salt & pepper": add_salt_pepper(x, salt_pepper, rng)}
    rows, images = [], {"clean": x}
    for noise, img in noisy.items():
        images[noise] = {"noisy": img}
        rows.append(DenoiseRow(noise, "noisy", psnr(x, img), ssim(x, img)))
        for m in methods:
            out = clean(img, m, sigma_color)
            images[noise][m] = out
            rows.append(DenoiseRow(noise, m, psnr(x, out), ssim(x, out)))
    return DenoiseResult(noise_sigma, salt_pepper, rows, images,
                         {m: settings(m, sigma_color) for m in methods})


def load_photo(path, max_side: int = MAX_SIDE) -> np.ndarray:
    """The photo's pixels in [0, 1] (alpha dropped), its centre cut to at most ``max_side`` a side."""
    max_side = check_int("max_side", max_side, min=11, max=MAX_SIDE)
    pixels = load_image(path).pixels
    h, w = pixels.shape[:2]
    top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
    return pixels[top:top + max_side, left:left + max_side]


def plot_denoise(result: DenoiseResult, out=None, show: bool = False):
    """One row per noise: the clean photo, the noisy one, and each cleaned one, PSNR/SSIM in the titles."""
    from petnet.plotting import finish, pyplot
    plt = pyplot(show)
    noises = [n for n in NOISES if n in result.images]
    methods = list(result.images[noises[0]])          # 'noisy' first, then the filters
    cols = 1 + len(methods)
    h, w = result.images["clean"].shape[:2]
    fig, axes = plt.subplots(len(noises), cols, figsize=(2.6 * cols, (2.6 * h / w + 0.5) * len(noises) + 0.4),
                             squeeze=False)
    scores = {(r.noise, r.method): r for r in result.rows}
    grey = result.images["clean"].ndim == 2
    for i, noise in enumerate(noises):
        panels = [("clean photo", result.images["clean"])] + [
            (f"{m}\n{scores[noise, m].psnr:.1f} dB, SSIM {scores[noise, m].ssim:.3f}",
             result.images[noise][m])
            for m in methods]
        for j, (title, img) in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(np.clip(img, 0, 1), cmap="gray" if grey else None, vmin=0, vmax=1)
            ax.set_title(title if j else f"{title}\n({noise} noise below)", fontsize=8)
            ax.axis("off")
    fig.suptitle(f"denoising: Gaussian noise sigma = {result.noise_sigma:g}, "
                 f"salt & pepper {result.salt_pepper:.0%} of the pixels", fontsize=10)
    return finish(fig, out, show)
