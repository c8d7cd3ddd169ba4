"""Meeting verbs: process (the main job), demo, import, meetings, minutes, actions, review, ask."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.errors import KithError
from app.core.output import clean, print_json, print_table, terminal, to_jsonable
from app.meetings.minutes import clock, evidence_of, suggestion_line
from app.ops import review as ops

TEMPLATES = ["general", "sales", "investor", "one_on_one"]


class _Progress:
    """tqdm bars on stderr driven by core events (transcription seconds, extraction chunks)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bars: dict[str, object] = {}

    def __call__(self, event) -> None:
        from app.core.events import Progress
        from app.meetings.pipeline import StageChanged

        if isinstance(event, StageChanged):
            self.close()
            if event.stage not in ("done",):
                print(f"kith: {event.stage} {event.detail}".rstrip(), file=sys.stderr)
        elif isinstance(event, Progress) and self.enabled:
            from tqdm import tqdm

            bar = self.bars.get(event.task)
            if bar is None:
                bar = self.bars[event.task] = tqdm(total=event.total or None, desc=clean(event.task), file=terminal(sys.stderr), leave=False,
                                                   unit="s" if "transcri" in event.task else "it", dynamic_ncols=True)
            if event.total and bar.total != event.total:
                bar.total = event.total
            bar.n = event.done
            bar.refresh()

    def close(self) -> None:
        for b in self.bars.values():
            b.close()
        self.bars.clear()


def _run_process(kith, path: Path, opts, quiet: bool = False, meeting_id: int | None = None) -> int:
    """Process ``path`` — or, with ``meeting_id``, re-run the extraction of that stored meeting."""
    from app.core.events import CancelToken, Event
    from app.meetings.minutes import render_markdown
    from app.meetings.pipeline import AlreadyImported, Engines, MeetingStored
    from app.ops import meetings as ops

    progress = _Progress(enabled=not quiet)
    engines = Engines()
    stored: list[int] = [] if meeting_id is None else [meeting_id]
    unsubscribe = kith.bus.subscribe(Event, progress)
    unsub_stored = kith.bus.subscribe(MeetingStored, lambda e: stored.append(e.meeting_id))
    cancel = CancelToken()
    try:
        if meeting_id is not None:
            result = ops.reprocess(kith, meeting_id, opts, engines=engines, bus=kith.bus, cancel=cancel).value
        else:
            try:
                result = ops.process(kith, path, opts, engines=engines, bus=kith.bus, cancel=cancel).value
            except AlreadyImported as e:
                if not (sys.stdin.isatty() and sys.stdout.isatty()):
                    raise
                answer = input(f"{e.message}. Re-run its extraction instead? [Y/n] ").strip().lower()
                if answer not in ("", "y", "yes"):
                    raise
                stored.append(e.meeting.id)
                result = ops.reprocess(kith, e.meeting.id, opts, engines=engines, bus=kith.bus, cancel=cancel).value
    except KeyboardInterrupt:
        cancel.cancel()
        if stored:
            print(f"kith: meeting #{stored[-1]} is stored with its transcript; "
                  f"`kith meetings reprocess {stored[-1]}` finishes it", file=sys.stderr)
        raise
    finally:
        progress.close()
        unsubscribe()
        unsub_stored()
        engines.close()
    store = kith.store()
    print(render_markdown(store, result.meeting.id))
    if result.dropped:
        print(f"({len(result.dropped)} extracted item(s) dropped: they cited no real transcript line or were not supported by it)")
    print(f"Meeting #{result.meeting.id} stored. Review suggestions: `kith review` · minutes again: `kith minutes {result.meeting.id}`")
    return 0


def _when(text: str | None):
    """--at: an ISO date-time (local time when no offset is given)."""
    if not text:
        return None
    from datetime import datetime

    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise KithError(f"--at {text!r}: not a date and time", hint="use ISO form, e.g. --at '2026-11-29 14:00'") from None
    return t if t.tzinfo else t.astimezone()


def cmd_process(kith, args) -> int:
    from app.meetings.pipeline import ProcessOptions

    opts = ProcessOptions(template=args.template, title=args.title, with_emails=args.with_ or [], language=args.language,
                          whisper_model=args.model, llm_model=args.llm, started_at=_when(args.at),
                          user_notes=_read_notes(args.notes) if args.notes else "",
                          allow_duplicate=args.again)
    return _run_process(kith, Path(args.file), opts, quiet=args.quiet)


