#!/usr/bin/env sh
# Build the desktop app bundle (dist/kith/) with PyInstaller; installs pyinstaller into the venv if needed.
# Without a display the bundle needs QT_QPA_PLATFORM=offscreen (e.g. for a smoke test: dist/kith/kith doctor).
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install "pyinstaller>=6.6"
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/kith.spec
mkdir -p dist/kith/share/applications dist/kith/share/icons/hicolor/scalable/apps
cp packaging/kith.desktop dist/kith/share/applications/
cp resources/icons/kith.svg dist/kith/share/icons/hicolor/scalable/apps/kith.svg
echo "built dist/kith/ ($(du -sh dist/kith | cut -f1))"
