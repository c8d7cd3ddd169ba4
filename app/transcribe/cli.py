"""`kith transcribe FILE`: the transcript on stdout (or -o), progress on stderr."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    from app.transcribe.formats import FORMATS

    p = sub.add_parser("transcribe", help="transcribe an audio/video file on this machine",
                       description="Transcribe any audio or video file locally. A 2-channel Kith recording is "
                                   "labelled You (channel 0) and Them (channel 1). Only the transcript goes to stdout.")
    p.add_argument("file", type=Path)
    p.add_argument("--model", help="tiny.en, base, another catalog name, or a CTranslate2 Whisper folder "
                                   "(default: transcribe.model setting)")
    p.add_argument("--language", help="ISO code such as en, de, fr; 'auto' to detect (default: transcribe.language)")
    p.add_argument("--format", "-f", choices=FORMATS, default="txt")
    p.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_transcribe)


def cmd_transcribe(kith, args) -> int:
    from app.core.events import CancelToken
    from app.core.output import clean, terminal
    from app.transcribe.file import transcribe_file
    from app.transcribe.formats import render

    from app.core.files import check_output, write_private

    if args.output:  # refuse a bad -o now, not after the whole transcription
        args.output = check_output(args.output, "-o")
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="s", desc=clean(args.file.name[:30]), file=terminal(sys.stderr), leave=False,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]")

    def progress(done: float, total: float) -> None:
        if bar is not None:
            if total and bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

    cancel = CancelToken()
    try:
        t = transcribe_file(args.file, kith.paths, kith.settings.transcribe, model=args.model, language=args.language,
                            bus=kith.bus, cancel=cancel, progress=progress)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
    text = render(t, args.format)
    if args.output:
        write_private(args.output, text)  # 0600: a transcript is as private as the recording
        print(f"{len(t.segments)} segments, {t.duration:.0f} s, language {t.language} → {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
