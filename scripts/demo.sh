#!/usr/bin/env bash
# Set up (if needed) and run the main job: the full pipeline on the embedded demo dataset, ending in a leaderboard.
# RP_DATA=DIR runs it on another dataset in the RouteProfile layout (e.g. ../shared/data/routeprofile).
# RP_JOBS=N builds N artifacts at once (default 1).
# Everything is recorded in the workspace (./workspace, or RP_WORKSPACE); a second run reuses every artifact.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="$(cd "${RP_VENV:-.venv}" && pwd)"
export PATH="$VENV/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
start=$(date +%s)
step() { echo "[demo $(( $(date +%s) - start ))s] $*" >&2; }
step "dataset: ${RP_DATA:-embedded demo}"
rp data check
step "sweep: sweeps/quick.yaml (graphs -> profiles -> runs, both modes; recorded artifacts are reused)"
rp sweep sweeps/quick.yaml --jobs "${RP_JOBS:-1}" >/dev/null
step "sweep: sweeps/best.yaml (beyond the study: per-task prior, CV-tuned knn and blend routers gated per task, both modes)"
rp sweep sweeps/best.yaml --jobs "${RP_JOBS:-1}" >/dev/null
step "the recommended GraphRouter (--preset recommended; recorded by the quick sweep, reused here) routes one query"
P=$(rp -q profile emb-gnn --mode standard --K 2 --graph "$(rp -q graph build query-task-domain --mode standard)")
R=$(rp -q route graph --profile "$P" --mode standard --preset recommended --seeds 0,1,2)
rp route query "Solve for x: 3x + 5 = 20" --run "$R"
step "serving speed: the static encoder (distilled once from MiniLM into ~/.cache/rp), a CV-tuned knn router on it, one query routed"
P=$(rp -q --encoder minilm-static profile index --mode standard)
R=$(rp -q --encoder minilm-static route knn --profile "$P" --mode standard --tune)
rp --encoder minilm-static route query "Write a Python function that reverses a list" --run "$R" --explain
step "leaderboard (the static encoder's run is labelled knn(encoder=...))"
rp compare --plain
step "done (workspace: $(rp ws path); open the dashboard with: rp compare)"
