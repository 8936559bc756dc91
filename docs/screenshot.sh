#!/usr/bin/env bash
# Takes README's picture of `mgrid metrics tail`: `mgrid dev` under a paced load of 150, then
# 300 webhooks a second, the dashboard in a 120x40 tmux pane, captured with its colours and
# rendered as docs/metrics-tail.png. Needs tmux, a built mgrid (cargo build), and pyte and
# Pillow (pip install pyte pillow).
set -euo pipefail
cd "$(dirname "$0")/.."
mgrid=${MGRID:-target/debug/mgrid}
work=$(mktemp -d)
socket=mgrid-screenshot-$$
cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  [ -n "${dev:-}" ] && kill -INT "$dev" 2>/dev/null && wait "$dev" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

MGRID_LOG=error "$mgrid" dev --port 0 --data-dir "$work/local" --quiet >/dev/null 2>&1 &
dev=$!
for _ in $(seq 100); do [ -s "$work/local/endpoint" ] && break; sleep 0.1; done

# 150 a second for four minutes, doubled for the last two; a PayPal webhook a second, which
# mgrid cannot sign as PayPal does, so each is dead-lettered.
"$mgrid" send stripe --stage local --data-dir "$work/local" --count 36000 --rate 150 >/dev/null 2>&1 &
"$mgrid" send paypal --stage local --data-dir "$work/local" --count 240 --rate 1 >/dev/null 2>&1 &
sleep 120
"$mgrid" send stripe --stage local --data-dir "$work/local" --count 18000 --rate 150 >/dev/null 2>&1 &
sleep 60
tmux -L "$socket" -f /dev/null new-session -d -s m -x 120 -y 40 \
  "TERM=xterm-256color $mgrid metrics tail --stage local --data-dir $work/local --window 15m --interval 5s"
sleep 12
tmux -L "$socket" capture-pane -e -p -t m > "$work/capture.ans"
python3 docs/screenshot.py "$work/capture.ans" docs/metrics-tail.png --size 120x40
