"""Dashboard tests: snapshots are made with one Python; refuse to rewrite them from another (renders differ)."""

from __future__ import annotations

import sys

import pytest

SNAPSHOT_PYTHON = (3, 11)  # the Python the committed SVG snapshots were generated with


def pytest_configure(config):
    if config.getoption("--snapshot-update", default=False) and sys.version_info[:2] != SNAPSHOT_PYTHON:
        raise pytest.UsageError(f"update the dashboard snapshots with Python {'.'.join(map(str, SNAPSHOT_PYTHON))}"
                                f" only (this is {sys.version_info.major}.{sys.version_info.minor})")