def _read_notes(name: str) -> str:
    """--notes FILE: UTF-8 text, checked before any transcription starts."""
    from app.core.files import read_user_text

    p = Path(name).expanduser()
    return read_user_text(p, f"--notes {p}", "give the path of a text file with your notes", 5 * 2**20)


def cmd_import(kith, args) -> int:
    from app.meetings.importers import is_transcript

    if not is_transcript(Path(args.file)):
        raise KithError(f"{args.file}: not a transcript file", hint="`kith import` takes .vtt, .srt, .txt or .json; for audio use `kith process`")
    return cmd_process(kith, args)


def cmd_demo(kith, args) -> int:
    from app.meetings.demo import run_demo

    return run_demo(kith, _run_process, keep=args.keep, quiet=args.quiet)


def cmd_meetings(kith, args) -> int:
    store = kith.store()
    if args.action in ("reprocess", "delete", "followup") and args.id is None:
        raise KithError("which meeting?", hint=f"kith meetings {args.action} ID (see `kith meetings list`)")
    if args.action == "reprocess":
        from app.meetings.pipeline import ProcessOptions

        store.meetings.get(args.id)
        return _run_process(kith, Path(), ProcessOptions(template=args.template, llm_model=args.llm), quiet=args.quiet,
                            meeting_id=args.id)
    if args.action == "delete":
        return _delete(kith, store, args)
    if args.action == "followup":
        from app.ops import meetings as meeting_ops

        if args.id is None:
            raise KithError("which meeting?", hint="kith meetings followup ID (see `kith meetings list`)")
        draft = meeting_ops.followup(kith, args.id).value
        if args.mailto:
            print(draft.mailto)
        else:
            print(f"To: {', '.join(draft.to)}\nSubject: {draft.subject}\n\n{draft.body}", end="")
        return 0
    if args.action == "show":
        if args.id is None:
            raise KithError("which meeting?", hint="kith meetings show ID (see `kith meetings list`)")
        return cmd_minutes(kith, argparse.Namespace(id=args.id, format="json" if args.json else "md"))
    meetings = store.meetings.list(limit=args.limit, query=args.query)
    if args.json:
        print_json(meetings)
        return 0
    print_table([(m.id, f"{m.started_at:%Y-%m-%d %H:%M}", m.title, m.template, m.status) for m in meetings], ["id", "when", "title", "template", "status"])
    return 0


