"""What Kith prints cannot drive the terminal: escape sequences and control characters in
titles, speaker names and transcript text are removed on every CLI print path; Kith's own
colours survive; JSON keeps the data intact. Plain-text outputs and settings are 0600."""
from __future__ import annotations

import io
import json
import stat
from datetime import datetime, timezone

from app.cli import main
from app.core.config import Settings, save_settings
from app.core.domain import Meeting, Segment
from app.core.files import write_private
from app.core.output import SafeStream, clean, color, print_json

EVIL = "Q3\x1b]0;pwned\x07 review\x1b[2J\x1b[H\x9b31m\u202egnp.exe\x1bP1;2qdata\x1b\\ \x07done\r\x08"
HOSTILE = ("\x1b", "\x07", "\x9b", "\u202e", "\r", "\x08")


def test_clean_removes_escapes_and_controls_but_keeps_text_tabs_and_newlines():
    assert clean(EVIL) == "Q3 reviewgnp.exe done"
    assert clean("Zoë\tsaid:\n«ok» 你好") == "Zoë\tsaid:\n«ok» 你好"
    assert clean("\x1b]52;c;c2VjcmV0\x07copied") == "copied"  # OSC 52 clipboard write
    assert clean("\x1b") == "" and clean("") == ""


def test_safe_stream_passes_only_kiths_own_sequences():
    raw = io.StringIO()
    raw.isatty = lambda: True  # colour on, as on a terminal
    s = SafeStream(raw)
    s.write(color("ok", "32", s) + " " + EVIL + "\n")
    out = raw.getvalue()
    assert out.startswith("\x1b[32mok\x1b[0m ")
    rest = out[len("\x1b[32mok\x1b[0m "):]
    assert not any(c in rest for c in HOSTILE) and rest == clean(EVIL) + "\n"
    # a guessed token from data is just text
    raw2 = io.StringIO()
    SafeStream(raw2).write("\ue000deadbeefdeadbeef0\ue001")
    assert "\x1b" not in raw2.getvalue()


def test_print_json_escapes_c1_and_bidi_but_keeps_the_data():
    buf = io.StringIO()
    print_json({"title": EVIL}, file=buf)
    text = buf.getvalue()
    assert not any(c in text for c in HOSTILE)
    assert json.loads(text)["title"] == EVIL


def _meeting_with_evil_names(kith):
    store = kith.store()
    m = store.meetings.add(Meeting(title=EVIL, started_at=datetime.now(timezone.utc), status="transcribed"))
    store.segments.add_many(m.id, [Segment(start=0, end=1, text="Hello " + EVIL, speaker="Bob\x1b[8m\x1b]0;x\x07"),
                                   Segment(start=1, end=2, text="bye", speaker="You")])
    kith.close()
    return m.id


def test_cli_list_show_and_errors_print_no_escape_sequences(kith, capsys):
    mid = _meeting_with_evil_names(kith)
    for argv in (["meetings", "list"], ["meetings", "show", str(mid)], ["minutes", str(mid)],
                 ["meetings", "list", "--json"], ["search", "Hello"]):
        rc = main(argv)
        out, err = capsys.readouterr()
        assert rc in (0, 1, 4), argv
        assert not any(c in out + err for c in HOSTILE), (argv, (out + err)[:300])
    main(["meetings", "list"])
    assert "Q3 review" in capsys.readouterr().out
    # an error naming a hostile file name is cleaned too
    rc = main(["import", "/nonexistent/\x1b]0;x\x07name.vtt"])
    _, err = capsys.readouterr()
    assert rc != 0 and err.startswith("kith: error:") and "\x1b" not in err and "\x07" not in err


def test_sys_streams_are_restored_after_main(capsys):
    import sys

    before = sys.stdout
    main(["config", "show"])
    assert sys.stdout is before


def test_settings_and_private_files_are_owner_only(tmp_path, kith, capsys):
    save_settings(Settings(), kith.paths.settings_file)
    assert stat.S_IMODE(kith.paths.settings_file.stat().st_mode) == 0o600
    assert main(["config", "set", "crm.my_name", "Ada Lovelace"]) == 0
    assert stat.S_IMODE(kith.paths.settings_file.stat().st_mode) == 0o600
    d = tmp_path / "out"
    d.mkdir()
    p = write_private(d / "t.txt", "transcript")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.read_text() == "transcript"
    p.chmod(0o644)
    write_private(p, "again")  # an existing world-readable file becomes private on rewrite
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and [x.name for x in d.iterdir()] == ["t.txt"]
