"""The Markdown format round-trips any action item; minutes → HTML never lets markup through."""
from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.domain import ActionItem, Contact, Meeting, Segment
from app.export.base import ExportData, MeetingBundle
from app.export.html import md_to_html, md_to_text
from app.export.markdown import _one_line, parse_meeting_markdown, render_meeting, wiki

line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=60).filter(
    lambda s: s.strip())
item = st.tuples(line, st.one_of(st.none(), line), st.sampled_from(["proposed", "open", "done", "dismissed"]),
                 st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 1, 1))), line, line)


@settings(max_examples=150, deadline=None)
@given(st.lists(item, min_size=1, max_size=5), line)
def test_any_action_item_round_trips(items, title):
    meeting = Meeting(title=title, started_at=datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc), id=7)
    contacts, actions, segments = [], [], []
    for i, (text, owner_name, status, due, speaker, quote) in enumerate(items, start=1):
        seg = Segment(start=i, end=i + 1, text=quote, speaker=speaker, id=100 + i, meeting_id=7, index=i)
        segments.append(seg)
        owner = None
        if owner_name is not None:
            owner = Contact(name=owner_name, id=i)
            contacts.append(owner)
        actions.append(ActionItem(meeting_id=7, text=text, owner_text="You", owner_contact_id=owner.id if owner else None,
                                  status=status, due_date=due, evidence=[seg.id], id=i))
    data = ExportData(contacts=contacts, meetings=[MeetingBundle(meeting, contacts, [], actions, segments, True)])
    parsed = parse_meeting_markdown(render_meeting(data.meetings[0], data))
    assert parsed.front["title"] == title and parsed.front["kith_meeting_id"] == 7
    assert len(parsed.actions) == len(actions)
    for pa, a, seg in zip(parsed.actions, actions, segments):
        owner = data.contact(a.owner_contact_id)
        assert pa.local_id == a.id and pa.text == _one_line(a.text)
        assert pa.owner == (wiki(owner.name)[2:-2] if owner else "You")
        assert (pa.status, pa.due) == (a.status, a.due_date)
        assert pa.quotes == [(seg.index, _one_line(seg.speaker), _one_line(seg.text))]


def test_minutes_html_escapes_and_keeps_structure():
    md = ("# Title\n\nA **bold** *move* with `code` & <b>tags</b>.\n\n- [x] done thing\n- [ ] open [[Ada Lovelace]]\n"
          "1. first\n2. second\n\n> quoted\n\n[site](https://example.com) [evil](javascript:alert(1))")
    out = md_to_html(md)
    assert "<h2>Title</h2>" in out
    assert "<strong>bold</strong>" in out and "<em>move</em>" in out and "<code>code</code>" in out
    assert "&amp; &lt;b&gt;tags&lt;/b&gt;" in out and "<b>" not in out
    assert "<ul><li>☑ done thing</li><li>☐ open Ada Lovelace</li></ul><ol><li>first</li><li>second</li></ol>" in out
    assert "<blockquote>quoted</blockquote>" in out
    assert '<a href="https://example.com">site</a>' in out and "javascript:" not in out.split("evil")[0][-30:]
    assert 'href="javascript' not in out


@given(st.text(max_size=200))
def test_no_raw_angle_brackets_ever_reach_the_html(text):
    out = md_to_html(text)
    stripped = out
    for tag in ("p", "br", "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "blockquote"):
        stripped = stripped.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    stripped = __import__("re").sub(r'<a href="https?://[^"<>\s]*">|</a>', "", stripped)
    assert "<" not in stripped and ">" not in stripped


def test_plain_text_for_classic_notes():
    assert md_to_text("## Decisions\n\n- **Go** with [[Ada Lovelace|Ada]]") == "DECISIONS\n\n- Go with Ada"