def _delete(kith, store, args) -> int:
    from app.core.errors import Cancelled
    from app.ops import meetings as ops

    m = store.meetings.get(args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise KithError("deleting a meeting needs confirmation", hint="pass --yes to delete without asking")
        answer = input(f"Delete meeting #{m.id} “{m.title}” with its transcript, minutes, action items and "
                       "suggestions? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Cancelled("nothing was deleted")
    counts = ops.delete(kith, m.id).value
    rec = counts.pop("recording_kept", None)
    if args.json:
        print_json({"deleted": m.id, "counts": counts, "recording_kept": rec})
        return 0
    detail = ", ".join(f"{k.replace('meeting_', '')}: {v}" for k, v in counts.items() if v)
    print(f"deleted meeting #{m.id}" + (f" ({detail})" if detail else ""))
    if rec is not None:
        print(f"note: its recording #{rec} is kept (`kith recordings list`)", file=sys.stderr)
    return 0


def cmd_minutes(kith, args) -> int:
    from app.meetings.minutes import meeting_json, render_markdown

    store = kith.store()
    if args.format == "json":
        print_json(meeting_json(store, args.id))
    else:
        print(render_markdown(store, args.id), end="")
    return 0


def cmd_actions(kith, args) -> int:
    from app.meetings.minutes import action_dict, action_lines
    from app.ops.meetings import set_action_status

    store = kith.store()
    for ident, status in ((args.done, "done"), (args.dismiss, "dismissed"), (args.reopen, "open")):
        for i in ident or []:
            set_action_status(store, {i: status})
            print(f"action #{i} → {status}", file=sys.stderr)
    statuses = args.status or ["proposed", "open"]
    items = store.actions.list(status=statuses, owner=args.owner, meeting_id=args.meeting)
    if args.json:
        print_json([action_dict(store, a) for a in items])
        return 0
    if not items:
        print("No action items" + (f" with status {', '.join(statuses)}" if statuses else "") + ".")
    for a in items:
        print("\n".join(action_lines(store, a, with_meeting=True)))
    return 0


def cmd_review(kith, args) -> int:
    """`kith review`: the approval queue. Nothing the AI proposes touches the CRM until a person
    accepts it here (or in the app), or the user turned on auto-accept for that kind."""
    return _review(kith, accept=args.accept, reject=args.reject, accept_all=args.accept_all, as_json=args.json,
                   meeting_id=args.meeting)


def _accept(store, sid: int, payload=None):
    return ops.accept(store, sid, payload).value


def _reject(store, sid: int):
    ops.reject(store, sid)


def _show(store, s) -> None:
    print(suggestion_line(s))
    for ev in evidence_of(store, s.evidence):
        print(f"    > “{ev['quote']}” — {ev['speaker'] or 'speaker'}, {clock(ev['start'])}")
    if not s.evidence:
        print("    > (no source line)")


def _edit(payload: dict) -> dict:
    print("  edit fields (Enter keeps the value):")
    edits = {}
    for k, v in ops.editable_fields(payload):
        new = input(f"    {k} [{'' if v is None else v}]: ").strip()
        if new:
            edits[k] = new
    return ops.apply_edits(payload, edits)


def _review(kith, accept=None, reject=None, accept_all=False, as_json=False, meeting_id=None) -> int:
    store = kith.store()
    for sid in accept or []:
        _accept(store, sid)
        print(f"accepted #{sid}")
    for sid in reject or []:
        _reject(store, sid)
        print(f"rejected #{sid}")
    pending = store.suggestions.list(status="pending", meeting_id=meeting_id)
    if as_json:
        print_json([dict(to_jsonable(s), evidence_lines=evidence_of(store, s.evidence)) for s in pending])
        return 0
    if accept_all:
        for s in pending:
            _accept(store, s.id)
        print(f"accepted {len(pending)} suggestion(s)")
        return 0
    if accept or reject:
        return 0
    if not pending:
        print("Nothing to review.")
        return 0
    if not sys.stdin.isatty():
        for s in pending:
            _show(store, s)
        print(f"\n{len(pending)} pending. Accept or reject with `kith review --accept ID` / `--reject ID` (or run in a terminal).")
        return 0
    print(f"{len(pending)} suggestion(s) to review. [a]ccept  [e]dit  [r]eject  [s]kip  [q]uit")
    for s in pending:
        print()
        _show(store, s)
        while True:
            choice = input("  > ").strip().lower()[:1]
            if choice == "a":
                _accept(store, s.id)
                print("  accepted")
            elif choice == "e":
                _accept(store, s.id, _edit(s.payload))
                print("  accepted with your edits")
            elif choice == "r":
                _reject(store, s.id)
                print("  rejected")
            elif choice == "s":
                print("  skipped")
            elif choice == "q":
                return 0
            else:
                print("  a / e / r / s / q ?")
                continue
            break
    return 0


def cmd_ask(kith, args) -> int:
    from app.meetings.ask import cmd

    return cmd(kith, args.question, as_json=args.json, llm_name=args.llm, do_reindex=args.reindex,
               keyword_only=args.keyword_only)


def register(sub) -> None:
    def add_process_args(p):
        p.add_argument("file", help="a recording (wav, flac, mp3, m4a, ogg, webm, mp4 …) or a transcript (.vtt, .srt, .txt, .json)")
        p.add_argument("--template", choices=TEMPLATES, help="meeting template (default: settings crm.default_template)")
        p.add_argument("--title", help="meeting title (default: the calendar event's, else the file name)")
        p.add_argument("--at", metavar="WHEN", help="when the meeting started, e.g. '2026-11-29 14:00' (default: the file's "
                       "modification time); links it to the calendar event running then")
        p.add_argument("--with", dest="with_", action="append", metavar="EMAIL", help="an attendee's email (repeatable)")
        p.add_argument("--notes", metavar="FILE", help="your own notes (Markdown); the minutes never contradict them")
        p.add_argument("--language", help="spoken language (ISO code); default: settings or auto-detect")
        p.add_argument("--model", help="speech model (tiny.en, base, or a CTranslate2 folder)")
        p.add_argument("--llm", help="LLM (catalog name or a .gguf path)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
        p.add_argument("--again", action="store_true", help="import a second copy of a file already imported "
                       "(default: refuse and point at `kith meetings reprocess`)")

    p = sub.add_parser("process", help="the main job: transcribe a meeting, extract minutes and action items, store them",
                       description="Transcribe → extract (local LLM) → store. Prints the minutes with the source line behind each action item. "
                                   "Runs entirely offline.")
    add_process_args(p)
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("import", help="import an existing transcript (Zoom/Teams/Meet VTT or SRT, 'Speaker: text', Kith JSON) and extract minutes")
    add_process_args(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("demo", help="run the main job on the bundled sample sales call, in a throwaway profile")
    p.add_argument("--keep", action="store_true", help="keep the throwaway profile and print where it is")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("meetings", help="list meetings, show one, re-run its extraction, delete it or draft its follow-up email",
                       description="list | show ID | reprocess ID (extract again from the stored transcript: finishes "
                                   "an interrupted or failed extraction; replaces the earlier AI proposals) | "
                                   "delete ID (with its transcript, minutes, action items, suggestions) | "
                                   "followup ID (a follow-up email draft: recap, decisions, next steps; Kith sends nothing)")
    p.add_argument("action", nargs="?", choices=["list", "show", "reprocess", "delete", "followup"], default="list")
    p.add_argument("id", nargs="?", type=int)
    p.add_argument("--llm", help="reprocess: LLM (catalog name or a .gguf path)")
    p.add_argument("--template", choices=TEMPLATES, help="reprocess: use another template")
    p.add_argument("-q", "--quiet", action="store_true", help="reprocess: no progress bars")
    p.add_argument("--yes", action="store_true", help="delete: do not ask for confirmation")
    p.add_argument("--mailto", action="store_true", help="followup: print a mailto: URL (to, subject, body) instead")
    p.add_argument("--query", help="only meetings whose title matches")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_meetings)

    p = sub.add_parser("minutes", help="a meeting's minutes (Markdown or JSON)")
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=["md", "json"], default="md")
    p.set_defaults(func=cmd_minutes)

    p = sub.add_parser("actions", help="action items (default: proposed and open), with owner, due date and source line")
    p.add_argument("--status", action="append", choices=["proposed", "open", "done", "dismissed"], help="repeatable")
    p.add_argument("--owner", help="owner name (substring)")
    p.add_argument("--meeting", type=int, help="only this meeting")
    p.add_argument("--done", type=int, action="append", metavar="ID", help="mark an item done")
    p.add_argument("--dismiss", type=int, action="append", metavar="ID", help="dismiss an item")
    p.add_argument("--reopen", type=int, action="append", metavar="ID", help="reopen an item")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_actions)

    p = sub.add_parser("review", help="walk the approval queue: accept, edit or reject what the AI proposes")
    p.add_argument("--accept", type=int, action="append", metavar="ID", help="accept a suggestion without prompting")
    p.add_argument("--reject", type=int, action="append", metavar="ID", help="reject a suggestion without prompting")
    p.add_argument("--accept-all", action="store_true", help="accept every pending suggestion")
    p.add_argument("--meeting", type=int, help="only this meeting's suggestions")
    p.add_argument("--json", action="store_true", help="list the queue as JSON and exit")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("ask", help="ask a question over all your meetings; the answer cites meetings and lines")
    p.add_argument("question", nargs="?")
    p.add_argument("--llm", help="LLM (catalog name or a .gguf path)")
    p.add_argument("--json", action="store_true", help="the answer, its citations and the retrieved lines as JSON")
    p.add_argument("--reindex", action="store_true",
                   help="first embed every stored line that has no sentence vector yet (with progress)")
    p.add_argument("--keyword-only", action="store_true", help="bm25 only, no sentence vectors")
    p.set_defaults(func=cmd_ask)
