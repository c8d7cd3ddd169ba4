from datetime import date

import pytest

from app.extract.textutil import content_words, find_due_phrase, resolve_due, support

WED = date(2026, 3, 4)  # a Wednesday


@pytest.mark.parametrize(
    "text, expected",
    [
        ("by Friday", date(2026, 3, 6)),
        ("my Friday", date(2026, 3, 6)),  # Whisper's "by" → "my"
        ("on Wednesday", date(2026, 3, 11)),  # same weekday = next week
        ("by next Tuesday", date(2026, 3, 10)),
        ("next Friday", date(2026, 3, 13)),
        ("by the end of the month", date(2026, 3, 31)),
        ("end of next month", date(2026, 4, 30)),
        ("end of the week", date(2026, 3, 6)),
        ("end of the quarter", date(2026, 3, 31)),
        ("tomorrow", date(2026, 3, 5)),
        ("today", WED),
        ("in two weeks", date(2026, 3, 18)),
        ("in 3 days", date(2026, 3, 7)),
        ("next week", date(2026, 3, 13)),
        ("March 20th", date(2026, 3, 20)),
        ("the 2nd of March", date(2027, 3, 2)),  # passed this year → next year
        ("2026-05-01", date(2026, 5, 1)),
        ("soon", None),
        ("", None),
    ],
)
def test_resolve_due(text, expected):
    assert resolve_due(text, WED) == expected


def test_find_due_phrase_in_a_sentence():
    assert find_due_phrase("I will send the pricing proposal by Friday.").lower() == "by friday"
    assert find_due_phrase("Tom will set up the pilot by the end of the month.") == "end of the month"
    assert find_due_phrase("Thanks everyone.") == ""


def test_support_counts_content_words():
    assert support("send the pricing proposal", "I will send the pricing proposal by Friday") == 1.0
    assert support("send pricing proposal", "Our main concern is security.") == 0.0
    assert 0 < support("share the security questionnaire and budget", "can you share the security form") < 1
    assert "proposal" in content_words("The proposals")or "proposal" in {w[:8] for w in content_words("The proposals")}
