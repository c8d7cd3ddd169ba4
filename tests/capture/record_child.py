"""Child process for the crash tests: records two synthetic channels until killed.

    python record_child.py DIR KEYHEX
prints "STARTED <path>" once audio flows, then records forever (the test kills it with -9).
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.capture.recorder import Recorder  # noqa: E402
from app.capture.sources import FileSource, ToneSource  # noqa: E402


def main() -> None:
    directory, key = Path(sys.argv[1]), bytes.fromhex(sys.argv[2])
    rec = Recorder(directory, key, ToneSource(440, samplerate=48000),
                   FileSource(ROOT / "tests" / "data" / "jfk.wav", loop=True), sample_rate=16000,
                   min_free_disk_mb=50)
    rec.start()
    rec.wait_ready(5)
    print(f"STARTED {rec.path}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
