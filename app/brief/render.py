"""Markdown for a :class:`Brief` (what `kith brief` prints and the UI can show as is)."""
from __future__ import annotations

from datetime import datetime

from app.brief.model import Brief, Point


def _cite(ref: str | None) -> str:
    return f" [{ref}]" if ref else ""


def _cites(refs: list[str]) -> str:
    return "".join(f" [{r}]" for r in refs)


def _when(b: Brief) -> str:
    try:
        d = datetime.fromisoformat(b.local_start)
    except ValueError:
        return b.start
    return d.strftime("%a %d %b %Y, %H:%M") + (f" ({b.tz})" if b.tz else "")


def _money(amount: float | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{amount:,.0f} {currency}".strip()


def to_markdown(b: Brief) -> str:
    out = [f"# Prep: {b.title}", "", _when(b) + (f" · {b.location}" if b.location else ""), ""]
    out += ["## Who is coming", ""]
    if not b.people:
        out.append("- Nobody else is on the invitation.")
    for p in b.people:
        role = ", ".join(x for x in (p.title, p.company) if x)
        head = f"- **{p.name}**" + (f" — {role}" if role else "") + (f" <{p.email}>" if p.email and p.email != p.name else "")
        if p.last_met:
            head += f". Last met {p.last_met}{_cite(p.last_ref)}; {p.how_known}."
        else:
            head += f". First meeting — {p.how_known}."
        out.append(head)
    out.append("")
    if b.no_history:
        out += ["_No history: Kith has no recorded meetings with these people yet._", ""]
    if b.meetings:
        out += ["## Last meetings", ""]
        for m in b.meetings:
            line = f"- {m.date} — {m.title}{_cite(m.ref)}"
            if m.summary:
                line += f": {m.summary}"
            out.append(line)
        out.append("")
    if b.you_promised or b.they_promised:
        out += ["## Open items", ""]
        if b.you_promised:
            out += ["**You promised**", ""]
            out += [f"- [ ] {i.text}" + (f" (due {i.due})" if i.due else "") + (" _(not yet confirmed)_" if i.status == "proposed" else "")
                    + _cite(i.ref) for i in b.you_promised]
            out.append("")
        if b.they_promised:
            out += ["**They promised**", ""]
            out += [f"- [ ] {i.owner}: {i.text}" + (f" (due {i.due})" if i.due else "")
                    + (" _(not yet confirmed)_" if i.status == "proposed" else "") + _cite(i.ref) for i in b.they_promised]
            out.append("")
    if b.deals:
        out += ["## Deal", ""]
        for d in b.deals:
            bits = [f"stage **{d.stage}**" if d.stage else "stage not set"]
            if d.amount is not None:
                bits.append(_money(d.amount, d.currency))
            if d.next_step:
                bits.append(f"next step: {d.next_step}")
            if d.close_date:
                bits.append(f"close {d.close_date}")
            out.append(f"- {d.company} — {d.title}: " + "; ".join(bits) + (_cite(d.ref) if d.ref else " (from your CRM)"))
        out.append("")
    if b.signals:
        out += ["## Latest signals", ""]
        out += [f"- {s.text}{_cite(s.ref)}" for s in b.signals]
        out.append("")

    def points(title: str, pts: list[Point], numbered: bool) -> None:
        if not pts:
            return
        out.extend([f"## {title}", ""])
        for n, p in enumerate(pts, 1):
            out.append((f"{n}. " if numbered else "- ") + p.text + _cites(p.refs))
        out.append("")

    src = "suggested by the local model" if b.agenda_source.startswith("llm") else "from what Kith knows, no model"
    points(f"Suggested agenda — {src}", b.agenda, True)
    points("Questions to ask", b.questions, False)
    if b.refs:
        out += ["---", "", "Sources:"]
        for r in sorted(b.refs.values(), key=lambda r: (r.date, r.meeting_id), reverse=True):
            out.append(f"- [{r.ref}] {r.title}, {r.date} — `kith minutes {r.meeting_id}`")
        out.append("")
    for n in b.notes:
        out.append(f"_{n}_")
    return "\n".join(out).rstrip() + "\n"
