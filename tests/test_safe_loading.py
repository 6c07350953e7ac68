"""Safe loading (issue 13): no artifact is unpickled except by the explicit import command; YAML is read with
safe_load; names from data files that look like paths (`../`, absolute, NUL) never become paths; the
OpenAI-compatible backend never prints, logs or records its API key."""

from __future__ import annotations

import ast
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus import squash
from rpcli.cli.main import app

runner = CliRunner()
PKG = Path(__file__).resolve().parents[1] / "rpcli"
REPO = PKG.parent

# The one place an artifact may be unpickled: `rp graph import` of a .pt built by the original code (its help says
# the file is unpickled and must be trusted).
PICKLE_ALLOWED = {("rpcli/services/artifacts/graphs.py", "torch.load")}


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    else f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")
            yield name, node


def _kw(node, key):
    for k in node.keywords:
        if k.arg == key:
            return k.value
    return None


def _const(v):
    return v.value if isinstance(v, ast.Constant) else object()


def test_no_unsafe_deserialisation_in_the_code():
    """Every torch.load passes weights_only=True, every np.load leaves allow_pickle off, YAML is read with
    safe_load only, and pickle / marshal / shelve are not used to read, except the explicit graph import."""
    seen = {"torch.load": 0, "yaml.safe_load": 0, "bounded_yaml.safe_load": 0}
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, node in _calls(tree):
            where = f"{rel}:{node.lineno}"
            if name == "torch.load":
                seen[name] += 1
                if _const(_kw(node, "weights_only")) is not True and (rel, name) not in PICKLE_ALLOWED:
                    bad.append(f"{where}: torch.load without weights_only=True")
            elif name in ("np.load", "numpy.load"):
                if _kw(node, "allow_pickle") is not None and _const(_kw(node, "allow_pickle")) is not False:
                    bad.append(f"{where}: np.load with allow_pickle")
            elif name in ("yaml.load", "yaml.unsafe_load", "yaml.full_load", "yaml.load_all", "yaml.unsafe_load_all"):
                bad.append(f"{where}: {name} (use yaml.safe_load)")
            elif name == "yaml.safe_load":
                seen[name] += 1
                # a user's YAML goes through rpcli.core.bounded_yaml (alias expansion and size bounded); only that
                # module and the loader of the shipped prompt templates call yaml.safe_load directly
                if rel not in ("rpcli/core/bounded_yaml.py", "rpcli/core/profiles/text_gnn.py"):
                    bad.append(f"{where}: yaml.safe_load on input (use rpcli.core.bounded_yaml.safe_load)")
            elif name in ("bounded_yaml.safe_load", "bounded_yaml.safe_load_with_node"):
                seen["bounded_yaml.safe_load"] += 1
            elif name in ("pickle.load", "pickle.loads", "marshal.load", "marshal.loads", "shelve.open",
                          "dill.load", "dill.loads", "cloudpickle.loads"):
                bad.append(f"{where}: {name}")
        for node in ast.walk(tree):  # a loader class that constructs arbitrary objects, named anywhere
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml" \
                    and node.attr in ("Loader", "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader",
                                      "CFullLoader", "unsafe_load", "full_load"):
                bad.append(f"{rel}:{node.lineno}: yaml.{node.attr} (only the safe loaders)")
    assert bad == [], "\n".join(bad)
    assert seen["torch.load"] >= 3 and seen["bounded_yaml.safe_load"] >= 5, seen  # the audit saw the call sites


def test_the_audit_catches_an_unsafe_load():
    """The checks above can fail: the same walk over a snippet with each unsafe call reports it."""
    snippet = ("import torch, yaml, numpy as np, pickle\n"
               "torch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n"
               "yaml.load(t, Loader=yaml.Loader)\npickle.loads(b)\n")
    names = [n for n, node in _calls(ast.parse(snippet))]
    tl = [node for n, node in _calls(ast.parse(snippet)) if n == "torch.load"]
    assert [_const(_kw(x, "weights_only")) is True for x in tl] == [False, False]
    assert {"np.load", "yaml.load", "pickle.loads"} <= set(names)


# --------------------------------------------------------------------------------------- names that look like paths
def _rename(files: dict, old: str, new: str) -> None:
    """Rename a model or task everywhere it appears as a whole JSON string (keys and values)."""
    for rel, content in list(files.items()):
        text = json.dumps(content).replace(json.dumps(old), json.dumps(new))
        files[rel] = json.loads(text)


