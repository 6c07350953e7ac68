"""Hostile inputs (tests/attacks.py): files built to exhaust the machine are refused with a clear error, under
1 GB, without a traceback and with the workspace unchanged; `rp serve` in its own process answers each abusive
request with the documented status and still serves a normal request afterwards, under 1 GB."""

from __future__ import annotations

import pytest

from attacks import ATTACKS, ServeProcess, prepare_workspace, run_attack, server_attacks


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    return {"root": root, **prepare_workspace(root)}


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_cli_attack_is_refused_within_bounds(ctx, attack):
    r = run_attack(attack, ctx["root"], ctx)
    assert r.ok, (f"{r.name}: exit {r.exit_code} (want {r.expected_exit}), {r.seconds:.1f} s, "
                  f"{r.peak_bytes / 2 ** 20:.0f} MB, traceback {r.traceback}, changed {r.changed}, names file "
                  f"{r.names_file}, missing {r.missing_words}\n{r.output[-3000:]}")


def test_server_attacks_get_their_status_and_the_server_stays_up(ctx):
    pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    from test_serve import Upstream
    from tiny import CANDIDATES

    ups = {m: Upstream(m) for m in CANDIDATES}
    srv = ServeProcess(ctx["root"], ctx, ups)
    try:
        rows = server_attacks(srv, ups)
    finally:
        srv.close()
        for u in ups.values():
            u.close()
    bad = [f"{r.name}: expected {r.expected}, got {r.got}" for r in rows if not r.ok]
    assert not bad, "\n".join(bad)
