"""The lock of ``petnet serve`` (petnet.serve.security): with ``--token`` every endpoint but the
page and ``/healthz`` needs it, reads included; without one, a page of another site cannot change
anything through the user's browser, and a request for another Host (DNS rebinding) is refused; a
non-loopback address needs a token or an explicit ``--allow-open``; a token that could never
match is refused at start."""

from __future__ import annotations

import pytest

from petnet.errors import ParamError

from .conftest import photo

RED, BLUE = (210, 40, 30), (30, 60, 220)
TOKEN = "s3cret-Token_1"


def _teach(s, name, color, headers=None, n=5, seed=0):
    _, _, c = s.request("POST", "/api/classes", json_body={"name": name}, headers=headers)
    files = [("files", f"{name}{i}.png", photo(color, noise=25, seed=seed + i)) for i in range(n)]
    assert s.request("POST", f"/api/classes/{c['id']}/photos", files=files, headers=headers)[0] == 201
    return c


def _endpoints(s, headers):
    """Every (method, path) of the API, as ``/openapi.json`` lists it, with real ids filled in."""
    _, _, api = s.request("GET", "/openapi.json")
    _, _, classes = s.request("GET", "/api/classes", headers=headers)
    cid = classes[0]["id"]
    pid = s.request("GET", f"/api/classes/{cid}/photos", headers=headers)[2][0]
    out = []
    for path, ops in api["paths"].items():
        for method in ops:
            out.append((method.upper(), path.replace("{class_id}", cid).replace("{photo_id}", pid)
                        .replace("{version}", "m0001"), ops[method]))
    return api, out


def test_with_a_token_every_endpoint_needs_it(start_server, monkeypatch):
    from petnet.serve import engine
    monkeypatch.setattr(engine, "export_onnx", lambda src, out: out.write_bytes(b"onnx"))   # the lock, not ONNX
    s = start_server(token=TOKEN)
    good = {"Authorization": f"Bearer {TOKEN}"}
    _teach(s, "a", RED, good)
    _teach(s, "b", BLUE, good, seed=10)
    assert s.train(headers=good)["state"] == "done"
    api, endpoints = _endpoints(s, good)
    assert len(endpoints) >= 20
    open_ones = []
    for method, path, op in endpoints:
        for bad in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Basic " + TOKEN}):
            status, _, body = s.request(method, path, headers=bad, body=b"")
            if path == "/healthz":
                assert status == 200
                open_ones.append(path)
                continue
            assert status == 401, (method, path, bad, status, body)
            assert body["code"] == "token_required" and "token" in body["detail"]
        if path != "/healthz":
            assert op.get("security") == [{"token": []}], (method, path)   # /docs shows the lock
    # the page, its files and the docs stay open (the page and /docs take the token themselves)
    for path in ("/", "/static/app.js", "/static/app.css", "/static/examples/pug.jpg", "/docs", "/openapi.json",
                 "/font/petnet-cjk.otf", "/healthz"):
        assert s.request("GET", path)[0] == 200, path
    assert api["components"]["securitySchemes"]["token"] == {
        "type": "http", "scheme": "bearer", "description": api["components"]["securitySchemes"]["token"]["description"]}
    # with the token: answered (the reads 200; the changes are refused for their own reasons, never 401)
    for method, path, _ in sorted(endpoints, key=lambda e: e[0] != "GET"):     # reads before changes
        status, _, body = s.request(method, path, headers={"Authorization": f"bearer {TOKEN}"}, body=b"")
        assert status != 401, (method, path, body)
        if method == "GET":
            assert status == 200, (method, path, body)


def _state(s):
    return (s.request("GET", "/api/model")[2]["version"], s.request("GET", "/api/models")[2],
            s.request("GET", "/api/classes")[2], s.request("GET", "/api/train")[2]["state"])


