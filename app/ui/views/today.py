"""Today: the day's and tomorrow's calendar events with their prep briefs, a big Start
recording (linked to the current event), open action items due soon, recent meetings."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from app.ui.context import UiContext
from app.ui.qt import QFrame, QLabel, QPushButton, QScrollArea, QTextBrowser, QVBoxLayout, QWidget
from app.ui.widgets import EmptyState, PageHeader, button, clear_layout, connect_clicked, hbox, heading, muted, vbox
from app.ops.changes import Kind


@dataclass
class TodayData:
    events: list = field(default_factory=list)  # (CalendarEvent, brief markdown | None)
    actions: list = field(default_factory=list)  # (ActionItem, meeting title)
    recent: list = field(default_factory=list)  # Meeting
    calendars: int = 0


def load_today(store, my_name: str = "You", now: datetime | None = None, days: int = 2) -> TodayData:
    """Runs on the DB thread."""
    from app.calendar.repo import CalendarRepo

    from app.brief.render import to_markdown
    from app.brief.service import BriefOptions, todays_briefs

    now = now or datetime.now().astimezone()
    data = TodayData()

    data.calendars = len(CalendarRepo(store).list_sources())
    # the same briefs as `kith today`: stored ones reused while their facts are unchanged
    for ev, brief in todays_briefs(store, BriefOptions(my_name=my_name), now=now, days=days):
        data.events.append((ev, to_markdown(brief) if brief is not None else None))
    soon = date.today() + timedelta(days=7)
    titles: dict[int, str] = {}
    for a in store.actions.list(status="open"):
        if a.due_date is None or a.due_date <= soon:
            if a.meeting_id and a.meeting_id not in titles:
                titles[a.meeting_id] = store.meetings.get(a.meeting_id).title
            data.actions.append((a, titles.get(a.meeting_id, "")))
    data.actions.sort(key=lambda x: (x[0].due_date is None, x[0].due_date or date.max))
    data.recent = store.meetings.list(limit=4)
    return data


_REF = re.compile(r"\[M(\d+)\]")


def linked_refs(md: str) -> str:
    """A brief's ``[M12]`` citations as links that open meeting 12 (``meeting:12``)."""
    return _REF.sub(lambda m: f"[\\[M{m.group(1)}\\]](meeting:{m.group(1)})", md)


def card_markdown(md: str) -> str:
    """The brief inside its event's card: the card already shows the title, so the brief's own
    "# Prep: …" goes and its sections are small headings (not as big as the page title)."""
    lines = md.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return linked_refs("\n".join("#### " + ln[3:] if ln.startswith("## ") else ln for ln in lines))


def card() -> QFrame:
    f = QFrame()
    f.setProperty("card", True)
    return f


class EventCard(QFrame):
    def __init__(self, view: "TodayView", ev, brief_md: str | None):
        super().__init__()
        self.setProperty("card", True)
        self.cal_event = ev
        start = ev.local_start()
        when = "All day" if ev.all_day else f"{start:%a %H:%M}–{ev.local_end():%H:%M}"
        who = ", ".join(a.label for a in ev.others()[:4])
        title = heading(ev.title or "(no title)", 3)
        meta = muted(f"{when}" + (f" · {who}" if who else ""))
        self.brief = QTextBrowser()
        self.brief.setOpenLinks(False)
        self.brief.anchorClicked.connect(lambda url: view.open_ref(url.toString()))
        self.brief.setMarkdown(card_markdown(brief_md) if brief_md else "_No brief yet: nothing is known about these people._")
        self.brief.setMinimumHeight(180)
        self.brief.hide()
        self.brief.setAccessibleName(f"Brief for {ev.title}")
        self.toggle = button("Show brief", self._toggle, name=f"Show brief for {ev.title}")
        rec = button("Record this", lambda: view.start_recording(ev), name=f"Record {ev.title}")
        top = hbox(self.toggle, rec)
        top.insertLayout(0, vbox(title, meta, spacing=2), 1)
        self.setLayout(vbox(top, self.brief, margins=(12, 10, 12, 10)))

    def _toggle(self) -> None:
        self.brief.setVisible(not self.brief.isVisible())
        self.toggle.setText("Hide brief" if self.brief.isVisible() else "Show brief")


