"""`petnet vgg summary`: the table and the JSON carry the published totals."""

import json

from petnet.cli import main


def test_json_vgg16(capsys):
    assert main(["vgg", "summary", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["config"] == "D" and s["total_params"] == 138_357_544
    assert sum(layer["params"] for layer in s["layers"]) == s["total_params"]
    assert sum(layer["macs"] for layer in s["layers"]) == s["total_macs"]
    fc1 = next(layer for layer in s["layers"] if layer["name"] == "fc1")
    assert fc1["params"] == 7 * 7 * 512 * 4096 + 4096 and fc1["output_shape"] == [4096]


def test_table_and_options(capsys):
    assert main(["vgg", "summary", "--config", "E"]) == 0
    out = capsys.readouterr().out
    assert "143,667,240" in out and "block5_conv4" in out and "predictions" in out
    assert main(["vgg", "summary", "--config", "A", "--input", "32", "--classes", "10",
                 "--no-top", "--pooling", "max", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["layers"][-1]["name"] == "max_pool" and s["layers"][-1]["output_shape"] == [512]
    assert s["total_params"] == s["conv_params"]


def test_user_errors(capsys):
    assert main(["vgg", "summary", "--config", "Z"]) == 2
    assert main(["vgg", "summary", "--input", "8"]) == 2
    assert main(["vgg", "summary", "--pooling", "avg"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3


def test_python_api_is_what_the_command_prints(capsys):
    from petnet.vgg import VGGSummary, summary

    s = summary("E", (224, 224, 3))
    assert isinstance(s, VGGSummary) and s.total_params == 143_667_240
    assert sum(row.params for row in s.rows) == s.total_params
    assert main(["vgg", "summary", "--config", "E", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == s.to_dict()
    assert main(["vgg", "summary", "--config", "E"]) == 0
    assert capsys.readouterr().out == s.text() + "\n"
