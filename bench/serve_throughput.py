"""The throughput of `rp serve`: routed requests per second at 64 in flight, and the unloaded routing overhead.

Builds everything it needs in a temporary folder: per encoder a workspace with a recorded run on the embedded demo
dataset (`rp profile index` + `rp route sim`, standard mode, 6 candidates), one process of instant local upstreams
(a minimal asyncio HTTP/1.1 server per candidate answering a canned chat completion) and `rp serve` as its own
process; then drives it from a load generator in a third process (asyncio, one raw keep-alive HTTP/1.1 connection
per request in flight; texts are the demo's 240 test rows as chat requests with `model: "rp"`):

  unloaded  1 request in flight for --unloaded seconds; the server's /metrics then gives routing_overhead (request
            received -> upstream request sent) and routing_decision p50/p99 over these requests alone
  loaded    --concurrency in flight (default 64) for --duration seconds after --warmup seconds: requests/s (the
            answers completed in the window), errors (anything but a 200 with an x-rp-model header), the client's
            latency p50/p99, /metrics after (batch sizes). With slow decisions (unloaded p50 over 10 ms, MiniLM)
            answers complete a batch at a time, so the window is at least 20 s (10 s with --quick)

and, over the loaded window, the CPU seconds each process used (server, load generator, upstreams; from
/proc/PID/stat; the server's kernel share) and the machine's busy CPU seconds (/proc/stat) not accounted for by
them (other jobs on a shared machine), so the report says what bounds the figure. The client, the upstreams and
the server share the machine's cores. The encoders given with --one-at-a-time are measured a second time with
`rp serve --max-batch 1` (each request routed alone: the rate without batching). Results go to
bench/results/serve_throughput.json (the command, commit, machine load, every measurement, and the table and
targets bench/make_docs.py renders); bench/run.py runs it (`--only serve_throughput`).

Usage:
  python bench/serve_throughput.py [--encoder minilm-static] [--encoder default] [--one-at-a-time default]
                                   [--concurrency 64] [--duration 8] [--unloaded 3] [--quick]
                                   [--server-source OLD_SERVE_PY] [--out PATH] [--json]

--encoder: minilm-static, default (MiniLM), hash:N, ... (one measurement each; repeat the flag; default:
minilm-static and default). --server-source: run the server with rpcli/services/serving/serve.py replaced by this
file (to measure an older version, e.g. `git show REV:rpcli/services/serving/serve.py > /tmp/old_serve.py`).
Torch's threads follow OMP_NUM_THREADS when set (recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from _common import commit, machine  # noqa: E402  (one commit() for every bench)

CLK = os.sysconf("SC_CLK_TCK")

# the server process with serve.py replaced by the file argv[1] (--server-source; options of create_app that the
# older file lacks are dropped); the rest of argv is rp's
_LAUNCH = """import importlib.util, inspect, sys
spec = importlib.util.spec_from_file_location("rpcli.services.serving.serve", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mod
spec.loader.exec_module(mod)
create, known = mod.create_app, inspect.signature(mod.create_app).parameters
mod.create_app = lambda *a, **kw: create(*a, **{k: v for k, v in kw.items() if k in known})
del sys.argv[1]
from rpcli.cli.entry import main
main()
"""


# ------------------------------------------------------------------------------------------------ upstreams
_ANSWER = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "served",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": "ok"}}],
                      "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}).encode()
_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + str(len(_ANSWER)).encode()
             + b"\r\n\r\n" + _ANSWER)


class _Upstream(asyncio.Protocol):
    """An instant OpenAI-compatible upstream: every request (keep-alive, Content-Length bodies) gets the canned
    chat completion."""

    def connection_made(self, transport):
        self.tr, self.buf = transport, b""

    def data_received(self, data):
        self.buf += data
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            n = 0
            for line in self.buf[:i].split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v)
            if len(self.buf) < i + 4 + n:
                return
            self.buf = self.buf[i + 4 + n:]
            self.tr.write(_RESPONSE)


async def _upstreams(n: int) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Upstream, "127.0.0.1", 0, backlog=1024) for _ in range(n)]
    print(json.dumps([s.sockets[0].getsockname()[1] for s in servers]), flush=True)
    await asyncio.Event().wait()


# ------------------------------------------------------------------------------------------------ load generator
def _cpu(pid, system: bool = False) -> float:
    """CPU seconds (user + system, all threads; or the system part alone) of a process so far."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[12]) + (0 if system else int(f[11]))) / CLK


def _busy() -> float:
    """The machine's busy CPU seconds so far (every core, every process)."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / CLK  # all but idle and iowait


async def _read_response(reader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    low = head.lower()
    i = low.find(b"content-length:")
    if i >= 0:
        await reader.readexactly(int(low[i + 15:low.index(b"\r\n", i)]))
    elif b"transfer-encoding: chunked" in low:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if not size:
                break
    return status, low


async def _client(a) -> dict:
    host, port = a.url.split("//", 1)[1].split(":")
    texts = json.loads(Path(a.texts).read_text())
    reqs = []
    for t in texts:
        body = json.dumps({"model": "rp", "messages": [{"role": "user", "content": t}], "max_tokens": 16}).encode()
        reqs.append(b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s:%s\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n" % (host.encode(), port.encode(), len(body)) + body)
    pids = {k: int(v) for k, v in (x.split("=") for x in a.pids.split(",") if x)}
    loop = asyncio.get_running_loop()
    t_start = loop.time() + a.warmup
    t_end = t_start + a.duration
    lat: list = []
    errors, kinds = 0, {}  # type: int, dict

    async def worker(w: int):
        nonlocal errors
        i = w * 7919
        reader = writer = None
        while loop.time() < t_end:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, int(port))
            s = loop.time()
            try:
                writer.write(reqs[i % len(reqs)])
                code, low = await _read_response(reader)
                ok, status = code == 200 and b"x-rp-model:" in low, str(code)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                ok, status = False, type(exc).__name__
                writer.close()
                writer = None
            e = loop.time()
            i += 1
            if t_start <= e <= t_end:  # the completions in the window (latency of those)
                lat.append(e - s)
                if not ok:
                    errors += 1
                    kinds[status] = kinds.get(status, 0) + 1
        if writer is not None:
            writer.close()

    tasks = [asyncio.create_task(worker(w)) for w in range(a.concurrency)]
    await asyncio.sleep(max(0.0, t_start - loop.time()))
    c0 = {k: _cpu(p) for k, p in pids.items()}
    c0["client"], b0, w0 = _cpu(os.getpid()), _busy(), time.perf_counter()
    s0 = _cpu(pids["server"], system=True) if "server" in pids else 0.0
    await asyncio.sleep(max(0.0, t_end - loop.time()))
    c1 = {k: _cpu(p) for k, p in pids.items()}
    c1["client"], b1, w1 = _cpu(os.getpid()), _busy(), time.perf_counter()
    s1 = _cpu(pids["server"], system=True) if "server" in pids else 0.0
    await asyncio.gather(*tasks)
    wall = w1 - w0
    cpu = {k: round(c1[k] - c0[k], 2) for k in c0}
    cpu["others"] = round(max(0.0, (b1 - b0) - sum(cpu.values())), 2)
    lat.sort()

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, max(0, math.ceil(p / 100 * len(lat)) - 1))], 3) if lat else None

    return {"concurrency": a.concurrency, "seconds": round(wall, 2), "requests": len(lat), "errors": errors,
            "error_kinds": kinds, "requests_per_second": round(len(lat) / a.duration, 1),
            "client_latency_ms": {"p50": pct(50), "p99": pct(99)},
            "cpu_seconds": cpu, "cores_used": {k: round(v / wall, 2) for k, v in cpu.items()},
            "server_cpu_ms_per_request": round(1000 * cpu.get("server", 0.0) / len(lat), 3) if lat else None,
            "server_system_share": round((s1 - s0) / cpu["server"], 2) if cpu.get("server") else None,
            "machine_busy_cores": round((b1 - b0) / wall, 2)}


# ------------------------------------------------------------------------------------------------ driver
def _rp(ws: Path, enc: str, *args) -> str:
    r = subprocess.run([sys.executable, "-m", "rpcli", "-q", "-w", str(ws), "--encoder", enc, *args],
                       capture_output=True, text=True, cwd=REPO)
    if r.returncode:
        sys.exit(f"rp {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout.split()[0]


def _get(url: str, accept: str = "application/json"):
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=30) as r:
        return r.read().decode()


def _drive(url: str, texts: Path, concurrency: int, duration: float, warmup: float, pids: dict) -> dict:
    cmd = [sys.executable, __file__, "--_client", "--url", url, "--texts", str(texts), "--concurrency",
           str(concurrency), "--duration", str(duration), "--warmup", str(warmup),
           "--pids", ",".join(f"{k}={v}" for k, v in pids.items())]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"the load generator failed:\n{r.stderr}")
    return json.loads(r.stdout)


def build(enc: str, tmp: Path) -> dict:
    """A workspace with a recorded sim run (index profile, standard mode) on the demo, for encoder `enc`."""
    ws = tmp / ("ws-" + enc.replace(":", "-").replace("/", "_"))
    t0 = time.perf_counter()
    pid = _rp(ws, enc, "profile", "index", "--mode", "standard")
    run = _rp(ws, enc, "route", "sim", "--profile", pid, "--mode", "standard")
    r = subprocess.run([sys.executable, "-m", "rpcli", "-q", "-w", str(ws), "ls", "runs", "--json"],
                       capture_output=True, text=True, cwd=REPO, check=True)
    models = next(e for e in json.loads(r.stdout) if e["id"] == run)["info"]["models"]
    return {"encoder": enc, "ws": ws, "run": run, "models": models, "build_seconds": round(time.perf_counter() - t0, 1)}


def measure(b: dict, a, tmp: Path, texts: Path, max_batch: int | None = None) -> dict:
    """Start the upstreams and `rp serve` (--max-batch when given), measure unloaded then loaded, stop both."""
    enc, ws, run, models = b["encoder"], b["ws"], b["run"], b["models"]
    up = subprocess.Popen([sys.executable, __file__, "--_upstreams", str(len(models))], stdout=subprocess.PIPE,
                          text=True)
    srv = None
    try:
        assert up.stdout is not None
        ports = json.loads(up.stdout.readline())
        eps = tmp / f"endpoints-{ws.name}.yaml"
        eps.write_text("models:\n" + "".join(f"  {m}: {{base_url: 'http://127.0.0.1:{p}/v1', model: served-{i}}}\n"
                                             for i, (m, p) in enumerate(zip(models, ports))))
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        args = ["-q", "-w", str(ws), "--encoder", enc, "serve", "--run", run, "--endpoints", str(eps),
                "--port", str(port)] + (["--max-batch", str(max_batch)] if max_batch else [])
        cmd = ([sys.executable, "-c", _LAUNCH, str(Path(a.server_source).resolve()), *args] if a.server_source
               else [sys.executable, "-m", "rpcli", *args])
        t0 = time.perf_counter()
        log = open(tmp / f"serve-{ws.name}.log", "w+")
        srv = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, text=True)
        url = f"http://127.0.0.1:{port}"
        while True:
            if srv.poll() is not None:
                log.seek(0)
                sys.exit(f"rp serve exited:\n{log.read()}")
            try:
                _get(url + "/health")
                break
            except OSError:
                time.sleep(0.1)
            if time.perf_counter() - t0 > 180:
                sys.exit("rp serve did not start in 180 s")
        start_s = time.perf_counter() - t0
        pids = {"server": srv.pid, "upstreams": up.pid}
        unloaded = _drive(url, texts, 1, a.unloaded, a.warmup / 4, pids)
        m1 = json.loads(_get(url + "/metrics"))
        duration = a.duration
        if (m1["routing_decision"]["p50_ms"] or 0) > 10:  # slow decisions: answers complete a batch at a time,
            duration = max(duration, 10.0 if a.quick else 20.0)  # so the window must hold several batches
        loaded = _drive(url, texts, a.concurrency, duration, a.warmup, pids)
        m2 = json.loads(_get(url + "/metrics"))
        try:
            prom = _get(url + "/metrics", accept="text/plain;version=0.0.4")
            prom = prom if not prom.lstrip().startswith("{") else None
        except OSError:
            prom = None
    finally:
        for p in (srv, up):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    cores = loaded["cores_used"]
    ours = {k: v for k, v in cores.items() if k != "others"}
    return {"encoder": enc, "max_batch": m2.get("max_batch", 1 if a.server_source else max_batch),
            "run": run, "candidates": len(models), "build_seconds": b["build_seconds"],
            "server_start_seconds": round(start_s, 1),
            "unloaded": {**unloaded, "routing_overhead": m1["routing_overhead"],
                         "routing_decision": m1["routing_decision"]},
            "loaded": {**loaded, "routing_overhead_all_requests": m2["routing_overhead"],
                       "routing_decision_all_requests": m2["routing_decision"],
                       "routing_batches": m2.get("routing_batches")},
            "prometheus_text_lines": None if prom is None else len(prom.splitlines()),
            "bound_by": max(ours, key=lambda k: ours[k])}


def tables_and_targets(results: list, nproc: int) -> tuple[list, list]:
    """The rendered table (bench/make_docs.py shows it) and the issue's targets judged from the raw fields."""
    rows = []
    for r in results:
        u, lo = r["unloaded"], r["loaded"]
        c, b = lo["cores_used"], lo.get("routing_batches") or {}
        rows.append([r["encoder"], r["max_batch"], lo["requests_per_second"], lo["errors"],
                     f"{lo['client_latency_ms']['p50']} / {lo['client_latency_ms']['p99']}",
                     f"{u['routing_overhead']['p50_ms']} / {u['routing_overhead']['p99_ms']}",
                     u["routing_decision"]["p50_ms"],
                     f"{b.get('size_mean')} / {b.get('size_max')}" if b else "–",
                     f"{c['server']} / {c['client']} / {c['upstreams']} / {c['others']}",
                     f"{lo['server_cpu_ms_per_request']} ({lo['server_system_share'] or 0:.0%})"])
    tables = [{"title": "rp serve against instant local upstreams: requests/s at the load's concurrency, the "
                        "unloaded routing overhead (1 in flight, from /metrics) and where the CPU went",
               "columns": ["encoder", "max batch", "requests/s", "errors", "client latency p50 / p99 ms",
                           "overhead p50 / p99 ms (unloaded)", "decision p50 ms (unloaded)",
                           "batch size mean / max", f"cores used: server / client / upstreams / others (of {nproc})",
                           "server CPU ms per request (kernel share)"],
               "rows": rows}]

    def bound(r):
        lo = r["loaded"]
        c = lo["cores_used"]
        per = lo["server_cpu_ms_per_request"]
        return (f"the server process ({r['encoder']}): {per} ms of CPU per request "
                f"({lo['server_system_share'] or 0:.0%} in the kernel), so at most {1000 / per:.0f} requests/s "
                f"per core; "
                f"it had {c['server']} cores while other processes used {c['others']} of the machine's {nproc} "
                f"(client {c['client']}, upstreams {c['upstreams']})") if per else "no request was answered"

    targets = []
    by = {(r["encoder"], r["max_batch"]): r for r in results}
    st = next((r for r in results if r["encoder"] == "minilm-static" and r["max_batch"] != 1), None)
    if st:
        rps = st["loaded"]["requests_per_second"]
        targets.append({"id": "serve_rps_static", "value": rps, "unit": "requests/s",
                        "met": rps >= 1000 and st["loaded"]["errors"] == 0,
                        "note": f"{st['loaded']['concurrency']} in flight, {st['loaded']['errors']} errors",
                        "bound": bound(st)})
        o = st["unloaded"]["routing_overhead"]
        targets.append({"id": "serve_overhead_p50_ms", "value": o["p50_ms"], "unit": "ms",
                        "met": o["p50_ms"] is not None and o["p50_ms"] <= 2.0,
                        "note": f"1 in flight, {o['n']} requests; p99 {o['p99_ms']} ms",
                        "bound": "the routing decision: p50 "
                                 f"{st['unloaded']['routing_decision']['p50_ms']} ms"})
    new = next((r for r in results if r["encoder"] == "default" and r["max_batch"] != 1), None)
    one = by.get(("default", 1))
    if new and one and one["loaded"]["requests_per_second"]:
        x = round(new["loaded"]["requests_per_second"] / one["loaded"]["requests_per_second"], 2)
        per = new["loaded"]["server_cpu_ms_per_request"]
        targets.append({"id": "serve_rps_minilm_x", "value": x, "unit": "x",
                        "met": x >= 3 and new["loaded"]["errors"] == 0,
                        "note": f"{new['loaded']['requests_per_second']} requests/s batched against "
                                f"{one['loaded']['requests_per_second']} one at a time (--max-batch 1)",
                        "bound": f"MiniLM's encoding: {per} ms of server CPU per request batched, "
                                 f"{one['loaded']['server_cpu_ms_per_request']} one at a time (unloaded decision p50 "
                                 f"{one['unloaded']['routing_decision']['p50_ms']} ms); batching saves the padding "
                                 "and per-call costs, not the transformer's compute per token; "
                                 + bound(new)})
    return tables, targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", action="append", help="minilm-static, default, hash:N, ... (repeatable; default: "
                                                       "minilm-static and default)")
    ap.add_argument("--one-at-a-time", default="default",
                    help="comma-separated encoders also measured with --max-batch 1, the rate of routing one request "
                         "at a time (default: default; '' for none)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds measured at --concurrency in flight")
    ap.add_argument("--unloaded", type=float, default=3.0, help="seconds measured at 1 in flight")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each loaded measurement")
    ap.add_argument("--quick", action="store_true", help="--duration 4 --unloaded 1.5 --warmup 1")
    ap.add_argument("--server-source", help="a serve.py to run instead of rpcli/services/serving/serve.py")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of the summary")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "serve_throughput.json"))
    # the subprocesses
    ap.add_argument("--_upstreams", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--pids", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._upstreams:
        try:
            asyncio.run(_upstreams(a._upstreams))
        except KeyboardInterrupt:
            pass
        return
    if a._client:
        print(json.dumps(asyncio.run(_client(a))))
        return
    if a.quick:
        a.duration, a.unloaded, a.warmup = 4.0, 1.5, 1.0
    encoders = a.encoder or ["minilm-static", "default"]
    one_at_a_time = [e for e in a.one_at_a_time.split(",") if e in encoders] if not a.server_source else []

    from rpcli.api import load_dataset
    from rpcli.core.data.load import default_data_root
    from rpcli.core.routers.query_text import query_text

    ds = load_dataset(default_data_root())
    mach = machine()
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="rp-serve-bench-"))
    try:
        texts = tmp / "texts.json"
        texts.write_text(json.dumps([query_text(r, "formatted") for r in ds.test_rows]))
        for enc in encoders:
            b = build(enc, tmp)
            for mb in ([None] + ([1] if enc in one_at_a_time else [])):
                r = measure(b, a, tmp, texts, max_batch=mb)
                results.append(r)
                if not a.json:
                    _summary(r)
    finally:
        if a.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    mach["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    tables, targets = tables_and_targets(results, os.cpu_count() or 1)
    doc = {"bench": "serve_throughput", "command": "python bench/serve_throughput.py " + " ".join(sys.argv[1:]),
           "commit": commit(), "machine": mach, "server_source": a.server_source,
           "settings": {"concurrency": a.concurrency, "duration_s": a.duration, "unloaded_s": a.unloaded,
                        "warmup_s": a.warmup, "router": "sim", "profile": "index", "mode": "standard",
                        "texts": len(ds.test_rows), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
           "results": results, "tables": tables, "targets": targets}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {a.out}", file=sys.stderr)
    if a.json:
        print(json.dumps(doc, indent=2))
    else:
        for t in targets:
            print(f"target {t['id']}: {t['value']} {t['unit']} ({'met' if t['met'] else 'not met'}; {t['note']})")


def _summary(r: dict) -> None:
    u, lo = r["unloaded"], r["loaded"]
    print(f"encoder {r['encoder']}, max batch {r['max_batch']} (run {r['run']}; server started in "
          f"{r['server_start_seconds']} s)")
    print(f"  unloaded: {u['requests_per_second']} req/s; routing overhead p50 {u['routing_overhead']['p50_ms']} ms "
          f"p99 {u['routing_overhead']['p99_ms']} ms; decision p50 {u['routing_decision']['p50_ms']} ms; "
          f"client p50 {u['client_latency_ms']['p50']} ms")
    print(f"  {lo['concurrency']} in flight: {lo['requests_per_second']} req/s, {lo['errors']} errors "
          f"{lo['error_kinds'] or ''}; client latency p50 {lo['client_latency_ms']['p50']} ms p99 "
          f"{lo['client_latency_ms']['p99']} ms")
    c = lo["cores_used"]
    print(f"  cores used: server {c['server']}, client {c['client']}, upstreams {c['upstreams']}, other processes "
          f"{c['others']} (machine busy {lo['machine_busy_cores']} of {os.cpu_count()}); bound by {r['bound_by']}; "
          f"server CPU {lo['server_cpu_ms_per_request']} ms per request ({lo['server_system_share'] or 0:.0%} in the "
          "kernel)")
    if lo.get("routing_batches"):
        b = lo["routing_batches"]
        print(f"  batches (all requests): {b['n']}, size mean {b['size_mean']} p50 {b['size_p50']} max "
              f"{b['size_max']}; batch seconds p50 {b['seconds']['p50_ms']} ms p99 {b['seconds']['p99_ms']} ms")


if __name__ == "__main__":
    main()