class TodayView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.data: TodayData | None = None
        self.header = PageHeader("Today", "")
        self.record = QPushButton("●  Start recording")
        self.record.setProperty("primary", True)
        self.record.setProperty("big", True)
        self.record.setAccessibleName("Start recording")
        self.record.setToolTip("Start a live meeting now (Ctrl+R)")
        self.record.clicked.connect(lambda: self.start_recording(self.current_event()))
        self.header.add_action(self.record)
        body = QWidget()
        self.body = QVBoxLayout(body)
        self.body.setContentsMargins(0, 0, 8, 0)
        self.body.setSpacing(10)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.setLayout(vbox(self.header, scroll, spacing=12))
        ctx.on_change((Kind.MEETINGS, Kind.ACTIONS, Kind.CALENDAR), lambda _v: self.refresh())

    def refresh(self) -> None:
        now = datetime.now().astimezone()
        self.header.set_subtitle(f"{now:%A %d %B %Y}")
        name = self.ctx.settings.crm.my_name
        self.ctx.tasks.db(lambda s: load_today(s, name), self._show, name="today")

    def current_event(self):
        """The event happening now or starting within 10 minutes (the recording links to it)."""
        if not self.data:
            return None
        now = datetime.now(timezone.utc)
        for ev, _md in self.data.events:
            if not ev.all_day and ev.start - timedelta(minutes=10) <= now <= ev.end:
                return ev
        return None

    def open_ref(self, url: str) -> None:
        """A clicked ``meeting:N`` link of a brief opens that meeting."""
        kind, _, mid = url.partition(":")
        if kind == "meeting" and mid.isdigit() and self.ctx.window is not None:
            self.ctx.window.open_meeting(int(mid))

    def start_recording(self, ev=None) -> None:
        live = self.ctx.window.go("live") if self.ctx.window else None
        if live is not None and not live.session.running:
            live.start(event=ev)

    def _show(self, data: TodayData) -> None:
        self.data = data
        clear_layout(self.body)
        self.body.addWidget(heading("Calendar", 2))
        if data.events:
            for ev, md in data.events:
                self.body.addWidget(EventCard(self, ev, md))
            nxt = next((e for e, _ in data.events if e.start >= datetime.now(timezone.utc)), None)
            if self.ctx.window and nxt:
                self.ctx.window.set_next_meeting(f"Next: {nxt.title} at {nxt.local_start():%H:%M}")
        elif data.calendars:
            self.body.addWidget(EmptyState("A clear calendar", "Nothing scheduled today or tomorrow. Start recording any time."))
        else:
            e = EmptyState("No calendar connected", "Add an .ics file or connect Google Calendar to see your meetings and their prep briefs here.",
                           "Connect a calendar")
            e.action.connect(lambda: self.ctx.window.go("settings").show_tab("Calendars"))
            self.body.addWidget(e)

        self.body.addWidget(heading("Due soon", 2))
        if data.actions:
            box = card()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(12, 8, 12, 8)
            for a, title in data.actions[:8]:
                due = a.due_date.strftime("%d %b") if a.due_date else "no date"
                overdue = a.due_date is not None and a.due_date < date.today()
                lab = QLabel(f"<b>{_esc(a.owner_text)}</b>: {_esc(a.text)} "
                             f"<span style='color:{'#c83b3b' if overdue else 'gray'}'>· {due}</span>"
                             + (f" <span style='color:gray'>· {_esc(title)}</span>" if title else ""))
                lab.setWordWrap(True)
                done = button("Done", name=f"Mark done: {a.text}")
                connect_clicked(done, lambda i=a.id, b=done: (b.setEnabled(False), self._done(i)))  # acts once
                row = hbox(done)
                row.insertWidget(0, lab, 1)
                lay.addLayout(row)
            self.body.addWidget(box)
        else:
            self.body.addWidget(muted("No open action items are due this week."))

        self.body.addWidget(heading("Recent meetings", 2))
        if data.recent:
            for m in data.recent:
                b = button(f"{m.title}  ·  {m.started_at.astimezone():%d %b %H:%M}",
                           lambda _=False, i=m.id: self.ctx.window.open_meeting(i), name=f"Open meeting {m.title}")
                b.setFlat(True)
                b.setStyleSheet("text-align: left")
                self.body.addWidget(b)
        else:
            self.body.addWidget(muted("Your meetings will appear here once you record or import one."))
        self.body.addStretch(1)

    def _done(self, action_id: int) -> None:
        from app.ui.views.actions import set_statuses

        set_statuses(self.ctx, {action_id: "done"})


def _esc(s: str) -> str:
    import html

    return html.escape(s or "")
