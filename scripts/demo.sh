#!/usr/bin/env bash
# The demo: a devnet with two workers runs the hello app once, then shows the task's debug view.
set -euo pipefail
cd "$(dirname "$0")/.."
PP=".venv/bin/pocopool"
HOME_DIR="${DEMO_HOME:-demo-home}"
export POCOPOOL_HOME="$HOME_DIR"
json() { .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)$1)"; }

if [ -f "$HOME_DIR/devnet.json" ]; then $PP devnet stop >/dev/null 2>&1 || true; fi
rm -rf "$HOME_DIR"
trap '$PP devnet stop >/dev/null 2>&1 || true' EXIT

echo "== starting a devnet in $HOME_DIR (chain, scheduler, result store, file server, 2 workers)"
$PP devnet start --workers 2
echo "== deploying examples/apps/hello"
APP=$($PP app deploy examples/apps/hello --json | json "['app']")
echo "app: $APP"
echo "== running it (trust 1, one task)"
RUN=$($PP run "$APP" --args "pocopool demo" --json)
TASK=$(echo "$RUN" | json "['taskIds'][0]")
echo "deal: $(echo "$RUN" | json "['dealId']")"
echo "task: $TASK"
echo "== following the task"
$PP task show "$TASK" --watch --timeout 120
echo "== the task's debug view"
$PP task debug "$TASK"
echo "== its result"
$PP task download "$TASK" "$HOME_DIR/result"
cat "$HOME_DIR/result/greeting.txt"
echo "== stopping the devnet"
$PP devnet stop
trap - EXIT
echo "demo done: task $TASK COMPLETED"
