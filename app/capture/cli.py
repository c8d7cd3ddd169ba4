"""`kith devices`, `kith record`, `kith recordings list|export|recover`.

Heavy modules (numpy, sounddevice, cryptography, the speech engine) load inside the command
functions so `kith --help` stays fast.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from app.core.errors import KithError, NotFound
from app.core.output import control


def register(sub) -> None:
    p = sub.add_parser("devices", help="list microphones and system-audio (monitor/loopback) sources")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("record", help="record the microphone (You) and the call's audio (Them), encrypted",
                       description="Records two channels into an encrypted .krec file. Ctrl-C stops and saves.")
    p.add_argument("--mic", metavar="DEV", help="microphone: an id from `kith devices`, a Pulse source, an index or a name")
    p.add_argument("--system", metavar="DEV", help="system audio: a monitor/loopback source (default: the default output's)")
    p.add_argument("--no-mic", action="store_true", help="record system audio only")
    p.add_argument("--no-system", action="store_true", help="record the microphone only")
    p.add_argument("--no-live", action="store_true", help="no live transcript (level meter only)")
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("recordings", help="list, export or recover recordings")
    rs = p.add_subparsers(dest="recordings_action", metavar="ACTION")
    q = rs.add_parser("list", help="recordings on this machine")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_recordings_list)
    q = rs.add_parser("export", help="write a plain (unencrypted) WAV or FLAC copy")
    q.add_argument("id", help="recording id (or a unique prefix) from `kith recordings list`")
    q.add_argument("--format", choices=["wav", "flac"], default="wav")
    q.add_argument("-o", "--output", metavar="OUT", help="output file (default: ID.FORMAT here)")
    q.set_defaults(func=cmd_recordings_export)
    q = rs.add_parser("recover", help="finalize recordings left unfinished by a crash (also done by `kith record`)")
    q.set_defaults(func=cmd_recordings_recover)
    p.set_defaults(func=lambda kith, args: (p.print_help(), 2)[1])


def recordings_key(kith) -> bytes:
    from app.capture.session import recordings_key as _key

    return _key(kith)


# -- devices ----------------------------------------------------------------------------------
def cmd_devices(kith, args) -> int:
    from app.capture import devices as dv
    from app.core.output import print_json, print_table

    devs = dv.list_devices()
    if args.json:
        mic, system = dv.default_mic(devs), dv.default_system(devs)
        print_json({"devices": [d.to_json() for d in devs], "default_mic": mic.id if mic else None,
                    "default_system": system.id if system else None})
        if not devs:
            raise dv._no_devices_error()
        return 0
    if not devs:
        raise dv._no_devices_error()
    mic, system = dv.default_mic(devs), dv.default_system(devs)
    rows = []
    for d in devs:
        role = "mic (default)" if mic and d.id == mic.id else "system (default)" if system and d.id == system.id else ""
        rows.append([d.id, d.description, d.kind, d.host_api, d.channels, int(d.default_samplerate), role])
    print_table(rows, ["ID", "DEVICE", "KIND", "HOST API", "CH", "RATE", "USED FOR"])
    if system is None:
        print(f"\nno system-audio source: {dv.system_missing_hint()}")
    return 0


# -- record -----------------------------------------------------------------------------------
def _bar(level: float, width: int = 20) -> str:
    import math

    db = 20 * math.log10(max(level, 1e-6))
    filled = int(round(max(0.0, min(1.0, (db + 60) / 60)) * width))
    return "█" * filled + "·" * (width - filled) + f" {db:5.0f} dB"


def cmd_record(kith, args) -> int:
    import threading

    from app.capture import events as ev
    from app.capture.session import open_recorder, recover_on_start

    key = recordings_key(kith)
    for r in recover_on_start(kith, key):
        if r.action == "recovered":
            print(f"recovered unfinished recording {r.path.stem} ({r.seconds:.0f} s kept)", file=sys.stderr)
        elif r.action == "error":
            print(f"could not recover {r.path.name}: {r.message}", file=sys.stderr)
    rec, notes = open_recorder(kith, None if args.no_mic else (args.mic or ""),
                               None if args.no_system else (args.system or ""), key=key)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    mic, system = rec.devices

    tty = sys.stdout.isatty()
    lock = threading.Lock()
    state = {"levels": None, "partial": "", "last_draw": 0.0}

    def say(line: str, err: bool = False) -> None:
        with lock:
            if tty:
                sys.stdout.write(control("\r\033[K"))
            print(line, file=sys.stderr if err else sys.stdout, flush=True)

    def on_event(e) -> None:
        if isinstance(e, ev.Levels):
            state["levels"] = e
            now = time.monotonic()
            if tty and now - state["last_draw"] >= 0.1:
                state["last_draw"] = now
                m, s = divmod(int(e.t), 60)
                line = (f"{m:02d}:{s:02d}  You {_bar(e.peak[0]) if mic else '(off)':>28}   "
                        f"Them {_bar(e.peak[1]) if system else '(off)':>28}")
                if state["partial"]:
                    line += "  … " + state["partial"][-40:]
                with lock:
                    sys.stdout.write(control("\r\033[K") + line)
                    sys.stdout.flush()
        elif isinstance(e, ev.SilenceWarning):
            say(f"warning: {e.message} ({e.seconds:.0f} s of silence on {'You' if e.channel == 0 else 'Them'})", err=True)
        elif isinstance(e, ev.DeviceLost):
            say(f"warning: lost {e.device!r} ({e.reason}); {'You' if e.channel == 0 else 'Them'} continues as silence",
                err=True)
        elif isinstance(e, ev.DiskLow):
            say(f"warning: {e.free_mb:.0f} MB free on disk" + ("; stopping the recording" if e.stopping else ""), err=True)
        elif isinstance(e, ev.CaptureWarning):
            say(f"warning: {e.message}", err=True)

    unsubscribe = [kith.bus.subscribe(cls, on_event) for cls in
                   (ev.Levels, ev.SilenceWarning, ev.DeviceLost, ev.DiskLow, ev.CaptureWarning)]
    live = None if args.no_live else _start_live(kith, rec, mic is not None, system is not None, say, state)
    rec.start()
    def label(d) -> str:
        return "off" if d is None else d.name if d.description == d.name else f"{d.description} ({d.name})"

    say(f"recording {rec.id} — You: {label(mic)} | Them: {label(system)}  (Ctrl-C to stop)", err=True)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    try:
        while not rec.wait(0.2):
            if deadline is not None and time.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        pass
    try:
        summary = rec.stop()
    finally:
        if live is not None:
            live.close(timeout=30)
        for u in unsubscribe:
            u()
    say(f"saved recording {summary.id} ({summary.seconds:.1f} s, stopped: {summary.reason})")
    say(f"  {summary.path}")
    say(f"  play or transcribe it with: kith recordings export {summary.id} --format wav")
    return 0


def _start_live(kith, rec, has_mic: bool, has_system: bool, say, state):
    """Live transcript in the terminal when the streaming transcriber is available."""
    try:
        from app.transcribe.engine import WhisperCache
        from app.transcribe.events import FinalSegment, PartialSegment
        from app.transcribe.streaming import StreamingTranscriber
    except ImportError:
        say("note: live transcription is not available in this build; recording only", err=True)
        return None
    try:
        model = WhisperCache(kith.paths).get(kith.settings.transcribe.model, threads=kith.settings.transcribe.threads)
    except KithError as e:
        say(f"note: no live transcript ({e.message}); recording only", err=True)
        return None

    def on_event(e) -> None:
        if isinstance(e, PartialSegment):
            state["partial"] = f"{e.speaker}: {e.text}"
        elif isinstance(e, FinalSegment):
            state["partial"] = ""
            seg = e.segment
            m, s = divmod(int(seg.start), 60)
            say(f"[{m:02d}:{s:02d}] {seg.speaker}: {seg.text.strip()}")

    st = StreamingTranscriber(model, rec.rate, on_event=on_event, language=kith.settings.transcribe.language)

    def feed(frames) -> None:
        if has_mic:
            st.feed(frames[:, 0], 0)
        if has_system:
            st.feed(frames[:, 1], 1)

    rec.subscribe(feed)
    return st


# -- recordings ---------------------------------------------------------------------------------
def _find(kith, ident: str) -> Path:
    from app.capture.container import SUFFIX

    directory = kith.paths.recordings
    exact = directory / f"{ident}{SUFFIX}"
    if exact.exists():
        return exact
    matches = sorted(directory.glob(f"{ident}*{SUFFIX}")) if directory.exists() else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KithError(f"{ident!r} matches {len(matches)} recordings", hint="give more of the id")
    raise NotFound(f"no recording {ident!r}", hint="see `kith recordings list`")


def cmd_recordings_list(kith, args) -> int:
    from app.capture.container import SUFFIX, info
    from app.core.output import print_json, print_table

    directory = kith.paths.recordings
    infos = []
    for p in sorted(directory.glob(f"*{SUFFIX}")) if directory.exists() else []:
        try:
            infos.append(info(p))
        except (KithError, OSError) as e:
            print(f"warning: {p.name}: {e}", file=sys.stderr)
    if args.json:
        print_json([{"id": i.id, "path": i.path, "created_at": i.created_at, "seconds": round(i.seconds, 2),
                     "sample_rate": i.sample_rate, "channels": i.channels, "state": i.state, "bytes": i.size}
                    for i in infos])
        return 0
    print_table([[i.id, i.created_at.astimezone().strftime("%Y-%m-%d %H:%M"), f"{i.seconds / 60:.1f} min",
                  i.state, f"{i.size / 1e6:.1f} MB"] for i in infos], ["ID", "STARTED", "LENGTH", "STATE", "SIZE"])
    return 0


def cmd_recordings_export(kith, args) -> int:
    from app.capture.container import RecordingReader, export_plain

    from app.core.files import check_output

    path = _find(kith, args.id)
    out = check_output(Path(args.output) if args.output else Path.cwd() / f"{path.stem}.{args.format}", "-o",
                       overwrite=False)
    key = recordings_key(kith)
    export_plain(path, key, out, format=args.format)
    reader = RecordingReader(path, key)
    list(reader.blocks(dtype="int16"))  # to report damage found during export
    for prob in reader.problems:
        print(f"warning: chunk {prob.index}: {prob.message}", file=sys.stderr)
    print(f"wrote {out} (plain, unencrypted — delete it when done)")
    return 0


def cmd_recordings_recover(kith, args) -> int:
    from app.capture.container import recover

    results = recover(kith.paths.ensure().recordings, recordings_key(kith))
    if not results:
        print("no unfinished recordings")
    for r in results:
        extra = f"{r.frames} frames kept, {r.truncated_bytes} bytes of torn tail cut" if r.action == "recovered" else r.message
        print(f"{r.path.stem}: {r.action} {extra}".rstrip())
    return 1 if any(r.action == "error" for r in results) else 0
