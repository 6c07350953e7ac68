"""Regenerate docs/reliability.md: run the bad-input corpus (tests/corpus.py) in process and count its cases, then
run the interruption, concurrency, verify and determinism tests and count what they prove.

    .venv/bin/python scripts/reliability_report.py            # writes docs/reliability.md (a few minutes)
"""

from __future__ import annotations

import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import attacks  # noqa: E402
import corpus  # noqa: E402
from corpus import (run_case, write_card_variant, write_import_variant, write_variant,  # noqa: E402
                    write_yaml_variant)
from test_corpus import DATA_COMMANDS  # noqa: E402
from tiny import write_tiny  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from rpcli.cli.main import app  # noqa: E402

SUITES = {"server limits and authentication": "tests/test_serve_limits.py",
          "server failures": "tests/test_serve_failures.py", "input size limits": "tests/test_input_limits.py",
          "YAML limits": "tests/test_bounded_yaml.py", "names that match nothing": "tests/test_unmatched_names.py",
          "data import (duplicates, pairs kept)": "tests/test_import.py",
          "interruptions survived": "tests/test_interrupt.py", "concurrency": "tests/test_concurrency.py",
          "lock waits": "tests/test_lock_wait.py", "ws verify": "tests/test_verify.py",
          "manifest schema and corruption": "tests/test_manifest_schema.py",
          "property-based (hypothesis)": "tests/test_properties.py", "safe loading": "tests/test_safe_loading.py",
          "determinism checks": "tests/test_determinism.py"}


def run_corpus(root: Path) -> list:
    runner = CliRunner()
    data = write_tiny(root / "tiny")
    ws = root / "ws"
    base = ["-w", str(ws), "-d", str(data), "--encoder", "hash:32", "-q"]
    graph = runner.invoke(app, [*base, "graph", "build", "task", "--mode", "standard"]).stdout.strip()
    prof = runner.invoke(app, [*base, "profile", "index", "--mode", "standard"]).stdout.strip()
    subs = {"profile": prof, "graph": graph}
    out = []
    for v in corpus.DATASET_VARIANTS:
        vroot = write_variant(v, root / "variants" / v.name)
        for cmd, args in DATA_COMMANDS.items():
            argv = ["-d", str(vroot), "--encoder", "hash:32", *[a.format(**subs) for a in args]]
            out.append((v.category, run_case(runner, app, argv, ws, case=v.name, command=cmd,
                                             names=[vroot / v.file], words=v.expect)))
    for group, variants, cmd in (("sweep YAML", corpus.SWEEP_VARIANTS, None),
                                 ("prompt YAML", corpus.PROMPT_VARIANTS, None)):
        for v in variants:
            f = write_yaml_variant(v, root / group.replace(" ", "-") / v.name)
            if group == "sweep YAML":
                argv, cmd = ["-d", str(data), "--encoder", "hash:32", "sweep", str(f)], "sweep"
            else:
                argv = ["-d", str(data), "--encoder", "hash:32", "profile", "text-gnn", "--mode", "standard",
                        "--K", "1", "--prompts", str(f)]
                cmd = "profile text-gnn"
            out.append((group, run_case(runner, app, argv, ws, case=v.name, command=cmd, names=[f], words=v.expect,
                                        expected_exit=v.exit)))
    for v in corpus.CARD_VARIANTS:
        card = write_card_variant(v, root / "cards" / v.name)
        argv = ["-d", str(data), "--encoder", "hash:32", "model", "add", str(card), "--out", str(card.parent / "out")]
        out.append(("model card", run_case(runner, app, argv, ws, case=v.name, command="model add",
                                           names=[card.parent / v.file], words=v.expect,
                                           also=[card.parent / "out"])))
    for v in corpus.IMPORT_VARIANTS:
        name, file, fmt, _, _, words = v
        folder = root / "imports" / name
        src, extra = write_import_variant(v, folder)
        argv = ["data", "import", str(src), "--format", fmt, "--out", str(folder / "out"), *extra]
        out.append(("data import", run_case(runner, app, argv, ws, case=name, command="data import",
                                            names=[folder / file] if file else [], words=words,
                                            also=[folder / "out"])))
    for v in corpus.WARNING_VARIANTS:
        vroot = write_variant(v, root / "variants" / v.name)
        argv = ["-d", str(vroot), "--encoder", "hash:32", "data", "check"]
        out.append((v.category + " (warning, exit 0)",
                    run_case(runner, app, argv, ws, case=v.name, command="data check", names=[v.file],
                             words=v.expect, expected_exit=(0,))))
    afile = root / "a-file"
    afile.write_text("x")
    grid = root / "grid.yaml"
    grid.write_text("profiles:\n  - method: index\n")
    subs2 = {**subs, "file": str(afile), "grid": str(grid)}
    for name, args, code, words in corpus.ARG_VARIANTS:
        argv = ["-d", str(data), "--encoder", "hash:32", *[a.format(**subs2) if "{" in a else a for a in args]]
        out.append(("CLI arguments", run_case(runner, app, argv, ws, case=name, command=" ".join(args[:2]),
                                              words=[w.format(**subs2) if "{" in w else w for w in words],
                                              expected_exit=(code,))))
    return out


