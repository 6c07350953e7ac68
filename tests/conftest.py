"""Shared fixtures: an isolated workspace per test, the tiny dataset, a session with a fast hashing encoder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny import write_tiny  # noqa: E402

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routeprofile"
requires_real_data = pytest.mark.skipif(not REAL_DATA.is_dir(),
                                        reason=f"the released dataset is absent ({REAL_DATA})")


@pytest.fixture
def one_thread():
    """Tiny torch models: one intra-op thread is faster (and immune to a busy machine); restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    monkeypatch.setenv("RP_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("RP_DATA", raising=False)
    monkeypatch.delenv("RP_ENCODER", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    return write_tiny(tmp_path / "tiny")


@pytest.fixture
def make_tiny(tmp_path):
    """Factory: make_tiny(mutate) writes a (possibly broken) copy of the tiny dataset and returns its path."""
    counter = {"n": 0}

    def make(mutate=None) -> Path:
        counter["n"] += 1
        return write_tiny(tmp_path / f"tiny{counter['n']}", mutate)

    return make


@pytest.fixture
def sess(tmp_path, tiny_data):
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    return Session(workspace=Workspace(tmp_path / "ws"), data_root=tiny_data, encoder_spec="hash:32")


@pytest.fixture
def real_sess(tmp_path):
    if not REAL_DATA.is_dir():
        pytest.skip(f"the released dataset is absent ({REAL_DATA})")
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    return Session(workspace=Workspace(tmp_path / "ws"), data_root=REAL_DATA, encoder_spec="hash:32")
