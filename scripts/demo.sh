#!/usr/bin/env bash
# Set up (if needed) and run the main job: the full pipeline on the embedded demo dataset, ending in a leaderboard.
# RP_DATA=DIR runs it on another dataset in the RouteProfile layout (e.g. ../shared/data/routeprofile).
# Everything is recorded in the workspace (./workspace, or RP_WORKSPACE); a second run reuses every artifact.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="$(cd "${RP_VENV:-.venv}" && pwd)"
export PATH="$VENV/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
SEEDS="${RP_SEEDS:-0,1,2}"
start=$(date +%s)
step() { echo "[demo $(( $(date +%s) - start ))s] $*" >&2; }
step "dataset: ${RP_DATA:-embedded demo}"
rp data check
for mode in standard newllm; do
  step "$mode: graphs (task, query-task-domain)"
  G_TASK=$(rp graph build task --mode "$mode")
  G_QTD=$(rp graph build query-task-domain --mode "$mode")
  rp graph show "$G_QTD" >&2
  step "$mode: profiles (index, flat, emb-gnn, trainable, text-gnn)"
  PROFILES=(
    "$(rp profile index --mode "$mode")"
    "$(rp profile flat --mode "$mode" --graph "$G_QTD")"
    "$(rp profile emb-gnn --mode "$mode" --graph "$G_TASK" --K 2)"
    "$(rp profile emb-gnn --mode "$mode" --graph "$G_QTD" --K 2)"
    "$(rp profile trainable --mode "$mode" --graph "$G_TASK")"
    "$(rp profile text-gnn --mode "$mode" --graph "$G_QTD" --K 2 --backend extractive)"
  )
  step "$mode: routers (sim on every profile; mlp and graph, seeds $SEEDS)"
  for P in "${PROFILES[@]}"; do
    rp route sim --profile "$P" --mode "$mode" >/dev/null
  done
  for P in "${PROFILES[2]}" "${PROFILES[3]}" "${PROFILES[4]}"; do
    rp route mlp --profile "$P" --mode "$mode" --seeds "$SEEDS" >/dev/null
  done
  # GraphRouter trains 100 epochs per seed: all seeds on one profile, one seed on another.
  rp route graph --profile "${PROFILES[3]}" --mode "$mode" --seeds "$SEEDS" >/dev/null
  rp route graph --profile "${PROFILES[4]}" --mode "$mode" --seeds 0 >/dev/null
done
step "leaderboard"
rp compare --plain
step "done (workspace: $(rp ws path); open the dashboard with: rp compare)"
