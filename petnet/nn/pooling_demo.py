"""Pooling keeps what matters (talk 3.3.2): "a 1024 x 1024 RGB image compressed to 200 pixels still
looks the same -- a dog is still a dog, a cat still a cat", shown and measured.

A photo's centre square, resized to ``size`` x ``size`` (the talk's 1024), is max-pooled and
average-pooled with the engine's ``MaxPooling2D`` / ``AveragePooling2D`` by windows of f x f
(stride f), f = 1, 2, 4, 5, 8, 16, 32, 64: 1024 -> 512 -> 256 -> 204 -> 128 -> 64 -> 32 -> 16 pixels
a side (a smaller photo is enlarged to 1024 first).
Each pooled image goes to a pet recognizer, which says which breed it still sees. The recognizer is
chapter 6's (``petnet.pets.Recognizer``), two floors above ``petnet.nn`` (``docs/architecture.md``),
so it is an argument: ``pooling_pyramid(photo, recognizer=Recognizer(top=1))``; ``petnet nn
pooling`` gets it from the top-level command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.nn.pooling import AveragePooling2D, MaxPooling2D
from petnet.validate import check_choice, check_int

FACTORS = (1, 2, 4, 5, 8, 16, 32, 64)
MODES = {"max": MaxPooling2D, "average": AveragePooling2D}


def _to_pil(photo):
    """``(RGB PIL.Image, source)`` of a path, a ``PIL.Image`` or an (H, W, 3) uint8 array."""
    from PIL import Image

    from petnet.image_file import open_image

    if isinstance(photo, np.ndarray):
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise PetnetError(f"a photo array must be (height, width, 3) uint8 RGB, got {photo.shape} {photo.dtype}")
        return Image.fromarray(photo), "<array>"
    if isinstance(photo, Image.Image):
        return photo.convert("RGB"), "<PIL.Image>"
    return open_image(photo).convert("RGB"), str(photo)


def square_photo(photo, size: int = 1024) -> np.ndarray:
    """The centre square of ``photo`` (a path, a ``PIL.Image`` or an (H, W, 3) uint8 array) resized
    to ``size`` x ``size`` (bicubic), as (size, size, 3) uint8 RGB."""
    from PIL import Image

    size = check_int("size", size, min=1, max=8192)
    img, _ = _to_pil(photo)
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    return np.asarray(img.resize((size, size), Image.BICUBIC), dtype=np.uint8)


def pool(image: np.ndarray, factor: int, mode: str = "max") -> np.ndarray:
    """``image`` (H, W, C) pooled by ``factor`` x ``factor`` windows with stride ``factor`` ('valid':
    a last partial window is dropped), with the engine's pooling layer, as float32."""
    factor = check_int("factor", factor, min=1, max=4096)
    mode = check_choice("mode", mode, MODES)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise PetnetError(f"pool takes one (height, width, channels) image, got shape {image.shape}")
    if factor > min(image.shape[:2]):
        raise ParamError("factor", f"must be at most the image's smaller side {min(image.shape[:2])}, got {factor}")
    if factor == 1:
        return image.copy()
    return MODES[mode]((factor, factor))(image[None])[0]


@dataclass
class Pooled:
    """One pooled image and what the recognizer said about it (``label``/``name``/``score`` of its
    top guess; None without a recognizer)."""
    mode: str
    factor: int
    image: np.ndarray          # (side, side, 3) uint8
    label: str | None = None
    name: str | None = None
    score: float | None = None

    @property
    def side(self) -> int:
        return self.image.shape[0]


@dataclass
class PoolingResult:
    source: str
    size: int
    original_size: tuple[int, int]          # (width, height) of the photo, before cropping and resizing
    rows: list[Pooled] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"source": self.source, "size": self.size, "original_size": list(self.original_size),
                "rows": [{"mode": r.mode, "factor": r.factor, "side": r.side, "label": r.label,
                          "name": r.name, "score": r.score} for r in self.rows]}


def pooling_pyramid(photo, *, size: int = 1024, factors=FACTORS, modes=tuple(MODES),
                    recognizer=None) -> PoolingResult:
    """Pool ``photo`` (see :func:`square_photo`) by every factor in ``factors`` with every mode in
    ``modes`` and, given a ``recognizer`` (e.g. ``petnet.pets.Recognizer(top=1)``, the embedded 37
    breeds: anything whose ``predict(list of uint8 arrays)`` returns predictions with a ``top``
    list of ``label``/``name``/``score`` guesses), ask it for the breed of each pooled image.
    Without one, only the pictures."""
    size = check_int("size", size, min=1, max=8192)
    factors = [check_int("factors", f, min=1, max=size) for f in factors]
    modes = [check_choice("modes", m, MODES) for m in modes]
    if recognizer is not None and not callable(getattr(recognizer, "predict", None)):
        raise ParamError("recognizer", f"must have a predict method (e.g. petnet.pets.Recognizer(top=1)), "
                         f"got {type(recognizer).__name__}")
    img, source = _to_pil(photo)
    square = square_photo(img, size)
    result = PoolingResult(source, size, img.size)
    for mode in modes:
        for f in factors:
            pooled = np.clip(np.rint(pool(square, f, mode)), 0, 255).astype(np.uint8)
            result.rows.append(Pooled(mode, f, pooled))
    if recognizer is not None:
        for row, p in zip(result.rows, recognizer.predict([r.image for r in result.rows])):
            if p.top:
                row.label, row.name, row.score = p.top[0].label, p.top[0].name, float(p.top[0].score)
    return result


def format_result(r: PoolingResult) -> str:
    """The table ``petnet nn pooling`` prints."""
    w, h = r.original_size
    lines = [f"{r.source}: {w}x{h}, centre square resized to {r.size}x{r.size}",
             f"{'pooling':<8} {'window':>6} {'pixels':>9}  breed (top 1)"]
    for row in r.rows:
        guess = "-" if row.label is None else f"{row.label} {row.name} {row.score:.4f}"
        lines.append(f"{row.mode:<8} {f'{row.factor}x{row.factor}':>6} {f'{row.side}x{row.side}':>9}  {guess}")
    return "\n".join(lines)


def plot_pooling(r: PoolingResult, out=None, show: bool = False):
    """One row per mode, one column per pooled size, each titled with its size and top breed."""
    from petnet.plotting import finish, literal, pyplot

    plt = pyplot(show)
    modes = list(dict.fromkeys(row.mode for row in r.rows))
    cols = len(r.rows) // len(modes)
    fig, axes = plt.subplots(len(modes), cols, figsize=(1.7 * cols, 2.1 * len(modes)), squeeze=False)
    for k, row in enumerate(r.rows):
        ax = axes[k // cols, k % cols]
        ax.imshow(row.image, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        title = f"{row.mode} {row.side}x{row.side}"
        if row.label is not None:
            title += f"\n{literal(row.label)} {row.score:.2f}"
        ax.set_title(title, fontsize=7)
    return finish(fig, out, show, dpi=90)     # photographs: a small PNG is enough
