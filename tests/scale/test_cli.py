"""``--ray`` on ``petnet predict`` / ``petnet retrain``: added by ``petnet.scale.cli`` (a floor above
``petnet.pets``, which never imports it) and routed there; without ``--ray`` the commands run
locally. No cluster is started here: the routes are caught before any Ray work."""

from __future__ import annotations

import functools

import pytest

from petnet.cli import build_parser, main


class Stop(Exception):
    """Raised by the stand-ins below to end a command where the route is known."""


def parse(*argv):
    return build_parser().parse_args(list(argv))


def test_the_ray_flags_are_on_both_commands():
    args = parse("predict", "x.jpg", "--ray", "local", "--out", "r.parquet", "--workers", "2", "--device", "cuda")
    assert (args.ray, args.out, args.workers, args.device) == ("local", "r.parquet", 2, "cuda")
    args = parse("retrain", "--image_dir", "photos", "--ray", "auto")
    assert (args.ray, args.device) == ("auto", "cpu")
    local = parse("predict", "x.jpg")
    assert (local.ray, local.out, local.workers, local.device) == (None, None, None, "cpu")


def test_predict_with_ray_goes_to_the_bulk_job(monkeypatch, tmp_path):
    import petnet.pets.predict
    import petnet.scale.bulk

    seen = {}

    def bulk_predict(sources, out, **kw):
        seen.update(kw, sources=sources, out=out)
        raise Stop

    def local(*a, **k):
        raise AssertionError("predict --ray ran the local recognizer")

    monkeypatch.setattr(petnet.scale.bulk, "bulk_predict", bulk_predict)
    monkeypatch.setattr(petnet.pets.predict, "Recognizer", local)
    with pytest.raises(Stop):
        main(["predict", "a.jpg", "b/", "--ray", "local", "--out", str(tmp_path / "r.jsonl"), "--workers", "3",
              "--top", "2"])
    assert seen["sources"] == ["a.jpg", "b/"] and seen["ray_address"] == "local"
    assert seen["workers"] == 3 and seen["config"].top == 2 and seen["out"] == str(tmp_path / "r.jsonl")


def test_predict_with_ray_refuses_local_outputs(capsys):
    assert main(["predict", "a.jpg", "--ray", "local", "--out", "r.jsonl", "--json"]) == 2
    assert "--json, --csv, --sheet and --show are for local runs" in capsys.readouterr().err
    assert main(["predict", "a.jpg", "--ray", "local"]) == 2
    assert "add --out results.parquet" in capsys.readouterr().err


@pytest.mark.parametrize("argv, want", [
    (["--ray", "local"], "ray"),
    (["--ray", "ray://head:10001", "--device", "cuda"], "ray"),
    (["--device", "cuda"], "device"),
    ([], None),
])
def test_retrain_gets_the_backbone_of_its_flags(monkeypatch, tmp_path, argv, want):
    import sys

    from petnet.pets.backbone import Backbone
    from petnet.scale.features import RayBackbone

    seen = {}

    def retrain(image_dir, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(sys.modules["petnet.pets.retrain"], "retrain", retrain)   # the module, not the function
    with pytest.raises(Stop):
        main(["retrain", "--image_dir", str(tmp_path), "--architecture", "lite0",
              "--output_graph", str(tmp_path / "m.npz"), "--output_labels", str(tmp_path / "l.txt")] + argv)
    factory = seen["backbone_factory"]
    if want is None:
        assert factory is None
        return
    assert isinstance(factory, functools.partial)
    device = "cuda" if "cuda" in argv else "cpu"
    if want == "ray":
        assert factory.func is RayBackbone and factory.args == ("lite0", argv[1])
    else:
        assert factory.func is Backbone and factory.args == ("lite0",)
    assert factory.keywords == {"device": device, "precision": "fp32"}    # the precision retrain stores
