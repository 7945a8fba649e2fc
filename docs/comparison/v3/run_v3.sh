#!/usr/bin/env bash
# The exact commands behind docs/comparison/v3/: the same practice tasks as v1 and v2, after the
# line-search changes (every step validated on the same folds, the noise gate, the stage
# following the step limit), noise 0 and 1, 10 steps, one run at a time. Code: commit 4992fe3
# (run from a snapshot of it, so that later edits could not mix in). ames and titanic with
# 3 seeds; hpc-jobs with 2 seeds, to fit the time left.
#   usage: docs/comparison/v3/run_v3.sh WORK_DIR
set -euo pipefail
WORK=${1:-./evidence-v3}
mkdir -p "$WORK"
for task in ames hpc-jobs titanic; do
  [ -d "$WORK/$task" ] || gome tasks make "$task" --out "$WORK/$task" --max-rows 2000
done
COMMON=(--optimizers gradient,tree --reasoning-noise 0,1 --steps 10
        --full-time-limit 120s --debug-time-limit 60s --jobs 1)
gome compare "$WORK/ames" "${COMMON[@]}" --seeds 3 --out "$WORK/compare-ames"
gome compare "$WORK/titanic" "${COMMON[@]}" --seeds 3 --out "$WORK/compare-titanic"
gome compare "$WORK/hpc-jobs" "${COMMON[@]}" --seeds 2 --out "$WORK/compare-hpc-jobs"
