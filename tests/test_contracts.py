"""The architecture guards, run by the test command: import contracts (import-linter) and the typed seams (mypy).

Both read their configuration from pyproject.toml ([tool.importlinter], [tool.mypy]); scripts/setup.sh installs
them with the `test` extra. A missing tool fails the test rather than skipping it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    exe = BIN / name
    found = str(exe) if exe.exists() else shutil.which(name)
    assert found, f"{name} is not installed beside {sys.executable}; run `bash scripts/setup.sh` (installs .[test])"
    return found


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold():
    """Layers cli > tui | services > core > workspace; core and services headless; the dashboard never touches the
    engine; the workspace is stdlib only."""
    res = _run([_tool("lint-imports"), "--no-cache"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 kept, 0 broken" in res.stdout, res.stdout


def test_seams_type_check():
    """Session, the registry and plugin API (Router, ProfileMethod and every plugin module in rpcli/core/plugins),
    RouteContext/RouterResult, LoadedRouter and Progress (with the CLI's RichProgress handed to Session); every file
    of [tool.mypy] is checked (an emptied config checks fewer and fails)."""
    import re

    block = re.search(r"\[tool\.mypy\]\s*files = \[(.*?)\]", (REPO / "pyproject.toml").read_text(), re.S)
    entries = re.findall(r'"([^"]+)"', block.group(1))
    files = [f for e in entries for f in ([e] if e.endswith(".py") else
                                          sorted(str(p) for p in (REPO / e).rglob("*.py")))]
    assert "rpcli/core/plugins" in entries and "rpcli/core/registry.py" in entries, entries
    plugin_modules = [f for f in files if "core/plugins/" in f and not f.endswith("__init__.py")]
    assert len(plugin_modules) >= 10, plugin_modules  # every built-in router and profile method module
    res = _run([sys.executable, "-m", "mypy"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"Success: no issues found in {len(files)} source files" in res.stdout, res.stdout
