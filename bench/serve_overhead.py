"""The serving overhead of `rp serve`: the routing decision inside the server and the whole proxy hop (its
throughput under load: bench/serve_throughput.py).

Loads a recorded run, starts one local OpenAI-compatible upstream per candidate (answers at once) and the rp app
on uvicorn, both on 127.0.0.1, then sends `--n` chat requests through the official `openai` client (sequentially,
then `--concurrency` at a time) with texts drawn from the dataset's test rows. Reports, from the server's /metrics:
  routing_decision  encoding + scoring + ranking of the batch that decided the request (p50 / p99; sequential
                    requests are batches of one)
  routing_overhead  request received -> upstream request sent (parsing, waiting for the router worker, its batch)
and, measured by the client, the end-to-end latency through rp against the same request sent to an upstream
directly (the proxy hop's total cost).

Usage:
  python bench/serve_overhead.py --workspace WS --run RUN_ID [--n 300] [--concurrency 8] [--json]
                                [--out bench/results/serve_overhead.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def upstream():
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps({"id": "x", "object": "chat.completion", "created": 1, "model": body["model"],
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": "ok"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class S(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    httpd = S(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def pct(v, p):
    import math

    v = sorted(v)
    return round(1000 * v[min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))], 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--lambda", dest="lam", type=float, default=None)
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of the summary")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "bench" / "results" / "serve_overhead.json"),
                    help="write the results as JSON here")
    a = ap.parse_args()

    import httpx
    import openai
    import uvicorn

    from rpcli.api import load_run, open_workspace
    from rpcli.core.routers.query_text import query_text
    from rpcli.services.serving.serve import Endpoint, create_app

    t0 = time.perf_counter()
    rr = load_run(open_workspace(a.workspace), a.run)
    load_s = time.perf_counter() - t0
    ups = {m: upstream() for m in rr.models}
    eps = {m: Endpoint(m, url, f"served-{m}") for m, (_, url) in ups.items()}
    app = create_app(rr, eps, lam=a.lam)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    th = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.02)
    rows = rr.sess.dataset.test_rows
    texts = [query_text(rows[i % len(rows)], rr.params.get("query_text", "formatted")) for i in range(a.n)]
    rp = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    direct = openai.OpenAI(base_url=eps[rr.models[0]].base_url, api_key="x", max_retries=0)

    def ask(client, model, t):
        s = time.perf_counter()
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": t}])
        return time.perf_counter() - s

    for t in texts[:5]:  # warm up both paths
        ask(rp, "rp", t)
        ask(direct, "served", t)
    httpx.get(url + "/metrics")
    e2e_rp = [ask(rp, "rp", t) for t in texts]
    e2e_direct = [ask(direct, "served", t) for t in texts]
    seq = httpx.get(url + "/metrics").json()
    with ThreadPoolExecutor(a.concurrency) as pool:
        t1 = time.perf_counter()
        list(pool.map(lambda t: ask(rp, "rp", t), texts))
        conc_s = time.perf_counter() - t1
    after = httpx.get(url + "/metrics").json()
    server.should_exit = True
    th.join(timeout=10)
    enc_t, score_t = [], []  # the decision's two parts, in process (no server), one text at a time
    for t in texts:
        s0 = time.perf_counter()
        q = rr.embed([t])
        s1 = time.perf_counter()
        rr.loaded.scores(q)
        enc_t.append(s1 - s0)
        score_t.append(time.perf_counter() - s1)
    res = {"bench": "serve_overhead", "command": "python bench/serve_overhead.py " + " ".join(sys.argv[1:]),
           "run": rr.id, "router": rr.router, "encoder": rr.sess.encoder.id, "n": a.n, "lambda": a.lam,
           "load_seconds": round(load_s, 2),
           "sequential": {"routing_decision": seq["routing_decision"], "routing_overhead": seq["routing_overhead"],
                          "client_e2e_via_rp_ms": {"p50": pct(e2e_rp, 50), "p99": pct(e2e_rp, 99)},
                          "client_e2e_direct_ms": {"p50": pct(e2e_direct, 50), "p99": pct(e2e_direct, 99)}},
           "all_requests_after_concurrent": {"concurrency": a.concurrency,
                                             "requests_per_second": round(a.n / conc_s, 1),
                                             "routing_decision": after["routing_decision"],
                                             "routing_overhead": after["routing_overhead"]},
           "in_process_ms": {"encode": {"p50": pct(enc_t, 50), "p99": pct(enc_t, 99)},
                             "score": {"p50": pct(score_t, 50), "p99": pct(score_t, 99)}},
           "load_average": __import__("os").getloadavg()[0],
           "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {a.out}", file=sys.stderr)
    if a.json:
        print(json.dumps(res, indent=2))
        return
    s = res["sequential"]
    print(f"run {rr.id} ({rr.router}, encoder {rr.sess.encoder.id}), {a.n} requests, loaded in {load_s:.1f}s")
    print(f"routing decision   p50 {s['routing_decision']['p50_ms']} ms  p99 {s['routing_decision']['p99_ms']} ms")
    print(f"routing overhead   p50 {s['routing_overhead']['p50_ms']} ms  p99 {s['routing_overhead']['p99_ms']} ms")
    print(f"client e2e via rp  p50 {s['client_e2e_via_rp_ms']['p50']} ms  p99 {s['client_e2e_via_rp_ms']['p99']} ms"
          f"  (direct: p50 {s['client_e2e_direct_ms']['p50']} ms, p99 {s['client_e2e_direct_ms']['p99']} ms)")
    ip = res["in_process_ms"]
    print(f"in process: encode p50 {ip['encode']['p50']} ms p99 {ip['encode']['p99']} ms; score p50 "
          f"{ip['score']['p50']} ms p99 {ip['score']['p99']} ms (load average {res['load_average']:.1f})")
    c = res["all_requests_after_concurrent"]
    print(f"{a.concurrency} concurrent: {c['requests_per_second']} req/s; routing decision over all requests "
          f"p50 {c['routing_decision']['p50_ms']} ms p99 {c['routing_decision']['p99_ms']} ms, overhead p50 "
          f"{c['routing_overhead']['p50_ms']} ms p99 {c['routing_overhead']['p99_ms']} ms")


if __name__ == "__main__":
    main()