def test_names_that_look_like_paths_never_become_paths(tmp_path):
    from tiny import write_tiny

    absolute = f"/tmp/rp-abs-task-{os.getpid()}"
    names = {"m2": "../../escape-m2", "t_code": absolute, "FamB": "..\\..\\fxq\u0000nul"}

    def mutate(f):
        for old, new in names.items():
            _rename(f, old, new)

    data = write_tiny(tmp_path / "data", mutate)
    ws = tmp_path / "ws"
    base = ["-w", str(ws), "-d", str(data), "--encoder", "hash:32", "-q"]
    r = runner.invoke(app, [*base, "data", "check"])
    assert r.exit_code == 0, r.output  # such names are data: they load
    ids = {}
    for what, args in (("graph", ["graph", "build", "task", "--mode", "standard"]),
                       ("index", ["profile", "index", "--mode", "standard"]),
                       ("emb", ["profile", "emb-gnn", "--mode", "standard", "--K", "1"]),
                       ("text", ["profile", "text-gnn", "--mode", "standard", "--K", "1", "--backend", "extractive"]),
                       ("sim", ["route", "sim", "--profile", "{emb}", "--mode", "standard"]),
                       ("mlp", ["route", "mlp", "--profile", "{emb}", "--mode", "standard", "--epochs", "1",
                                "--hidden", "8", "--out-dim", "4"])):
        r = runner.invoke(app, [*base, *[a.format(**ids) for a in args]])
        assert r.exit_code == 0 and r.exception is None, (what, r.output)
        ids[what] = r.stdout.strip()
    grid = tmp_path / "grid.yaml"
    grid.write_text("name: names\nprofiles:\n  - method: index\nrouters:\n  - router: sim\n")
    r = runner.invoke(app, [*base, "sweep", str(grid)])
    assert r.exit_code == 0, r.output
    assert not Path(absolute).exists() and not Path(absolute).parent.joinpath("escape-m2").exists()
    for p in tmp_path.rglob("*"):
        rel = p.relative_to(tmp_path).as_posix()
        assert "escape" not in rel and "abs-task" not in rel and "fxq" not in rel, f"a data name became a path: {rel}"
    # the names are kept as data, where they belong
    preds = (ws / "runs" / ids["sim"] / "predictions.jsonl").read_text()
    assert "../../escape-m2" in preds
    v = runner.invoke(app, [*base, "ws", "verify"])
    assert v.exit_code == 0, v.output


# --------------------------------------------------------------------------------------- the API key
SECRET = "sk-rp-test-5ecret-0123456789abcdef"


class _Endpoint:
    """/v1/chat/completions on 127.0.0.1: answers 200, or (reject=True) a 401 that echoes the Authorization header
    it got, as some servers echo the key they refused."""

    def __init__(self, reject: bool):
        self.auth: list = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization")
                outer.auth.append(auth)
                if reject:
                    code, payload = 401, {"error": {"message": f"Incorrect API key provided: {auth}"}}
                else:
                    code, payload = 200, {"choices": [{"message": {"role": "assistant", "content":
                                                                   f"text of {len(body['messages'][0]['content'])}"}}]}
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _no_secret_in(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and SECRET.encode() in
            p.read_bytes()]


@pytest.mark.parametrize("reject", [False, True], ids=["served", "key-refused-and-echoed"])
def test_the_api_key_is_never_printed_or_recorded(tiny_data, tmp_path, monkeypatch, caplog, reject):
    monkeypatch.setenv("RP_TEST_SECRET", SECRET)
    ws = tmp_path / "ws"
    with _Endpoint(reject) as srv:
        r = runner.invoke(app, ["-w", str(ws), "-d", str(tiny_data), "--encoder", "hash:32", "profile", "text-gnn",
                                "--mode", "standard", "--K", "1", "--backend", "openai", "--base-url", srv.url,
                                "--model", "chat", "--api-key-env", "RP_TEST_SECRET", "--max-retries", "0",
                                "--concurrency", "1", "--json"])
    assert srv.auth and all(a == f"Bearer {SECRET}" for a in srv.auth), "the key was sent (the test is live)"
    if reject:
        text = squash(r.output)
        assert r.exit_code == 1 and "HTTP401" in text and "IncorrectAPIkeyprovided:Bearer[redacted]" in text, r.output
    else:
        assert r.exit_code == 0, r.output
        entry = json.loads(r.stdout)
        assert entry["params"]["llm"]["base_url"] == srv.url and SECRET not in json.dumps(entry)
    assert SECRET not in r.output and SECRET not in squash(r.output) and SECRET not in str(r.exception or "")
    assert SECRET not in caplog.text
    assert _no_secret_in(ws) == [], "the key is in a workspace file"
