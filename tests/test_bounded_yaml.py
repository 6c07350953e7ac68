"""YAML a user hands in is read within limits: nested aliases ("billion laughs"), recursive aliases, file size;
the CLI refuses such a sweep file, model card or endpoints file with a clear error, quickly, without a traceback."""

from __future__ import annotations

import time

import pytest
import yaml

from rpcli.core import bounded_yaml
from rpcli.core.bounded_yaml import YamlLimitError

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))


def test_billion_laughs_is_refused_before_expansion():
    t0 = time.time()
    with pytest.raises(YamlLimitError, match="expands to more than 1,000,000 nodes"):
        bounded_yaml.safe_load(LAUGHS)
    assert time.time() - t0 < 2.0
    assert isinstance(YamlLimitError("x"), yaml.YAMLError)  # every caller's YAML error path reports it


def test_shared_aliases_within_the_limit_load_as_safe_load_does():
    text = "base: &b {lr: 0.001, epochs: 5}\nruns: [*b, *b, {<<: *b, lr: 0.01}]\n"
    assert bounded_yaml.safe_load(text) == yaml.safe_load(text)
    assert bounded_yaml.safe_load("") is None


def test_the_node_limit_counts_every_alias_reference(monkeypatch):
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"  # map 1 + key a 1 + [1,2,3] 4 + key b 1 + (1 + 3 * 4) = 20
    assert bounded_yaml.expanded_nodes(yaml.compose(text)) == 20
    assert bounded_yaml.safe_load(text) == yaml.safe_load(text)
    monkeypatch.setenv("RP_MAX_YAML_NODES", "19")
    with pytest.raises(YamlLimitError, match="RP_MAX_YAML_NODES"):
        bounded_yaml.safe_load(text)


def test_recursive_alias_and_size_limits(tmp_path, monkeypatch):
    with pytest.raises(YamlLimitError, match="recursive"):
        bounded_yaml.safe_load("a: &a [1, *a]\n")
    p = tmp_path / "big.yaml"
    p.write_text("x: " + "y" * 5000 + "\n")
    monkeypatch.setenv("RP_MAX_YAML_BYTES", "1000")
    with pytest.raises(YamlLimitError, match="over the limit of 1,000"):
        bounded_yaml.read_text(p)


def test_cli_refuses_a_billion_laughs_sweep_card_and_endpoints(tmp_path):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    sweep = tmp_path / "laughs.yaml"
    sweep.write_text("name: laughs\nmodes: [standard]\nprofiles:\n  - method: index\nrouters:\n  - router: sim\n"
                     + "extra:\n" + "".join("  " + line + "\n" for line in LAUGHS.splitlines()))
    runner = CliRunner()
    t0 = time.time()
    r = runner.invoke(app, ["-w", str(tmp_path / "ws"), "sweep", str(sweep), "--dry-run"])
    assert r.exit_code in (1, 2), r.output
    assert "expands to more than" in r.output and "laughs.yaml" in r.output
    assert "Traceback" not in r.output and time.time() - t0 < 10
    assert not (tmp_path / "ws" / "runs").exists()

    from rpcli.core.data.importers.cards import load_structured
    from rpcli.errors import DataFileError

    card = tmp_path / "card.yaml"
    card.write_text(LAUGHS)
    with pytest.raises(DataFileError, match="card.yaml.*refused|refused.*"):
        load_structured(card)

    from rpcli.services.serving.serve import read_endpoints

    eps = tmp_path / "endpoints.yaml"
    eps.write_text("models:\n  m1: {base_url: 'http://127.0.0.1:1/v1', model: x}\n" + LAUGHS)
    with pytest.raises(DataFileError, match="refused"):
        read_endpoints(eps, ["m1"])
