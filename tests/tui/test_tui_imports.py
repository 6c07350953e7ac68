"""The dashboard reads the manifest only: importing it must not pull in torch or the engine (rpcli.core)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("stmt", ["import rpcli.tui.app", "import rpcli.tui.rows", "import rpcli.cli.compare"])
def test_dashboard_imports_no_torch_and_no_core(stmt):
    code = (f"{stmt}; import sys; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'rpcli.core', "
            "'torch_geometric', 'transformers'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
