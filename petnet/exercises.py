"""练习 (exercises) of the notebooks: a checking cell that says, in Chinese, whether an answer is right.

Every notebook of ``notebooks/`` ends with 3-5 exercises in which the learner writes a function. An
exercise is two cells: a stub the learner fills in ::

    def sobel_x(image):
        raise NotImplementedError      # 在这里写你的代码 (your code here)

and a checking cell that compares the answer with petnet's own implementation::

    check(1, lambda: close(sobel_x(img), apply(img, "sobel_x"), "Sobel x"))

:func:`check` runs the test and prints one line, whatever happens, and never raises, so a notebook
with unfinished exercises still runs to the end::

    练习 1：还没做（not done yet）——在上面的格子里写好函数，再运行这一格。
    练习 1：不对（wrong）：Sobel x：和 petnet 的结果不一样，最大差 0.5 ...
    练习 1：出错了（error）：ValueError: ...
    练习 1：正确（right）！

The reference solutions are in ``notebooks/solutions/``; ``tests/test_notebooks.py`` runs every
notebook with its stubs (each check must say 还没做) and then every solution cell followed by its
checking cell (each must say 正确).
"""

from __future__ import annotations

import numpy as np

#: the verdicts check() prints (and returns, as the English word)
VERDICTS = {"todo": "还没做（not done yet）", "wrong": "不对（wrong）", "error": "出错了（error）",
            "right": "正确（right）"}


def check(number: int, test) -> str:
    """Run ``test()`` for exercise ``number`` and print the verdict; returns ``"todo"``,
    ``"wrong"``, ``"error"`` or ``"right"``. ``NotImplementedError`` (the stub) means not done yet,
    an ``AssertionError`` (from :func:`close`, :func:`same` or a plain ``assert``) means wrong."""
    try:
        test()
    except NotImplementedError:
        verdict, detail = "todo", "——在上面的格子里写好函数，再运行这一格。"
    except AssertionError as exc:
        verdict, detail = "wrong", f"：{exc}" if str(exc) else "。"
    except Exception as exc:                       # the learner's code failed: say what, go on
        verdict, detail = "error", f"：{type(exc).__name__}: {exc}"
    else:
        verdict, detail = "right", "！"
    print(f"练习 {number}：{VERDICTS[verdict]}{detail}")
    return verdict


def close(actual, expected, what: str, rtol: float = 1e-5, atol: float | None = None) -> None:
    """``AssertionError`` (in Chinese, naming ``what``) unless ``actual`` has ``expected``'s shape
    and is within ``atol + rtol * |expected|`` of it everywhere. ``atol`` defaults to 1e-6 times the
    largest ``|expected|`` (at least 1e-6): float32 rounding near zero is not a mistake."""
    if actual is None:
        raise AssertionError(f"{what}：是 None，函数忘了 return 吗？")
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}：形状是 {a.shape}，应该是 {e.shape}")
    if not np.all(np.isfinite(a)):
        raise AssertionError(f"{what}：里面有 NaN 或无穷大")
    if atol is None:
        atol = 1e-6 * max(1.0, float(np.abs(e).max()) if e.size else 1.0)
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(a - e)), a.shape) if a.ndim else ()
        raise AssertionError(f"{what}：和 petnet 的结果不一样，最大差 {np.abs(a - e).max():.3g}"
                             + (f"，在位置 {tuple(int(i) for i in worst)}（你的 {a[worst]:.6g}，"
                                f"petnet 的 {e[worst]:.6g}）" if a.ndim else f"（你的 {float(a):.6g}，"
                                                                          f"petnet 的 {float(e):.6g}）"))


def same(actual, expected, what: str) -> None:
    """``AssertionError`` (in Chinese, naming ``what``) unless ``actual == expected``."""
    if actual != expected:
        raise AssertionError(f"{what}：是 {actual!r}，应该是 {expected!r}")
