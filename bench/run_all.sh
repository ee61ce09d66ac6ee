#!/usr/bin/env bash
# make bench: every benchmark once, each printing one JSON line (also appended to bench/results.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY bench/throughput.py --tasks 200 --workers 4 --slots 2
$PY bench/baseline_celery.py --tasks 200 --workers 4 --slots 2
$PY bench/status_updates.py --db sqlite
$PY bench/status_updates.py --db sqlite --concurrency 8
$PY bench/status_updates.py --db postgres
$PY bench/history.py --db sqlite --history 100000
$PY bench/consensus.py --tasks 20 --workers 10
$PY bench/latency.py --tasks 20
