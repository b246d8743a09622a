"""petnet.exercises: the notebooks' checking cells say right, wrong, error or not done -- and never raise."""

import re

import numpy as np
import pytest

from petnet.exercises import check, close, same


def test_each_verdict_is_one_line_and_never_raises(capsys):
    def todo():
        raise NotImplementedError

    def wrong():
        close([1.0, 2.0], [1.0, 2.5], "梯度")

    def error():
        return 1 / 0

    assert [check(1, todo), check(2, wrong), check(3, error), check(4, lambda: None)] == \
        ["todo", "wrong", "error", "right"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("练习 1：还没做（not done yet）")
    assert lines[1].startswith("练习 2：不对（wrong）：梯度：和 petnet 的结果不一样，最大差 0.5，在位置 (1,)")
    assert lines[2] == "练习 3：出错了（error）：ZeroDivisionError: division by zero"
    assert lines[3] == "练习 4：正确（right）！" and len(lines) == 4


@pytest.mark.parametrize("actual,message", [
    (None, "矩阵：是 None，函数忘了 return 吗？"), (np.zeros(3), "矩阵：形状是 (3,)，应该是 (2, 2)"),
    (np.full((2, 2), np.nan), "矩阵：里面有 NaN"), (np.eye(2) * 2, "最大差 1，"), (np.eye(2) + 1e-3, "最大差 0.001，")])
def test_close_says_what_is_wrong(actual, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        close(actual, np.eye(2), "矩阵")


def test_close_accepts_rounding_and_scalars():
    close(np.eye(2) + 1e-9, np.eye(2), "矩阵")
    close(3.0000001, 3.0, "数")
    with pytest.raises(AssertionError, match="你的 2，petnet 的 3"):
        close(2.0, 3.0, "数")


def test_same():
    same((1, 2), (1, 2), "形状")
    with pytest.raises(AssertionError, match="个数：是 3，应该是 4"):
        same(3, 4, "个数")
