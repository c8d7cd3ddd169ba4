"""`kith speakers MEETING` (talk time per speaker) and `kith speakers rename MEETING OLD NEW`."""
from __future__ import annotations

import argparse

from app.core.errors import KithError


def _meeting_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise KithError(f"{text!r} is not a meeting id", hint="list meetings with: kith meetings") from None


def cmd_speakers(kith, args) -> int:
    words = list(args.words)
    if words and words[0] == "rename":
        if len(words) != 4:
            raise KithError("usage: kith speakers rename MEETING OLD NEW", hint='e.g. kith speakers rename 3 "Speaker 2" "Ana Silva"')
        return _rename(kith, _meeting_id(words[1]), words[2], words[3], args)
    if len(words) != 1:
        raise KithError("usage: kith speakers MEETING  |  kith speakers rename MEETING OLD NEW")
    return _list(kith, _meeting_id(words[0]), args)


def _list(kith, meeting_id: int, args) -> int:
    from app.core.output import print_json, print_table
    from app.speakers.api import speaker_stats

    stats = speaker_stats(kith.store(), meeting_id)
    if args.json:
        print_json(stats)
        return 0
    print_table([(s.speaker, _clock(s.seconds), f"{s.share * 100:.0f}%", s.segments, s.words) for s in stats],
                ["speaker", "talk time", "share", "segments", "words"])
    return 0


def _rename(kith, meeting_id: int, old: str, new: str, args) -> int:
    from app.core.output import print_json
    from app.ops.people import rename_speaker

    res = rename_speaker(kith.store(), meeting_id, old, new, contact_id=args.contact, audio_path=args.audio).value
    if args.json:
        print_json(res)
        return 0
    print(f"renamed {old!r} → {new!r}: {res.segments} segment(s), {res.notes} minutes note(s), {res.actions} action item(s)")
    if res.profile_id:
        print("voice profile stored: Kith will recognise this voice in later meetings")
    elif res.contact_id is None:
        print("not a contact: no voice profile stored (pass --contact ID to link the person)")
    if res.warning:
        print(f"warning: {res.warning}")
    return 0


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def register(sub) -> None:
    p = sub.add_parser(
        "speakers", help="who spoke in a meeting (talk time), or rename a speaker",
        description="kith speakers MEETING            list speakers with talk time\n"
                    'kith speakers rename MEETING OLD NEW   e.g. rename 3 "Speaker 2" "Ana Silva"\n\n'
                    "A rename updates the transcript, the minutes and action-item owners. When the person is a "
                    "contact (--contact ID, or a contact with that exact name), their voice is stored (encrypted) "
                    "so later meetings recognise them; erasing the person erases it.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("words", nargs="+", metavar="MEETING | rename MEETING OLD NEW")
    p.add_argument("--contact", type=int, metavar="ID", help="rename: the contact this speaker is")
    p.add_argument("--audio", metavar="FILE", help="rename: the meeting audio (default: the meeting's source file)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_speakers)
