#!/usr/bin/env bash
# Kith's whole test suite: installs what is missing (scripts/setup.sh --no-run), starts a
# private PulseAudio daemon with null sinks for the real-capture tests, runs pytest.
# Extra arguments go to pytest. pytest's "no tests collected" (exit 5) counts as failure
# only when tests were expected; here every run must collect tests, so 5 -> 1 with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-run || exit 1

export QT_QPA_PLATFORM=offscreen
pulse_pid=""
if command -v pulseaudio >/dev/null 2>&1; then
  export XDG_RUNTIME_DIR=$(mktemp -d)
  export PULSE_RUNTIME_PATH="$XDG_RUNTIME_DIR/pulse"
  pulseaudio --daemonize=no --exit-idle-time=-1 --system=false -n \
    --load="module-native-protocol-unix" --load="module-null-sink sink_name=vsink" \
    --load="module-null-sink sink_name=vmic" --load="module-always-sink" >/dev/null 2>&1 &
  pulse_pid=$!
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  if pactl info >/dev/null 2>&1; then
    pactl set-default-source vsink.monitor >/dev/null 2>&1 || true
    export KITH_TEST_PULSE=1
  fi
fi
cleanup() { [ -n "$pulse_pid" ] && kill "$pulse_pid" 2>/dev/null; true; }
trap cleanup EXIT

KITH_TEST_HARD_EXIT=1 .venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests (exit 5): treating as a failure" >&2
  rc=1
fi
exit $rc
