#!/usr/bin/env sh
# Build the desktop app bundle (dist/kith/) with PyInstaller; installs pyinstaller into the venv if needed.
# Without a display the bundle needs QT_QPA_PLATFORM=offscreen (e.g. for a smoke test: dist/kith/kith doctor).
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install "pyinstaller>=6.6"
# a bundle runs on other people's CPUs: rebuild llama.cpp for generic x86-64 (AVX2) first,
# unless KITH_NATIVE_BUNDLE=1 (a bundle for this machine only)
if [ "${KITH_NATIVE_BUNDLE:-0}" != 1 ]; then
  v=$("$PY" -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))")
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PY" -m pip install -q --force-reinstall --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$v"
fi
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/kith.spec
mkdir -p dist/kith/share/applications dist/kith/share/icons/hicolor/scalable/apps
cp packaging/kith.desktop dist/kith/share/applications/
cp resources/icons/kith.svg dist/kith/share/icons/hicolor/scalable/apps/kith.svg
echo "built dist/kith/ ($(du -sh dist/kith | cut -f1))"
