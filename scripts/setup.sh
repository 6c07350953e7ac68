#!/usr/bin/env bash
# Create .venv (or reuse it) and install rp with the CPU torch wheel. Idempotent.
# RP_VENV=DIR picks another virtual environment; a torch already installed there is kept (GPU users keep theirs).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${RP_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  # Install the CPU wheel first, so that resolving `torch>=2.2` later never pulls a CUDA build.
  echo "[setup] installing torch==2.13.0 (CPU)" >&2
  "${PIP[@]}" install "torch==2.13.0" 2>&1 | grep -v "is ignored" >&2 || true
  "$VENV/bin/python" -c "import torch" || { echo "[setup] torch failed to install" >&2; exit 1; }
fi
EXTRAS="${RP_EXTRAS:-test,ray,serve}"
echo "[setup] installing rp (.[$EXTRAS])" >&2
"${PIP[@]}" install -e ".[$EXTRAS]" 2>&1 | grep -v "is ignored" >&2 || true
"$VENV/bin/rp" --version >/dev/null || { echo "[setup] rp failed to install" >&2; exit 1; }
echo "[setup] ok: $("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)')" >&2
