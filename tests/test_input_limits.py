"""Bounds on the files a user hands in (rpcli.core.input_limits): a data file, a score file or a cards file over
RP_MAX_DATA_BYTES is refused from its size, before it is read, with an error naming the file and the variable; a
JSON file nested past the parser's depth is a clean error; nothing is written."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app

runner = CliRunner()


def _rp(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "400"})


def test_dataset_file_over_the_limit_is_refused_by_size(tiny_data, monkeypatch, tmp_path):
    monkeypatch.setenv("RP_MAX_DATA_BYTES", "4096")
    big = tiny_data / "route_data" / "routing_test_data.json"
    assert big.stat().st_size > 4096, "the tiny dataset's test file must exceed the lowered limit"
    r = _rp("-d", str(tiny_data), "--encoder", "hash:32", "data", "check")
    assert r.exit_code == 1, r.output
    assert "over the limit of 4,096 bytes" in r.output and "RP_MAX_DATA_BYTES" in r.output
    assert big.name in r.output and "Traceback" not in r.output
    assert not (tmp_path / "ws").exists() or not any((tmp_path / "ws").rglob("*.npz"))
    monkeypatch.delenv("RP_MAX_DATA_BYTES")
    assert _rp("-d", str(tiny_data), "--encoder", "hash:32", "data", "check").exit_code == 0


def test_a_sparse_huge_file_is_refused_without_reading_it(tmp_path):
    """A file that claims 2 GiB on disk (sparse: nothing is allocated) is refused at once by the import."""
    src = tmp_path / "scores.jsonl"
    with open(src, "wb") as fh:
        fh.truncate(2 * 1024 ** 3)
    out = tmp_path / "out"
    r = _rp("data", "import", str(src), "--format", "scores", "--out", str(out))
    assert r.exit_code == 1, r.output
    assert "over the limit of 536,870,912 bytes" in r.output and "scores.jsonl" in r.output
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_cards_file_over_the_limit(tmp_path, monkeypatch):
    from rpcli.core.data.importers import read_cards
    from rpcli.errors import DataFileError

    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps({"models": {f"m{i}": {"description": "x" * 100} for i in range(100)}}))
    monkeypatch.setenv("RP_MAX_DATA_BYTES", "1000")
    with pytest.raises(DataFileError, match="over the limit of 1,000 bytes"):
        read_cards(cards)


@pytest.mark.parametrize("depth", [100_000])
def test_deeply_nested_json_is_a_clean_error(tiny_data, depth):
    f = tiny_data / "profile_data" / "task_feature.json"
    f.write_text("[" * depth + "]" * depth)
    r = _rp("-d", str(tiny_data), "--encoder", "hash:32", "data", "check")
    assert r.exit_code == 1 and "nested too deeply" in r.output and "Traceback" not in r.output


def test_limits_from_the_environment(monkeypatch):
    from rpcli.core import input_limits

    assert input_limits.max_data_bytes() == 512 * 1024 ** 2
    monkeypatch.setenv("RP_MAX_DATA_BYTES", "1_000")
    assert input_limits.max_data_bytes() == 1000
    for bad in ("zero", "-5", "0"):
        monkeypatch.setenv("RP_MAX_DATA_BYTES", bad)
        assert input_limits.max_data_bytes() == 512 * 1024 ** 2
    assert os.environ.get("RP_MAX_QUERY_CHARS") is None and input_limits.max_query_chars() == 100_000
