#!/usr/bin/env bash
# Set up (if needed) and run the main job: the full pipeline on the embedded demo dataset, ending in a leaderboard.
# RP_DATA=DIR runs it on another dataset in the RouteProfile layout (e.g. ../shared/data/routeprofile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="$(cd "${RP_VENV:-.venv}" && pwd)"
export PATH="$VENV/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
start=$(date +%s)
step() { echo "[demo] $*" >&2; }
step "dataset: ${RP_DATA:-embedded demo}"
rp data check
for mode in standard newllm; do
  step "mode $mode: graphs"
  G=$(rp graph build task --mode "$mode")
  rp graph show "$G" >&2
  step "mode $mode: profiles"
  P_EMB=$(rp profile emb-gnn --mode "$mode" --graph "$G" --K 2)
  P_IDX=$(rp profile index --mode "$mode")
  step "mode $mode: routers"
  for P in "$P_EMB" "$P_IDX"; do
    rp route sim --profile "$P" --mode "$mode" >/dev/null
  done
done
step "leaderboard"
rp compare --plain
step "done in $(( $(date +%s) - start ))s (workspace: $(rp ws path))"
