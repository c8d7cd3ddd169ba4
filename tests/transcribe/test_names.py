"""Name-aware recognition: the meeting's context (attendees, the user, companies) biases
faster-whisper toward the names it expects."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import soundfile as sf

from app.transcribe.context import hotwords
from app.transcribe.file import transcribe_file

from .speech import SR, normalize, say


def test_hotwords_list_is_deduplicated_and_bounded():
    assert hotwords([]) is None and hotwords([""], [" "]) is None
    got = hotwords(["Kofi Okafor", "kofi okafor", "tove.lind@acme.io", "  Dana   Kim "], ["Sam Reed"], ["Acme Freight", "X"])
    assert got == "Kofi Okafor, Tove Lind, Dana Kim, Sam Reed, Acme Freight"
    many = hotwords([f"Person{i} Surname{i}" for i in range(100)])
    assert len(many) <= 240 and many.count(",") < 24 and many.startswith("Person0 Surname0, Person1")


def test_a_misheard_name_is_right_with_the_context(tmp_path, session_paths, tiny, settings):
    """tiny.en hears espeak's "Kofi" as "Coffee" and "Tove" as "Tom" (bench/names_bench.py); with the
    invitees' names as hotwords it writes them right, and the rest of the line is unchanged."""
    text = "Hi Kofi, thanks for joining. Tove, can you send the report on Friday?"
    path = tmp_path / "names.wav"
    audio = say(text, "en-us", 160)
    sf.write(path, np.concatenate([np.zeros(SR // 2, np.float32), audio, np.zeros(SR // 2, np.float32)]), SR)
    plain = normalize(transcribe_file(path, session_paths, settings, model=tiny).text)
    ctx = hotwords(["Kofi Okafor", "Tove Lind", "Marta Rossi"], ["Sam Reed"], ["Northwind Ledger"])
    named = normalize(transcribe_file(path, session_paths, settings, model=tiny, hotwords=ctx).text)
    assert "kofi" not in plain and "tove" not in plain, plain  # the case this test is about
    print("without:", " ".join(plain), "\nwith:   ", " ".join(named))
    assert "kofi" in named and "tove" in named, named
    assert {"thanks", "joining", "send", "friday"} <= set(named), named


def test_pipeline_context_names_come_from_the_event_and_the_crm(kith):
    from app.calendar.model import Attendee, CalendarEvent
    from app.core.domain import Company, Contact
    from app.meetings.pipeline import ProcessOptions, context_names

    kith.settings.crm.my_name, kith.settings.crm.my_email = "Sam Reed", "sam@kith.test"
    store = kith.store()
    acme = store.companies.add(Company(name="Acme Freight"))
    store.contacts.add(Contact(name="Kofi Okafor", emails=["kofi@acme.io"], company_id=acme.id))
    store.contacts.add(Contact(name="Ilse Berg", emails=["ilse@berg.se"]))
    t0 = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    event = CalendarEvent("e1", "Sync", t0, t0 + timedelta(hours=1), attendees=[
        Attendee("sam@kith.test", "Sam Reed", "accepted", is_self=True), Attendee("kofi@acme.io", "Kofi Okafor", "accepted"),
        Attendee("tove@lind.io", "Tove Lind", "accepted"), Attendee("no@show.io", "Bo Declined", "declined")])
    got = context_names(kith, store, event, ProcessOptions(with_emails=["ilse@berg.se"]))
    assert got == "Kofi Okafor, Tove Lind, Ilse Berg, Sam Reed, Acme Freight"
    # no one expected but the user: no prompt at all (it costs name-free lines words)
    assert context_names(kith, store, None, ProcessOptions()) is None
    kith.settings.crm.my_name = "You"  # the placeholder is never a name to expect
    assert context_names(kith, store, event, ProcessOptions()) == "Kofi Okafor, Tove Lind, Acme Freight"