def test_without_a_token_other_sites_cannot_change_anything(start_server):
    s = start_server()
    a = _teach(s, "a", RED)
    _teach(s, "b", BLUE, seed=10)
    assert s.train()["state"] == "done"
    assert s.request("POST", "/api/models/base/activate")[0] == 200     # served: base, previous: m0001
    before = _state(s)
    model_file = s.request("GET", "/api/models/m0001/model.npz")[2]
    evil = [{"Origin": "http://evil.example"}, {"Origin": "null"},
            {"Origin": f"http://localhost:{s.port + 1}"},                       # same site, another port
            {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
            {"Origin": f"http://127.0.0.1:{s.port}", "Sec-Fetch-Site": "cross-site"}]
    changes = [("POST", "/api/models/m0001/activate", b""), ("POST", "/api/model/rollback", b""),
               ("POST", "/api/train", b""), ("POST", "/api/classes", b'{"name": "evil"}'),
               ("DELETE", f"/api/classes/{a['id']}", b""), ("PATCH", f"/api/classes/{a['id']}", b'{"name": "x"}'),
               ("DELETE", "/api/models/m0001", b"")]
    for headers in evil:
        for method, path, body in changes:
            status, _, out = s.request(method, path, body=body, headers={**headers, "Content-Type": "text/plain"})
            assert status == 403 and out["code"] == "cross_site", (headers, method, path, out)
        status, _, out = s.request("POST", f"/api/classes/{a['id']}/photos", headers=headers,
                                   files=[("files", "x.png", photo((1, 2, 3)))])
        assert status == 403, out
        assert s.request("POST", "/api/models", headers=headers, files=[("file", "m.npz", model_file)])[0] == 403
    assert _state(s) == before                                                # nothing changed
    # the server's own page (same origin) and clients without those headers (curl) may
    own = {"Origin": f"http://127.0.0.1:{s.port}", "Sec-Fetch-Site": "same-origin"}
    assert s.request("POST", "/api/models/m0001/activate", headers=own)[0] == 200
    assert s.request("POST", "/api/model/rollback")[0] == 200


def test_without_a_token_a_foreign_host_is_refused(start_server):
    s = start_server()
    for host in ("evil.example", f"evil.example:{s.port}", f"127.0.0.1:{s.port + 1}", f"localhost.evil.example:{s.port}",
                 f"127.0.0.1.evil.example:{s.port}", ""):
        for method, path in (("GET", "/"), ("GET", "/api/classes"), ("GET", "/api/model"), ("POST", "/api/train")):
            status, _, out = s.request(method, path, headers={"Host": host})
            assert status == 403 and out["code"] == "foreign_host", (host, path, status)
    for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}", f"LOCALHOST:{s.port}", f"[::1]:{s.port}"):
        assert s.request("GET", "/api/classes", headers={"Host": host})[0] == 200, host
    # with a token, any Host (a LAN address, a name) is fine: nothing answers without the token
    t = start_server(data_dir=s.config.data_dir.parent / "t", token=TOKEN)
    assert t.request("GET", "/api/classes", headers={"Host": "pets.example:8000",
                                                     "Authorization": f"Bearer {TOKEN}"})[0] == 200


@pytest.mark.parametrize("token", ["密码", " s3cret", "s3cret ", "", "tab\tin", "caf\u00e9"])
def test_a_token_that_could_never_match_is_refused_at_start(token, tmp_path, capsys):
    from petnet.cli import main
    from petnet.serve.security import check_token
    with pytest.raises(ParamError) as err:
        check_token(token)
    assert err.value.param == "token"
    assert main(["serve", "--token", token, "--data-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().err
    assert out.startswith("error: --token ") and ("ASCII" in out or "spaces" in out or "empty" in out), out
    assert check_token("s3cret-Token_1~!") == "s3cret-Token_1~!"


def test_a_non_loopback_address_needs_a_token_or_allow_open(tmp_path, capsys, monkeypatch):
    from petnet.cli import main
    from petnet.serve import app as app_module
    assert main(["serve", "--host", "0.0.0.0", "--port", "1", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--token" in err and "--allow-open" in err
    started = []
    monkeypatch.setattr(app_module, "listen", lambda host, port: (host, port))
    monkeypatch.setattr(app_module, "create_app", lambda config: config)
    monkeypatch.setattr(app_module, "serve", lambda app, sock: started.append((app, sock)))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--allow-open", "--data-dir", str(tmp_path)]) == 0
    assert "without --token (--allow-open)" in capsys.readouterr().out
    assert main(["serve", "--host", "0.0.0.0", "--port", "8124", "--token", TOKEN, "--data-dir", str(tmp_path)]) == 0
    monkeypatch.setenv("PETNET_SERVE_TOKEN", TOKEN)                  # the token from the environment
    assert main(["serve", "--host", "0.0.0.0", "--port", "8125", "--data-dir", str(tmp_path)]) == 0
    assert [(c.host, c.token, sock) for c, sock in started] == [("0.0.0.0", None, ("0.0.0.0", 8123)),
                                                                ("0.0.0.0", TOKEN, ("0.0.0.0", 8124)),
                                                                ("0.0.0.0", TOKEN, ("0.0.0.0", 8125))]
