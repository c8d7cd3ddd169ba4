"""Plain-file exports — nothing leaves the machine: Markdown per meeting, CSV and JSON for
contacts/companies/actions, vCard 4.0, iCalendar VTODO, CRM import CSVs and the full archive.

Every writer takes the data read by :func:`app.export.base.gather` and an output directory,
and returns the paths it wrote. Files are written atomically (temp name, then rename) and are
readable by the user only: they hold personal data.
"""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from app.core.output import to_jsonable
from app.export.base import ExportData
from app.export.markdown import meeting_filename, render_meeting

FORMATS = ("markdown", "csv", "json", "vcard", "ics", "hubspot-csv", "salesforce-csv")


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def csv_text(headers: list[str], rows: Iterable[Iterable]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


# -- tables --------------------------------------------------------------------------------
def contact_rows(data: ExportData) -> tuple[list[str], list[list]]:
    headers = ["id", "name", "email", "emails", "phones", "title", "company_id", "company", "company_domain",
               "notes", "source", "created_at", "updated_at"]
    rows = []
    for c in data.contacts:
        co = data.company(c.company_id)
        rows.append([c.id, c.name, c.email or "", "; ".join(c.emails), "; ".join(c.phones), c.title, c.company_id,
                     co.name if co else "", (co.domain or "") if co else "", c.notes, c.source,
                     c.created_at.isoformat() if c.created_at else "", c.updated_at.isoformat() if c.updated_at else ""])
    return headers, rows


def company_rows(data: ExportData) -> tuple[list[str], list[list]]:
    headers = ["id", "name", "domain", "notes", "source"]
    return headers, [[c.id, c.name, c.domain or "", c.notes, c.source] for c in data.companies]


def action_rows(data: ExportData) -> tuple[list[str], list[list]]:
    headers = ["id", "meeting_id", "meeting", "text", "owner", "owner_contact_id", "owner_email", "due_date",
               "status", "evidence_segment_ids"]
    rows = []
    for b in data.meetings:
        for a in b.actions:
            owner = data.contact(a.owner_contact_id)
            rows.append([a.id, a.meeting_id, b.meeting.title, a.text, owner.name if owner else a.owner_text,
                         a.owner_contact_id, (owner.email or "") if owner else "",
                         a.due_date.isoformat() if a.due_date else "", a.status,
                         " ".join(str(i) for i in a.evidence)])
    return headers, rows


def write_markdown(data: ExportData, out: Path) -> list[Path]:
    return [write_text(out / meeting_filename(b), render_meeting(b, data)) for b in data.meetings]


def write_csv(data: ExportData, out: Path) -> list[Path]:
    return [write_text(out / f"{name}.csv", csv_text(*fn(data)))
            for name, fn in (("contacts", contact_rows), ("companies", company_rows), ("actions", action_rows))]


def write_json(data: ExportData, out: Path) -> list[Path]:
    paths = []
    for name, fn in (("contacts", contact_rows), ("companies", company_rows), ("actions", action_rows)):
        headers, rows = fn(data)
        records = [dict(zip(headers, r)) for r in rows]
        for r in records:  # lists stay lists in JSON
            for key in ("emails", "phones"):
                if key in r:
                    r[key] = [x for x in r[key].split("; ") if x]
            if "evidence_segment_ids" in r:
                r["evidence_segment_ids"] = [int(x) for x in r["evidence_segment_ids"].split()]
        paths.append(write_text(out / f"{name}.json", json.dumps(records, indent=2, ensure_ascii=False) + "\n"))
    return paths


# -- vCard 4.0 (RFC 6350) ------------------------------------------------------------------
def _vescape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def _fold(line: str) -> str:
    """Fold content lines at 75 octets without splitting a UTF-8 character (RFC 6350 §3.2)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(raw[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with a space
    return "\r\n ".join(parts)


def vcard_text(data: ExportData) -> str:
    from app.export.base import split_name

    cards = []
    for c in data.contacts:
        first, last = split_name(c.name)
        co = data.company(c.company_id)
        lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:urn:kith:contact:{c.id}", f"FN:{_vescape(c.name)}",
                 f"N:{_vescape(last)};{_vescape(first)};;;"]
        for i, e in enumerate(c.emails):
            lines.append(f"EMAIL;TYPE=work{';PREF=1' if i == 0 else ''}:{_vescape(e)}")
        for i, p in enumerate(c.phones):
            lines.append(f"TEL;VALUE=text{';PREF=1' if i == 0 else ''}:{_vescape(p)}")
        if c.title:
            lines.append(f"TITLE:{_vescape(c.title)}")
        if co:
            lines.append(f"ORG:{_vescape(co.name)}")
            if co.domain:
                lines.append(f"URL:https://{co.domain}")
        if c.notes:
            lines.append(f"NOTE:{_vescape(c.notes)}")
        if c.updated_at:
            lines.append("REV:" + c.updated_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
        lines.append("END:VCARD")
        cards.append("\r\n".join(_fold(x) for x in lines))
    return "\r\n".join(cards) + ("\r\n" if cards else "")


def write_vcard(data: ExportData, out: Path) -> list[Path]:
    return [write_text(out / "contacts.vcf", vcard_text(data))]


# -- iCalendar VTODO (RFC 5545) ------------------------------------------------------------
def ics_bytes(data: ExportData, now: datetime | None = None) -> bytes:
    from icalendar import Calendar, Todo

    now = now or datetime.now(timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//Kith//Action items//EN")
    cal.add("version", "2.0")
    for b in data.meetings:
        by_id = {s.id: s for s in b.segments}
        for a in b.actions:
            owner = data.contact(a.owner_contact_id)
            t = Todo()
            t.add("uid", f"kith-action-{a.id}@kith.local")
            t.add("dtstamp", now)
            t.add("summary", a.text)
            desc = [f"Owner: {owner.name if owner else a.owner_text}", f"Meeting: {b.meeting.title} "
                    f"({b.meeting.started_at.date().isoformat()})"]
            desc += [f'[S{s.index}] {s.speaker or "?"}: "{s.text.strip()}"' for i in a.evidence if (s := by_id.get(i))]
            t.add("description", "\n".join(desc))
            if a.due_date:
                t.add("due", a.due_date)
            t.add("status", {"done": "COMPLETED", "dismissed": "CANCELLED"}.get(a.status, "NEEDS-ACTION"))
            if a.status == "done":
                t.add("percent-complete", 100)
            if a.created_at:
                t.add("created", a.created_at)
            if owner and owner.email:
                t.add("attendee", f"mailto:{owner.email}", parameters={"CN": owner.name})
            t.add("categories", ["Kith", "Action item"])
            cal.add_component(t)
    return cal.to_ical()


def write_ics(data: ExportData, out: Path) -> list[Path]:
    path = out / "actions.ics"
    write_text(path, ics_bytes(data).decode("utf-8"))
    return [path]


def write_format(fmt: str, data: ExportData, out: Path) -> list[Path]:
    from app.export import crm_csv

    writers = {"markdown": write_markdown, "csv": write_csv, "json": write_json, "vcard": write_vcard,
               "ics": write_ics, "hubspot-csv": crm_csv.write_hubspot_csv,
               "salesforce-csv": crm_csv.write_salesforce_csv}
    out.mkdir(parents=True, exist_ok=True)
    return writers[fmt](data, out)


def write_archive(store, data: ExportData, out: Path, now: datetime | None = None) -> Path:
    """The user's data-portability copy: one zip with every format above plus a JSON dump of
    every table. Written to ``out/kith-export-YYYYmmdd-HHMMSS.zip`` (mode 0600)."""
    import tempfile
    import zipfile

    now = now or datetime.now(timezone.utc)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"kith-export-{now.strftime('%Y%m%d-%H%M%S')}.zip"
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as z:
        # render each format into a private scratch dir inside the output folder, then zip it
        with tempfile.TemporaryDirectory(dir=out, prefix=".kith-export-") as scratch:
            base = Path(scratch)
            for fmt, sub in (("markdown", "meetings"), ("csv", "csv"), ("json", "json"), ("vcard", "."),
                             ("ics", "."), ("hubspot-csv", "hubspot-import"), ("salesforce-csv", "salesforce-dataloader")):
                for p in write_format(fmt, data, base / sub):
                    z.write(p, arcname=str(p.relative_to(base)))
        from app.store.shim import dump_tables

        tables = dump_tables(store.conn)
        z.writestr("kith-data.json", json.dumps({"exported_at": now.isoformat(), "format": 1,
                                                 "tables": to_jsonable(tables)}, indent=1, ensure_ascii=False))
        z.writestr("README.txt", ARCHIVE_README)
    os.replace(tmp, path)
    return path


ARCHIVE_README = """Kith export — everything Kith stores about your meetings and contacts.

meetings/                one Markdown file per meeting (front matter, minutes, notes, action items, transcript)
csv/ json/               contacts, companies and action items
contacts.vcf             your contacts as vCard 4.0
actions.ics              action items as iCalendar to-dos
hubspot-import/          CSV files ready for HubSpot's import tool
salesforce-dataloader/   CSV files and mapping files for Salesforce Data Loader
kith-data.json           every table of the Kith database, row by row (recordings' audio is not included)

This archive is not encrypted: keep it somewhere safe.
"""
