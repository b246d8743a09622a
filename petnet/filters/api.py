"""The chapter's Python API: one registry of filters, ``apply`` and ``filter_file``.

    from petnet.filters import apply, load_image, save_image
    pic = load_image("cat.jpg")                       # floats in [0, 1], alpha kept apart
    out = apply(pic.pixels, "gaussian", size=9, sigma=2)
    save_image("blurred.png", out, pic.alpha, pic.bits)

:data:`FILTERS` is the one list of filter names: each :class:`Filter` says which parameters it
takes, their defaults and a line of help; the command line takes its ``--kernel`` choices and help
from it. Every parameter is checked (and bounded where it sets the amount of work) before any
work, and a bad one raises :class:`~petnet.errors.ParamError` naming it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from petnet.errors import ParamError
from petnet.filters.bilateral import bilateral, window_radius
from petnet.filters.convolve import check_border
from petnet.filters.edges import gradient_magnitude, laplacian, sharpen, sobel
from petnet.filters.figure import compare_figure
from petnet.filters.image_io import check_output, load_image, save_image
from petnet.plotting import check_picture_path
from petnet.output_guard import guard
from petnet.filters.kernels import MAX_AMOUNT, MAX_SIGMA, MAX_SOBEL_SIZE, check_size, size_from_sigma
from petnet.filters.smoothing import gaussian_blur, mean_blur
from petnet.registry import Registry
from petnet.validate import check_int, check_number

MAX_BILATERAL_SIZE = 51      # the bilateral window's diameter; its work grows as its square
GREY_LEVELS = 255            # sigma_color's scale: 0..255, whatever the pixels' own range

#: what each parameter means (the command line's help text comes from here)
PARAMS = {
    "size": "kernel size: window of mean (default 5) and gaussian (default from sigma, else 5); "
            "Sobel/Laplacian aperture (default 3 / 1); bilateral diameter d (default from sigma_space)",
    "sigma": "Gaussian standard deviation in pixels (default: from the size, as OpenCV)",
    "sigma_color": "bilateral range sigma in grey levels 0..255, as OpenCV's sigmaColor on 8-bit images",
    "sigma_space": "bilateral spatial sigma in pixels",
    "amount": "sharpen strength",
    "border": "border mode: reflect = OpenCV's default BORDER_REFLECT_101",
}


@dataclass(frozen=True)
class Filter:
    """A named filter: ``prepare(**params)`` checks the parameters and returns the function
    ``image -> result``; its parameters with their defaults, one line of help, and whether its
    result is a signed edge response (shown as ``|out| / max``)."""

    name: str
    prepare: Callable[..., Callable[[np.ndarray], np.ndarray]]
    defaults: dict = field(default_factory=dict)
    help: str = ""
    edges: bool = False


FILTERS = Registry("kernel")


def register(name: str, help: str, edges: bool = False, **defaults):
    """Decorator: register ``prepare(**params) -> (image -> result)`` as the filter ``name``
    (every filter also takes ``border``, checked before ``prepare`` is called)."""
    def add(prepare):
        FILTERS.register(name, Filter(name, prepare, {**defaults, "border": "reflect"}, help, edges))
        return prepare
    return add


def _sobel_size(size) -> int:
    return check_size(size, "size", max=MAX_SOBEL_SIZE)


@register("mean", "box blur, size x size window average (noise removal)", size=5)
def _mean(size, border):
    size = check_size(size, odd=False)
    return lambda image: mean_blur(image, size, border)


@register("gaussian", "Gaussian blur, size and/or sigma (noise removal)", size=None, sigma=0.0)
def _gaussian(size, sigma, border):
    sigma = check_number("sigma", sigma, min=0, max=MAX_SIGMA)
    if size is None and sigma == 0:
        size = 5
    size = size_from_sigma(sigma) if size is None else check_size(size)
    return lambda image: gaussian_blur(image, size, sigma, border)


@register("sobel", "gradient magnitude sqrt(Gx^2 + Gy^2) (edge extraction)", edges=True, size=3)
def _sobel_magnitude(size, border):
    size = _sobel_size(size)
    return lambda image: gradient_magnitude(image, size, border)


@register("sobel-x", "horizontal derivative Gx", edges=True, size=3)
def _sobel_x(size, border):
    size = _sobel_size(size)
    return lambda image: sobel(image, 1, 0, size, border)


@register("sobel-y", "vertical derivative Gy", edges=True, size=3)
def _sobel_y(size, border):
    size = _sobel_size(size)
    return lambda image: sobel(image, 0, 1, size, border)


@register("laplacian", "d2/dx2 + d2/dy2", edges=True, size=1)
def _laplacian(size, border):
    size = _sobel_size(size)
    return lambda image: laplacian(image, size, border)


@register("sharpen", "identity - amount * Laplacian, [[0,-1,0],[-1,5,-1],[0,-1,0]]", amount=1.0)
def _sharpen(amount, border):
    amount = check_number("amount", amount, min=-MAX_AMOUNT, max=MAX_AMOUNT)
    return lambda image: sharpen(image, amount, border)


def check_sigma_color(sigma_color) -> float:
    """The bilateral filter's colour sigma, in grey levels 0..255 (OpenCV's ``sigmaColor`` on 8-bit
    images), for every filter of this chapter, the command line and the API alike. A value of 1 or
    less is refused: it is what the old 0..1 scale looked like (``petnet denoise`` used 0.3), and one
    grey level or less would smooth nothing; the message gives the value on the new scale."""
    sigma_color = check_number("sigma_color", sigma_color, min=0, min_exclusive=True)
    if sigma_color <= 1:
        raise ParamError("sigma_color", f"is on the 0..{GREY_LEVELS} scale now (grey levels, as OpenCV's "
                                        f"sigmaColor on 8-bit images): {sigma_color:g} on the old 0..1 scale "
                                        f"is {sigma_color * GREY_LEVELS:g}; a colour sigma of 1 grey level or "
                                        f"less would smooth nothing")
    return sigma_color


@register("bilateral", "edge-preserving smoothing, sigma_color (grey levels 0..255) and sigma_space (pixels)",
          size=None, sigma_color=30.0, sigma_space=5.0)
def _bilateral(size, sigma_color, sigma_space, border):
    sigma_color = check_sigma_color(sigma_color)
    sigma_space = check_number("sigma_space", sigma_space, min=0, min_exclusive=True, max=1e6)
    if size is None:
        d = 2 * window_radius(0, sigma_space) + 1
        if d > MAX_BILATERAL_SIZE:
            raise ParamError("sigma_space", f"gives a {d}-pixel window (at most {MAX_BILATERAL_SIZE}); "
                                            f"make it smaller or give a size, got {sigma_space:g}")
        size = 0
    else:
        size = check_int("size", size, min=1, max=MAX_BILATERAL_SIZE)

    def run(image):
        # a float image has pixels in [0, 1]: 255 grey levels to its 1; an integer (8-bit) image
        # is in grey levels already, as OpenCV takes it
        kind = np.asarray(image).dtype.kind
        scale = 1 if kind in "biu" else GREY_LEVELS
        return bilateral(image, size, sigma_color / scale, sigma_space, border)
    return run


def prepare(kernel: str = "gaussian", **params) -> Callable[[np.ndarray], np.ndarray]:
    """Check ``kernel`` and its ``params`` (see :func:`apply`) and return the function
    ``image -> result``: every mistake is reported before any image is touched."""
    spec = FILTERS.get(kernel, param="kernel")
    for name in params:
        if name not in spec.defaults:
            raise ParamError(name, f"is not a parameter of the {spec.name} filter; "
                                   f"it takes {', '.join(spec.defaults)}")
    values = {**spec.defaults, **params}
    values["border"] = check_border(values["border"])
    return spec.prepare(**values)


def apply(image, kernel: str = "gaussian", **params) -> np.ndarray:
    """Filter ``image`` ((H, W) grey or (H, W, C) colour, any numbers: floats in [0, 1] as
    :func:`load_image` gives, or 8-bit integers) with the filter ``kernel`` of :data:`FILTERS`.
    ``sigma_color`` is in grey levels 0..255 either way (divided by 255 for a float image), as
    OpenCV's ``sigmaColor`` on an 8-bit image.

    ``params`` are that filter's (``FILTERS.get(kernel).defaults``): ``size``, ``sigma``,
    ``sigma_color``, ``sigma_space``, ``amount``, ``border`` (``reflect``, ``zero``,
    ``replicate``, ``symmetric``). Returns a float array of the image's shape: the filter's own
    output, signed for the edge filters (see :func:`to_display`)."""
    run = prepare(kernel, **params)
    return run(image)


def to_display(result: np.ndarray, kernel: str) -> np.ndarray:
    """A filter's result as an image in [0, 1]: edge responses (signed) become ``|out|`` scaled so
    the strongest edge is 1; smoothing results are returned unchanged."""
    if not FILTERS.get(kernel, param="kernel").edges:
        return result
    out = np.abs(result)
    top = float(out.max()) if out.size else 0.0
    return out / top if top > 0 else out


@dataclass
class FilteredFile:
    """What :func:`filter_file` did: the image written, its size, the filter, the seconds the
    filter took, and the comparison figure (or None)."""

    out: Path
    width: int
    height: int
    kernel: str
    border: str
    seconds: float
    compare: Path | None = None


def filter_file(image, out, kernel: str = "gaussian", *, compare=None, **params) -> FilteredFile:
    """Filter the image file ``image`` and write the result to ``out`` (what ``petnet filter``
    does): alpha is kept unchanged, 16-bit grey stays 16-bit, edge results are written as
    :func:`to_display` shows them. ``compare``: also write the figure *original | result* there
    (``True``: ``OUT_compare.png``). Every path and parameter is checked before any work."""
    src = Path(image)
    out = check_output(out, "out")
    fig = None
    if compare:
        fig = out.with_name(out.stem + "_compare.png") if compare is True else Path(compare)
        fig = check_picture_path(fig, "compare")
    guard({"out": out, "compare": fig}, {"image": src}, kinds={"image": "file", "out": "image", "compare": "picture"})
    spec = FILTERS.get(kernel, param="kernel")
    run = prepare(spec.name, **params)
    pic = load_image(src)
    t0 = time.perf_counter()
    result = to_display(run(pic.pixels), spec.name)
    seconds = time.perf_counter() - t0
    save_image(out, result, pic.alpha, pic.bits)
    if fig is not None:
        compare_figure(fig, pic.pixels, result, spec.name)
    h, w = pic.pixels.shape[:2]
    border = params.get("border", spec.defaults["border"])
    return FilteredFile(out, w, h, spec.name, border, seconds, fig)