def run_attacks(root: Path) -> tuple[list, list]:
    """The CLI attacks (each in its own process) and the server attacks (rp serve in its own process)."""
    from test_serve import Upstream
    from tiny import CANDIDATES

    ctx = attacks.prepare_workspace(root / "attack-ws")
    cli = [attacks.run_attack(a, root, ctx) for a in attacks.ATTACKS]
    ups = {m: Upstream(m) for m in CANDIDATES}
    srv = attacks.ServeProcess(root, ctx, ups)
    try:
        server = attacks.server_attacks(srv, ups)
    finally:
        srv.close()
        for u in ups.values():
            u.close()
    return cli, server


def run_suites(root: Path) -> dict:
    res = {}
    for label, path in SUITES.items():
        xml = root / f"{Path(path).stem}.xml"
        subprocess.run([sys.executable, "-m", "pytest", path, "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"],
                       cwd=REPO, capture_output=True, text=True)
        cases = list(ET.parse(xml).getroot().iter("testcase"))
        failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
        names = [c.get("name") if c.get("name") != "runTest" else c.get("classname", "").split(".")[-1]
                 for c in cases]  # a hypothesis state machine is a unittest case named runTest
        res[label] = (len(cases) - failed, len(cases), names)
    return res


def main() -> None:
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        cases = run_corpus(Path(tmp))
        cli_attacks, server_attacks = run_attacks(Path(tmp))
        suites = run_suites(Path(tmp))
    by_cat = collections.OrderedDict()
    for cat, r in cases:
        c = by_cat.setdefault(cat, {"inputs": set(), "cases": 0, "ok": 0, "tb": 0, "changed": 0})
        c["inputs"].add(r.case)
        c["cases"] += 1
        c["ok"] += r.ok
        c["tb"] += r.traceback
        c["changed"] += r.workspace_changed
    n_inputs = sum(len(c["inputs"]) for c in by_cat.values())
    lines = ["# Reliability", "",
             "Generated by `.venv/bin/python scripts/reliability_report.py` "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.time() - t0:.0f} s); the same checks run "
             "in the normal test command (tests/test_corpus.py and the test files named below). Do not edit by "
             "hand.", "",
             "## Bad input (tests/corpus.py)", "",
             "Each case: exit 1 (2 usage), one error panel naming the file (and record and field where the format "
             "has them), no traceback, the workspace (holding a graph and a profile) byte-for-byte unchanged. "
             "Dataset variants run through `rp data check`, `rp graph build task`, `rp profile index` and "
             "`rp route sim` on a prebuilt profile; model cards through `rp model add` (no --out folder may appear); "
             "score files, CSVs and cards through `rp data import` (nothing may be written). The large-file variant "
             "is ~5 MB (the issue says 50 MB; the path is the same, the suite stays fast).", "",
             "| input group | broken inputs | command x input cases | clear errors | tracebacks | workspaces changed |",
             "|---|---|---|---|---|---|"]
    for cat, c in by_cat.items():
        lines.append(f"| {cat} | {len(c['inputs'])} | {c['cases']} | {c['ok']} | {c['tb']} | {c['changed']} |")
    tot = {k: sum(c[k] for c in by_cat.values()) for k in ("cases", "ok", "tb", "changed")}
    lines.append(f"| **total** | **{n_inputs}** | **{tot['cases']}** | **{tot['ok']}** | **{tot['tb']}** | "
                 f"**{tot['changed']}** |")
    lines += ["", "## Attacks on the machine (tests/attacks.py)", "",
              "Files built to exhaust memory or time, each run as `python -m rpcli` in its own process: it passes "
              "with exit 1 or 2, an error naming the file and the limit, no traceback, the workspace (and any --out "
              "folder) unchanged and a peak resident memory under 1 GB (its own: `_LAUNCHER`); the target is also "
              "under 10 s. "
              "The 2 GiB files are sparse: refused from their size, nothing is read. Limits: "
              "`rpcli/core/input_limits.py`, `rpcli/core/bounded_yaml.py`.", "",
              "| attack | what | exit | seconds | peak memory | passed |", "|---|---|---|---|---|---|"]
    for a, r in zip(attacks.ATTACKS, cli_attacks):
        lines.append(f"| {a.name} | {a.what} | {r.exit_code} | {r.seconds:.2f} | {r.peak_bytes / 2 ** 20:.0f} MB | "
                     f"{'yes' if r.ok and r.seconds < 10 else 'no'} |")
    lines += ["", "## Attacks on rp serve", "",
              "`rp serve` in its own process (a sim run on the tiny data, loopback upstreams, a client key, default "
              "limits); each request is answered with its documented status, the server stays up, and the last "
              "rows check it afterwards.", "",
              "| attack | what | expected | answer | seconds | passed |", "|---|---|---|---|---|---|"]
    for r in server_attacks:
        got = r.got.replace("|", "/")
        lines.append(f"| {r.name} | {r.what} | {r.expected} | {got} | {r.seconds:.2f} | {'yes' if r.ok else 'no'} |")
    lines += ["", "## Server failures, limits, names, imports, interruption, concurrency, locks, corruption, "
              "properties, safe loading, determinism", "",
              "| what | tests passed | tests |", "|---|---|---|"]
    for label, (ok, n, names) in suites.items():
        lines.append(f"| {label} | {ok} / {n} | {', '.join(names)} |")
    lines += ["", "- Server limits and authentication: bodies over --max-body-bytes get 413 (checked on Content-Length "
              "before reading and while a chunked body is read), too many messages or too long a routed text 400, "
              "requests beyond --max-in-flight or the per-client share 429 with Retry-After, a body slower than "
              "--body-timeout 408; off loopback a client key is required unless --open (401 with WWW-Authenticate on "
              "every route but /health, compared in constant time); the upstream keys and the client key appear in "
              "no response, log line or /metrics; one client flooding the server does not stop another.",
              "- Server failures: an upstream that hangs before its head, stalls its body or stalls a stream, one "
              "that closes mid-stream or short of its Content-Length, and a client that leaves mid-stream: the "
              "next-best candidate or a 502 (non-streamed), an error event ending the stream (streamed), the upstream "
              "connection closed and never pooled, the in-flight slot returned, no traceback.",
              "- Input limits: data files over RP_MAX_DATA_BYTES (512 MiB) are refused from their size before "
              "reading; YAML over RP_MAX_YAML_BYTES (512 KiB), over 1,000,000 alias-expanded nodes, 200 levels or "
              "with a recursive alias is refused before it is expanded; `rp route batch` holds at most "
              "RP_MAX_QUERY_CHARS of a line.",
              "- Names that match nothing (a price for a model that does not exist, a misspelled task or family) "
              "and candidates without a price load with a warning naming the file, the record and the name (with a "
              "did-you-mean), in `rp data check --json` too, and the leaderboard marks costs computed without a "
              "candidate's price. `rp data import --duplicates error|first|mean` and the pairs kept of those "
              "available are in the import summary and `rp data check`.",
              "- Interruptions: Ctrl-C in the builder and under the workspace lock exits 130 with one line, "
              "registers nothing, leaves no staging; SIGKILL under the lock leaves a stale lock that the next "
              "command takes over (with a note naming the dead process) and completes. SIGINT and SIGKILL in the "
              "middle of training (a trainable profile and an mlp router: after 3 optimizer steps), of generation "
              "(a text-gnn build, extractive backend: after the first LLM output is cached) and of a sweep (after "
              "its first artifact is registered) register nothing half-built, leave no lock of a live process, and "
              "the same command afterwards completes (text-gnn reuses the cached outputs; the sweep reuses what "
              "was finished); a SIGKILL's staging folder is the one orphan `rp ws verify` reports and `--fix` "
              "removes.",
              "- Concurrency: 8 `rp` processes build 8 profiles into one workspace at once; records lost 0, "
              "duplicated 0 (counted in the manifest), and `rp ws verify` finds nothing wrong. A wait for the lock "
              "longer than 2 s prints one line naming the holder (pid, command, since when).",
              "- Manifest: one written by a newer rp is refused naming that rp, its schema and the schema this rp "
              "reads; a schema-1 JSON workspace is read and migrated by the first write; a corrupt manifest.json "
              "or manifest.db is refused naming where the last good copy is, and following that hint recovers "
              "every record.",
              "- Property-based: random edits of the tiny dataset and random score records either load or raise "
              "rp's error type (never another exception); recipe ids ignore dict key order, change with any value "
              "and are the same in another process; random register/remove/update sequences reload as their model.",
              "- Safe loading: torch.load always has weights_only=True except `rp graph import`; YAML only through "
              "safe_load; model, task and family names such as `../../x`, an absolute path or a NUL byte stay data through "
              "every command (no file appears outside the workspace); sweep names and card test_scores paths that "
              "are paths are refused; the OpenAI-compatible backend's key appears in no output, error or workspace "
              "file (a server that echoes it gets it redacted).",
              "- Determinism: the same commands in two fresh workspaces give identical ids and files for the graph "
              "and the training-free profiles (index, emb-gnn, flat, text-gnn extractive), identical vectors for the "
              "trainable profile, and identical metrics for sim, mlp, graph, prior and knn runs (fixed seed, CPU).", ""]
    (REPO / "docs" / "reliability.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    if tot["ok"] != tot["cases"] or any(ok != n for ok, n, _ in suites.values()) \
            or not all(r.ok for r in cli_attacks + server_attacks):
        sys.exit(1)


if __name__ == "__main__":
    main()
