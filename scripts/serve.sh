#!/usr/bin/env bash
# Development server with the task worker and the scheduler; Ctrl-C stops all three.
set -euo pipefail
PY=.venv/bin/python
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
$PY manage.py db_worker --queue-name '*' &
$PY manage.py run_scheduler &
$PY manage.py demo_accounts || true
echo "Parcours: http://$HOST:$PORT/"
$PY manage.py runserver "$HOST:$PORT"
