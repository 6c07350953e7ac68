"""Shared by the bench scripts: the commit and the machine a measurement was taken on."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The checked-out commit (with "+dirty" when the work tree has changes), or "unknown"."""
    if os.environ.get("RP_BENCH_COMMIT"):
        return os.environ["RP_BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    """nproc, the load average when called, the CPU model and the Python version."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()], "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform()}
