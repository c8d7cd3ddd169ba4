"""Brief verbs: `kith today` (today's meetings with a one-line brief each) and `kith brief`
(the prep brief for one event). Both are offline; the local model is used only when asked."""
from __future__ import annotations

import sys
from datetime import datetime

from app.core.errors import KithError
from app.core.output import print_json


def cmd_today(kith, args) -> int:
    from app.brief.service import options_for, todays_briefs
    from app.calendar.repo import CalendarRepo

    store = kith.store()
    day = datetime.now().astimezone().date()
    pairs = todays_briefs(store, options_for(kith))
    items = [{"event_id": e.id, "title": e.title, "all_day": e.all_day,
              "start": e.start.isoformat(), "end": e.end.isoformat(),
              "local_start": None if e.all_day else e.local_start().isoformat(),
              "attendees": [a.label for a in e.others()], "brief": b.one_line() if b else "",
              "no_history": b.no_history if b else None} for e, b in pairs]
    if args.json:
        print_json({"date": day.isoformat(), "events": items})
        return 0
    if not items:
        print(f"No meetings on {day.isoformat()}." + ("" if CalendarRepo(store).list_sources() else
                                                      " (No calendars yet: see `kith calendar --help`.)"))
        return 0
    print(f"{day.strftime('%A %d %B %Y')}")
    for (e, _b), it in zip(pairs, items):
        when = "all day" if e.all_day else f"{e.start.astimezone():%H:%M}–{e.end.astimezone():%H:%M}"  # your clock
        print(f"  {when:<13} {e.title}  (#{e.id})")
        if it["brief"]:
            print(f"  {'':<13} {it['brief']}")
    print("Full brief: `kith brief EVENT_ID` (or `kith brief --next`).")
    return 0


def cmd_brief(kith, args) -> int:
    from app.brief.render import to_markdown
    from app.brief.service import brief_for_event, next_event, options_for
    from app.calendar.repo import CalendarRepo

    store = kith.store()
    if args.event_id is not None and args.next:
        raise KithError("give an EVENT_ID or --next, not both")
    if args.event_id is not None:
        event = CalendarRepo(store).get_event(args.event_id)
    else:
        event = next_event(store)
        if event is None:
            raise KithError("no upcoming meeting in your calendars (next 14 days)",
                            hint="run `kith calendar sync`, or give an EVENT_ID from `kith calendar list --events`")
    brief = brief_for_event(store, event, options_for(kith, with_llm=not args.no_llm), force=args.refresh)
    if args.json:
        print_json({"event_id": event.id, "markdown": to_markdown(brief), **brief.to_dict()})
    else:
        sys.stdout.write(to_markdown(brief))
    return 0


def register(sub) -> None:
    p = sub.add_parser("today", help="today's meetings with a one-line brief each")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_today)

    p = sub.add_parser("brief", help="prep brief for a calendar event (offline)")
    p.add_argument("event_id", nargs="?", type=int, metavar="EVENT_ID")
    p.add_argument("--next", action="store_true", help="the next meeting (default when no EVENT_ID)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-llm", action="store_true", help="agenda from rules, without the local model")
    p.add_argument("--refresh", action="store_true", help="rebuild even if nothing changed")
    p.set_defaults(func=cmd_brief)
