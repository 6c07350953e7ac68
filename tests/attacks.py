"""Hostile inputs (issue 23): files built to exhaust the machine, and requests built to abuse `rp serve`.

Each CLI attack runs `python -m rpcli` in its own process, so its peak memory (the process's maximum resident set,
measured by a small launcher process: see `_LAUNCHER`) and wall time are its own. It passes when the command exits 1 or 2 with an error that names the file
and the limit, prints no traceback, stays under 1 GB, and leaves the workspace and any --out folder as they were.

The server attacks run against `rp serve` in its own process (a recorded run on the tiny data, loopback upstreams
from tests/test_serve.py, a client key, default limits but a 2 s --body-timeout so that the slow-body case is quick): each is answered with the documented status (413, 400, 401, 429 with
Retry-After), and afterwards a normal request is still answered and the server's peak memory is under 1 GB.

Used by tests/test_attacks.py (asserts every case) and scripts/reliability_report.py (tabulates time and memory for
docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from corpus import squash, tree_digest
from tiny import write_tiny

REPO = Path(__file__).resolve().parents[1]
GB = 1024 ** 3
TIMEOUT_S = 120  # a hang guard only: the 10 s target is reported (docs/reliability.md), not asserted in a test


# ------------------------------------------------------------------------------------------------ CLI attacks
@dataclass(frozen=True)
class Attack:
    name: str
    what: str  # one line for the report
    prepare: Callable[[Path, dict], list] = field(compare=False, repr=False)  # (folder, ctx) -> rp argv
    words: tuple = ()  # the error must hold these (the file's name is added by prepare via ctx["names"])
    exit: tuple = (1, 2)


def _laughs(levels: int = 11, width: int = 10) -> str:
    lines = ['a0: &a0 [' + ",".join(['"lol"'] * width) + ']']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def _sweep_laughs(d: Path, ctx: dict) -> list:
    f = d / "sweep.yaml"
    f.write_text(_laughs() + "profiles:\n  - method: index\n")
    ctx["names"] = [f]
    return ["sweep", str(f), "--dry-run"]


def _sweep_flat(d: Path, ctx: dict) -> list:
    """The costliest YAML within the size limit (bounded_yaml.MAX_BYTES): one flow list of numbers filling it
    (composed, counted, constructed, and refused by the sweep validator: a number list is not a sweep's modes)."""
    from rpcli.core.bounded_yaml import MAX_BYTES

    head = "profiles:\n  - method: index\nmodes: ["
    n = (MAX_BYTES - len(head) - 4) // 2
    f = d / "flat.yaml"
    f.write_text(head + ",".join(["1"] * n) + "]\n")
    assert f.stat().st_size <= MAX_BYTES
    ctx["names"] = [f]
    return ["sweep", str(f), "--dry-run"]


def _sweep_over_size(d: Path, ctx: dict) -> list:
    from rpcli.core.bounded_yaml import MAX_BYTES

    f = d / "big.yaml"
    f.write_text("profiles:\n  - method: index\n# " + "x" * MAX_BYTES + "\n")
    ctx["names"] = [f]
    return ["sweep", str(f), "--dry-run"]


def _cards_laughs(d: Path, ctx: dict) -> list:
    f = d / "card.yaml"
    f.write_text(_laughs() + "name: newbie\ndescription: a model\nfamily: FamC\n")
    ctx["names"] = [f]
    ctx["also"] = [d / "out"]
    return ["model", "add", str(f), "--out", str(d / "out")]


def _prompts_laughs(d: Path, ctx: dict) -> list:
    f = d / "prompts.yaml"
    f.write_text(_laughs())
    ctx["names"] = [f]
    return ["profile", "text-gnn", "--mode", "standard", "--K", "1", "--prompts", str(f)]


def _endpoints_laughs(d: Path, ctx: dict) -> list:
    f = d / "endpoints.yaml"
    f.write_text(_laughs() + "models: {}\n")
    ctx["names"] = [f]
    return ["serve", "--run", ctx["run"], "--endpoints", str(f), "--port", "0"]


def _import_sparse(d: Path, ctx: dict) -> list:
    f = d / "scores.jsonl"
    _sparse(f, 2 * GB)
    ctx["names"] = [f]
    ctx["also"] = [d / "out"]
    return ["data", "import", str(f), "--format", "scores", "--out", str(d / "out")]


def _cards_json_sparse(d: Path, ctx: dict) -> list:
    src = d / "scores.jsonl"
    src.write_text("".join(json.dumps({"query": f"q{i}", "task": "t", "model": m, "score": (i + j) % 2})
                           + "\n" for i in range(6) for j, m in enumerate(("a", "b"))))
    cards = d / "cards.json"
    _sparse(cards, 2 * GB)
    ctx["names"] = [cards]
    ctx["also"] = [d / "out"]
    return ["data", "import", str(src), "--format", "scores", "--cards", str(cards), "--out", str(d / "out")]


def _dataset_sparse(d: Path, ctx: dict) -> list:
    data = write_tiny(d / "data")
    f = data / "route_data" / "routing_test_data.json"
    f.unlink()
    _sparse(f, 2 * GB)
    ctx["names"] = [f]
    return ["-d", str(data), "data", "check"]


def _dataset_deep(d: Path, ctx: dict) -> list:
    data = write_tiny(d / "data")
    f = data / "profile_data" / "task_feature.json"
    f.write_text("[" * 1_000_000 + "]" * 1_000_000)
    ctx["names"] = [f]
    return ["-d", str(data), "data", "check"]


def _batch_long_line(d: Path, ctx: dict) -> list:
    f = d / "queries.jsonl"
    with open(f, "w") as fh:
        fh.write('"compute 17 times 3"\n{"query": "')
        block = "x" * (1 << 20)
        for _ in range(200):  # a 200 MB line
            fh.write(block)
        fh.write('"}\n"who wrote war and peace"\n')
    ctx["names"] = []
    return ["route", "batch", str(f), "--run", ctx["run"]]


ATTACKS = [
    Attack("sweep-billion-laughs", "642-byte sweep file whose aliases expand to 10^11 nodes",
           _sweep_laughs, ("1,000,000 nodes",), (1,)),
    Attack("sweep-flow-list-at-limit", "the largest YAML within the size limit (512 KiB): one flow list of 262,000 "
           "numbers",
           _sweep_flat, (), (1,)),
    Attack("sweep-over-limit", "a sweep file over RP_MAX_YAML_BYTES (512 KiB)", _sweep_over_size,
           ("RP_MAX_YAML_BYTES",), (1, 2)),
    Attack("card-billion-laughs", "rp model add with a billion-laughs YAML card", _cards_laughs,
           ("1,000,000 nodes",), (1,)),
    Attack("prompts-billion-laughs", "rp profile text-gnn --prompts with a billion-laughs file", _prompts_laughs,
           ("1,000,000 nodes",), (1, 2)),
    Attack("endpoints-billion-laughs", "rp serve --endpoints with a billion-laughs file", _endpoints_laughs,
           ("1,000,000 nodes",), (1,)),
    Attack("import-2GiB-scores", "rp data import of a 2 GiB score file (sparse)", _import_sparse,
           ("RP_MAX_DATA_BYTES",), (1,)),
    Attack("import-2GiB-cards", "rp data import --cards with a 2 GiB JSON cards file (sparse)", _cards_json_sparse,
           ("RP_MAX_DATA_BYTES",), (1,)),
    Attack("dataset-2GiB-file", "a dataset whose routing_test_data.json is 2 GiB (sparse)", _dataset_sparse,
           ("RP_MAX_DATA_BYTES",), (1,)),
    Attack("dataset-deep-json", "a dataset file nested 1,000,000 levels deep (2 MB)", _dataset_deep,
           ("nested too deeply",), (1,)),
    Attack("batch-200MB-line", "rp route batch with one 200 MB line between two good ones", _batch_long_line,
           ("1 of 3 lines failed",), (1,)),
]


@dataclass
class AttackResult:
    name: str
    exit_code: int
    expected_exit: tuple
    seconds: float
    peak_bytes: int
    traceback: bool
    changed: bool
    names_file: bool
    missing_words: list
    output: str

    @property
    def ok(self) -> bool:
        return (self.exit_code in self.expected_exit and not self.traceback and not self.changed
                and self.names_file and not self.missing_words and self.peak_bytes < GB)


# Linux keeps a process's peak resident size across fork and exec, so a command started straight from a large
# process (a test run that has imported torch) would report that process's peak. A small launcher process starts
# the command instead and writes the peak of its own child (RUSAGE_CHILDREN) and its wall time to a file.
_LAUNCHER = ("import resource, subprocess, sys, time\n"
             "t0 = time.perf_counter()\n"
             "rc = subprocess.call(sys.argv[2:])\n"
             "dt = time.perf_counter() - t0\n"
             "open(sys.argv[1], 'w').write(f'{rc} {dt} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
             "sys.exit(rc)\n")


def run_process(argv: list, env: dict | None = None, timeout: float = TIMEOUT_S) -> tuple:
    """(exit code, seconds, peak RSS bytes, stdout + stderr) of one command, its peak its own (see _LAUNCHER)."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"rp-attack-{os.getpid()}-{threading.get_ident()}"
    out, stats = base.with_suffix(".log"), base.with_suffix(".stats")
    stats.unlink(missing_ok=True)
    with open(out, "w+b") as fh:
        p = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(stats), *argv], stdout=fh,
                             stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
        fh.seek(0)
        text = fh.read().decode("utf-8", errors="replace")
    out.unlink(missing_ok=True)
    if not stats.is_file():
        return p.returncode, float(timeout), 0, text + "\n(killed: over the time limit)"
    rc, seconds, peak_kb = stats.read_text().split()
    stats.unlink(missing_ok=True)
    return int(rc), float(seconds), int(peak_kb) * 1024, text


def rp_env(**extra) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **extra}
    env.pop("RP_MAX_DATA_BYTES", None)
    env.pop("RP_MAX_YAML_BYTES", None)
    env.pop("RP_MAX_YAML_NODES", None)
    env.pop("RP_MAX_QUERY_CHARS", None)
    return env


def prepare_workspace(root: Path) -> dict:
    """A workspace holding an index profile and a sim run on the tiny data (hash:32 encoder)."""
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    data = write_tiny(root / "tiny")
    ws = root / "ws"
    base = ["-w", str(ws), "-d", str(data), "--encoder", "hash:32", "-q"]
    r = CliRunner()
    prof = r.invoke(app, [*base, "profile", "index", "--mode", "standard"])
    assert prof.exit_code == 0, prof.output
    run = r.invoke(app, [*base, "route", "sim", "--profile", prof.stdout.strip(), "--mode", "standard"])
    assert run.exit_code == 0, run.output
    return {"data": data, "ws": ws, "run": run.stdout.strip().splitlines()[-1]}


def run_attack(a: Attack, root: Path, ctx: dict) -> AttackResult:
    d = root / "attacks" / a.name
    d.mkdir(parents=True, exist_ok=True)
    c = dict(ctx)
    args = a.prepare(d, c)
    if args[0] != "-d":
        args = ["-d", str(ctx["data"]), *args]
    watched = [ctx["ws"], *c.get("also", [])]
    before = [tree_digest(p) for p in watched]
    code, seconds, peak, out = run_process([sys.executable, "-m", "rpcli", "-w", str(ctx["ws"]), "--encoder",
                                            "hash:32", *args], env=rp_env())
    after = [tree_digest(p) for p in watched]
    text = squash(out)
    res = AttackResult(a.name, code, a.exit, seconds, peak, "Traceback" in out, before != after,
                       all(squash(str(n)) in text or squash(n.name) in text for n in c.get("names", [])),
                       [w for w in a.words if squash(w) not in text], out)
    shutil.rmtree(d, ignore_errors=True)  # the sparse files
    return res


# ------------------------------------------------------------------------------------------------ server attacks
@dataclass
class ServerResult:
    name: str
    what: str
    expected: str
    got: str
    seconds: float
    ok: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class ServeProcess:
    """`rp serve` in its own process on a loopback port, with loopback upstreams and a client key."""

    KEY = "rp-attack-client-key-5c1e"

    def __init__(self, root: Path, ctx: dict, upstreams: dict, *extra, body_timeout: float = 2.0):
        eps = root / "endpoints.yaml"
        eps.write_text("models:\n" + "".join(f"  {m}:\n    base_url: {u.url}\n    model: served-{m}\n    timeout: 5\n"
                                             for m, u in upstreams.items()))
        self.port = _free_port()
        self.body_timeout = body_timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "serve.log", "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rpcli", "-w", str(ctx["ws"]), "-d", str(ctx["data"]), "--encoder", "hash:32",
             "serve", "--run", ctx["run"], "--endpoints", str(eps), "--port", str(self.port),
             "--client-key-env", "RP_ATTACK_CLIENT_KEY", "--body-timeout", str(body_timeout), *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=rp_env(RP_ATTACK_CLIENT_KEY=self.KEY), cwd=REPO)
        import httpx

        t0 = time.time()
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.time() - t0 > 60:
                raise RuntimeError(f"rp serve did not start: {self.output()[-2000:]}")
            time.sleep(0.1)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", errors="replace")

    def peak(self) -> int:
        return _peak_rss(self.proc.pid)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _chat(content: str = "compute 17 times 3", **extra) -> dict:
    return {"model": "rp", "messages": [{"role": "user", "content": content}], **extra}


def server_attacks(srv: ServeProcess, upstreams: dict) -> list:
    """Run every server attack; the last rows are a normal request afterwards and the server's peak memory."""
    import httpx

    auth = {"Authorization": f"Bearer {srv.KEY}"}
    url = srv.url + "/v1/chat/completions"
    out = []

    def case(name, what, expected, fn):
        t0 = time.perf_counter()
        try:
            got, ok = fn()
        except Exception as exc:  # noqa: BLE001 - a case that raises is a failed case, reported with its error
            got, ok = f"{type(exc).__name__}: {exc}"[:200], False
        out.append(ServerResult(name, what, expected, got, time.perf_counter() - t0, ok))

    def post(content: bytes, headers=None, timeout=30):
        return httpx.post(url, content=content, headers={**auth, "Content-Type": "application/json",
                                                         **(headers or {})}, timeout=timeout)

    def status_is(code, r, header=None):
        err = ""
        try:
            err = r.json()["error"]["message"][:80]
        except Exception:  # noqa: BLE001
            pass
        ok = r.status_code == code and (header is None or header in r.headers) and "Traceback" not in r.text
        return f"{r.status_code} {err}".strip(), ok

    case("body-100MB", "a 100 MB body with its Content-Length", "413",
         lambda: status_is(413, post(b"x" * (100 * 1024 * 1024))))

    def chunked():
        def gen():
            for _ in range(800):  # 50 MB in 64 KB chunks, no Content-Length
                yield b"x" * 65536
        return status_is(413, httpx.post(url, content=gen(), headers={**auth, "Content-Type": "application/json"},
                                         timeout=30))
    case("body-50MB-chunked", "a 50 MB chunked body (no Content-Length)", "413", chunked)
    case("messages-10k", "10,000 messages in one request", "400",
         lambda: status_is(400, post(json.dumps({"model": "rp", "messages": [
             {"role": "user", "content": "hi"}] * 10_000}).encode())))
    case("text-900k", "one message of 900,000 characters (within the body limit)", "400",
         lambda: status_is(400, post(json.dumps(_chat("y " * 450_000)).encode())))
    case("json-deep", "a body nested 500,000 levels deep", "400",
         lambda: status_is(400, post(b"[" * 500_000 + b"]" * 500_000)))
    case("not-utf8", "a body that is not UTF-8", "400", lambda: status_is(400, post(b"\xff\xfe\xfa" * 100)))
    case("lone-surrogate", "JSON whose text holds a lone surrogate escape", "400",
         lambda: status_is(400, post(json.dumps(_chat("\\ud800 hello")).replace("\\\\ud800", "\\ud800").encode())))

    def slowloris():
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {srv.KEY}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=15) as sock:
            sock.sendall(head)
            t0, got = time.time(), b""
            sock.settimeout(0.5)
            while time.time() - t0 < 12 and b"\r\n\r\n" not in got:
                try:
                    sock.sendall(b"{")  # one byte at a time: the body never completes
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                except socket.timeout:
                    continue
                except OSError:
                    break
        status = got.split(b" ", 2)[1].decode() if got.startswith(b"HTTP/1.1 ") else "no answer"
        return f"{status} after {time.time() - t0:.1f} s", status == "408"
    case("slowloris", f"a body sent one byte every 0.5 s (server started with --body-timeout {srv.body_timeout:g})",
         "408", slowloris)
    case("no-key", "a request without the client key", "401",
         lambda: status_is(401, httpx.post(url, json=_chat(), timeout=10), "www-authenticate"))
    case("wrong-key", "a request with a wrong key of the same length", "401",
         lambda: status_is(401, httpx.post(url, json=_chat(), timeout=10,
                                           headers={"Authorization": "Bearer " + "x" * len(srv.KEY)})))
    case("metrics-no-key", "/metrics without the client key", "401",
         lambda: status_is(401, httpx.get(srv.url + "/metrics", timeout=10)))

    def flood():
        for u in upstreams.values():
            u.mode, u.delay = "slow", 1.0
        try:
            with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=400)) as c, \
                    ThreadPoolExecutor(300) as pool:
                rs = list(pool.map(lambda _: c.post(url, json=_chat(), headers=auth), range(300)))
        finally:
            for u in upstreams.values():
                u.mode = "ok"
        codes = sorted({r.status_code for r in rs})
        n429 = sum(r.status_code == 429 for r in rs)
        ok = set(codes) <= {200, 429} and n429 > 0 and all("retry-after" in r.headers for r in rs
                                                            if r.status_code == 429)
        return f"{sum(r.status_code == 200 for r in rs)} x 200, {n429} x 429 (Retry-After)", ok
    case("flood-300", "300 requests at once from one address, upstreams answering in 1 s", "200 or 429", flood)
    case("after", "a normal request after all of the above", "200",
         lambda: status_is(200, post(json.dumps(_chat()).encode())))
    peak = srv.peak()
    out.append(ServerResult("server-peak-memory", "the server process's peak resident memory", "< 1 GB",
                            f"{peak / 1024 ** 2:.0f} MB", 0.0, 0 < peak < GB))
    logs = srv.output()
    out.append(ServerResult("server-log", "tracebacks or the client key in the server's output", "none",
                            f"{logs.count('Traceback')} tracebacks, key {'present' if srv.KEY in logs else 'absent'}",
                            0.0, "Traceback" not in logs and srv.KEY not in logs))
    return out
