"""The bad-input corpus (tests/corpus.py): every broken dataset file, sweep file, prompt file and CLI argument, for
every command that reads it, exits 1 (2 usage) with one panel naming the file (record, field), no traceback, and
the workspace byte-for-byte unchanged."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from corpus import (ARG_VARIANTS, CARD_VARIANTS, DATASET_VARIANTS, IMPORT_VARIANTS, PROMPT_VARIANTS,
                    SWEEP_VARIANTS, WARNING_VARIANTS, run_case, write_card_variant, write_import_variant, write_variant,
                    write_yaml_variant)
from rpcli.cli.main import app
from tiny import write_tiny

runner = CliRunner()

DATA_COMMANDS = {
    "data check": ["data", "check"],
    "graph build": ["graph", "build", "task", "--mode", "standard"],
    "profile index": ["profile", "index", "--mode", "standard"],
    "route sim": ["route", "sim", "--profile", "{profile}", "--mode", "standard"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A workspace holding a graph and an index profile built from the valid tiny data (the state to protect)."""
    root = tmp_path_factory.mktemp("corpus")
    data = write_tiny(root / "tiny")
    ws = root / "ws"
    base = ["-w", str(ws), "-d", str(data), "--encoder", "hash:32", "-q"]
    g = runner.invoke(app, [*base, "graph", "build", "task", "--mode", "standard"])
    assert g.exit_code == 0, g.output
    p = runner.invoke(app, [*base, "profile", "index", "--mode", "standard"])
    assert p.exit_code == 0, p.output
    return {"root": root, "data": data, "ws": ws, "graph": g.stdout.strip().splitlines()[-1],
            "profile": p.stdout.strip().splitlines()[-1]}


_written: dict = {}


def _variant_root(built, v):
    if v.name not in _written:
        _written[v.name] = write_variant(v, built["root"] / "variants" / v.name)
    return _written[v.name]


def _fmt(args, built, **extra):
    subs = {"profile": built["profile"], "graph": built["graph"], **extra}
    return [a.format(**subs) if "{" in a else a for a in args]


def _explain(res) -> str:
    return (f"{res.case} x {res.command}: exit {res.exit_code} (want {res.expected_exit}), traceback "
            f"{res.traceback}, workspace changed {res.workspace_changed}, names file {res.names_file}, "
            f"missing {res.missing_words}, panels {res.panels}\n{res.output[-3000:]}")


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
@pytest.mark.parametrize("v", DATASET_VARIANTS, ids=lambda v: v.name)
def test_broken_dataset(built, v, command):
    root = _variant_root(built, v)
    args = ["-d", str(root), "--encoder", "hash:32", *_fmt(DATA_COMMANDS[command], built)]
    res = run_case(runner, app, args, built["ws"], case=v.name, command=command,
                   names=[root / v.file], words=v.expect)
    assert res.ok, _explain(res)


@pytest.mark.parametrize("v", WARNING_VARIANTS, ids=lambda v: v.name)
def test_names_that_match_nothing_load_with_a_warning(built, v):
    """Exit 0, no panel, a warning naming the file and the name (and the did-you-mean); `--json` lists it too."""
    import json

    root = _variant_root(built, v)
    args = ["-d", str(root), "--encoder", "hash:32", "data", "check"]
    res = run_case(runner, app, args, built["ws"], case=v.name, command="data check", names=[v.file],
                   words=v.expect, expected_exit=(0,))
    assert res.ok and res.panels == 0, _explain(res)
    j = runner.invoke(app, ["-w", str(built["ws"]), *args, "--json"])
    doc = json.loads(j.stdout)
    listed = json.dumps([doc["unmatched_names"], doc["unpriced_candidates"]])
    assert v.expect[1].strip("'") in listed, listed


@pytest.mark.parametrize("v", SWEEP_VARIANTS, ids=lambda v: v.name)
def test_broken_sweep_file(built, v):
    f = write_yaml_variant(v, built["root"] / "sweeps" / v.name)
    args = ["-d", str(built["data"]), "--encoder", "hash:32", "sweep", str(f)]
    res = run_case(runner, app, args, built["ws"], case=v.name, command="sweep", names=[f], words=v.expect,
                   expected_exit=v.exit)
    assert res.ok, _explain(res)


@pytest.mark.parametrize("v", PROMPT_VARIANTS, ids=lambda v: v.name)
def test_broken_prompt_file(built, v):
    f = write_yaml_variant(v, built["root"] / "prompts" / v.name)
    args = ["-d", str(built["data"]), "--encoder", "hash:32", "profile", "text-gnn", "--mode", "standard",
            "--K", "1", "--prompts", str(f)]
    res = run_case(runner, app, args, built["ws"], case=v.name, command="profile text-gnn", names=[f],
                   words=v.expect)
    assert res.ok, _explain(res)


@pytest.mark.parametrize("v", CARD_VARIANTS, ids=lambda v: v.name)
def test_broken_model_card(built, v):
    card = write_card_variant(v, built["root"] / "cards" / v.name)
    out = card.parent / "out"
    args = ["-d", str(built["data"]), "--encoder", "hash:32", "model", "add", str(card), "--out", str(out)]
    res = run_case(runner, app, args, built["ws"], case=v.name, command="model add", names=[card.parent / v.file],
                   words=v.expect, also=[out])
    assert res.ok, _explain(res)


@pytest.mark.parametrize("v", IMPORT_VARIANTS, ids=[v[0] for v in IMPORT_VARIANTS])
def test_broken_import_input(built, v):
    name, file, fmt, _, _, words = v
    folder = built["root"] / "imports" / name
    src, extra = write_import_variant(v, folder)
    out = folder / "out"
    args = ["data", "import", str(src), "--format", fmt, "--out", str(out), *extra]
    res = run_case(runner, app, args, built["ws"], case=name, command="data import",
                   names=[folder / file] if file else [],
                   words=words, also=[out])
    assert res.ok, _explain(res)


@pytest.mark.parametrize("name,args,code,words", ARG_VARIANTS, ids=[a[0] for a in ARG_VARIANTS])
def test_bad_arguments(built, tmp_path, name, args, code, words):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    grid = tmp_path / "grid.yaml"
    grid.write_text("profiles:\n  - method: index\n")
    extra = {"file": str(afile), "grid": str(grid)}
    argv = ["-d", str(built["data"]), "--encoder", "hash:32", *_fmt(args, built, **extra)]
    res = run_case(runner, app, argv, built["ws"], case=name, command=" ".join(args[:2]),
                   words=_fmt(list(words), built, **extra), expected_exit=(code,))
    assert res.ok, _explain(res)


def test_reversed_pairs_on_one_query_load_with_a_warning(tmp_path):
    """A > B and B > A on the same query (judges disagreeing) is data, not an error: both pairs are kept, as the
    original keeps them, and the loader says how many there are."""
    from corpus import PAIRS, _edit, pairs_contradict

    from rpcli.core.data import load_dataset

    root = tmp_path / "d"
    write_tiny(root)
    before = load_dataset(root).mode("standard").pairs_released
    _edit(PAIRS, pairs_contradict)(root)
    ds = load_dataset(root)
    assert ds.mode("standard").pairs_released == before + 1  # kept (before the test-overlap filter)
    assert any("1 pair(s) reverse an earlier pair on the same query" in w for w in ds.warnings), ds.warnings
