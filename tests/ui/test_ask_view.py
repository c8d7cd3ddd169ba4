"""The Ask page shows the one ask operation's answer, its sources as links to the meeting moment,
and the closest lines when the model is unsure."""
from __future__ import annotations

from app.meetings.ask import UNSURE
from app.ui.views.ask import answer_html

LINE = {"segment_id": 12, "meeting_id": 3, "segment_index": 4, "meeting_title": "Acme pricing call",
        "meeting_date": "2026-10-06", "speaker": "Sam", "start": 20.0, "hit": True, "why": ["bm25"],
        "text": "Our budget for the pilot is about fifty thousand dollars."}


def test_sources_link_to_the_meeting_line():
    cite = {**{k: LINE[k] for k in ("segment_id", "meeting_id", "segment_index", "meeting_title", "meeting_date",
                                     "speaker", "start")}, "quote": LINE["text"]}
    h = answer_html({"text": "About fifty thousand dollars (from “Acme pricing call”, 2026-10-06)", "known": True,
                     "citations": [cite], "retrieved": [LINE]})
    assert "Sources" in h and "href='src:3:12'" in h and "fifty thousand" in h and "2026-10-06" in h


def test_unsure_shows_the_closest_lines():
    h = answer_html({"text": UNSURE, "known": False, "unsure": True, "citations": [],
                     "retrieved": [LINE, {**LINE, "segment_id": 13, "hit": False, "text": "context only"}]})
    assert "Closest lines" in h and "href='src:3:12'" in h and "context only" not in h
