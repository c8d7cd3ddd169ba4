#!/usr/bin/env sh
# Smoke-test a built bundle (packaging/build.sh) in a throwaway profile: versions and paths,
# the encrypted store, the main job on a transcript with a local GGUF, and the app starting.
#   packaging/smoke.sh [path/to/model.gguf]   (default: the qwen model in your model cache)
set -eu
cd "$(dirname "$0")/.."
K=dist/kith/kith
[ -x "$K" ] || { echo "no bundle: run packaging/build.sh first"; exit 1; }
export KITH_HOME="$(mktemp -d)" KITH_PASSPHRASE="smoke-test-passphrase" QT_QPA_PLATFORM=offscreen
trap 'rm -rf "$KITH_HOME"' EXIT
gguf=${1:-$(ls "$HOME"/.local/share/kith/models/qwen2.5-coder-1.5b/*.gguf 2>/dev/null | head -1)}
$K doctor | grep -E "kith|llama|sqlcipher|PySide6|voice encoder"
$K people add --name "Smoke Test" --email smoke@test.invalid >/dev/null && $K people list | grep -q "Smoke Test"
echo "store: ok"
if [ -n "$gguf" ]; then
  $K config set llm.model "$gguf" >/dev/null
  printf 'WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v You>I will send the pricing proposal to Maria by Friday.\n' > "$KITH_HOME/t.vtt"
  $K import "$KITH_HOME/t.vtt" -q | grep -q "Action items" && echo "main job (import + LLM): ok"
else
  echo "main job: skipped (no GGUF given and none in the model cache)"
fi
rc=0; timeout 15 $K app >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 124 ] && echo "desktop app: started and stayed up" || { echo "desktop app exited early ($rc)"; exit 1; }
