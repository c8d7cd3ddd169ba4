"""Import files for people who prefer their CRM's own import tool to an API connection.

* HubSpot: column headers are HubSpot's default property labels, so the import tool maps
  them on its own. Notes must be imported together with the record they belong to, so each
  note row carries the attendee's email (and company domain).
* Salesforce Data Loader: column headers are API field names, with a ``.sdl`` mapping file
  per object. Lookups (AccountId, WhoId) need Salesforce ids, which a file cannot know:
  the helper columns (AccountName, ContactEmail) say what to look up — or use
  `kith export salesforce`, which resolves them.
"""
from __future__ import annotations

from pathlib import Path

from app.export.base import ExportData, action_body, iso_utc, split_name
from app.export.files import csv_text, write_text
from app.export.html import md_to_text


def write_hubspot_csv(data: ExportData, out: Path) -> list[Path]:
    contacts = []
    for c in data.contacts:
        first, last = split_name(c.name)
        co = data.company(c.company_id)
        contacts.append([first, last, c.email or "", c.phones[0] if c.phones else "", c.title,
                         co.name if co else "", (co.domain or "") if co else ""])
    companies = [[co.name, co.domain or ""] for co in data.companies]
    notes, tasks = [], []
    for b in data.meetings:
        if b.minutes:
            first = next((c for c in b.participants if c.email), None)
            co = data.company(first.company_id) if first else None
            body = f"{b.meeting.title}\n\n{md_to_text(b.minutes)}"
            notes.append([iso_utc(b.meeting.started_at), body, first.email if first else "",
                          (co.domain or "") if co else ""])
        for a in b.actions:
            owner = data.contact(a.owner_contact_id)
            tasks.append([a.text, action_body(a, b, data), a.due_date.isoformat() if a.due_date else "",
                          "Completed" if a.status == "done" else "Not started", "None" if a.status == "done" else "Medium",
                          "To-do", (owner.email or "") if owner else ""])
    return [
        write_text(out / "contacts.csv", csv_text(
            ["First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name", "Company Domain Name"],
            contacts)),
        write_text(out / "companies.csv", csv_text(["Company name", "Company Domain Name"], companies)),
        write_text(out / "notes.csv", csv_text(["Activity date", "Note body", "Email", "Company Domain Name"], notes)),
        write_text(out / "tasks.csv", csv_text(
            ["Task Title", "Notes", "Due Date", "Task Status", "Priority", "Task Type", "Email"], tasks)),
    ]


SF_FILES = {
    "Account": ["Name", "Website"],
    "Contact": ["FirstName", "LastName", "Email", "Phone", "Title"],
    "Task": ["Subject", "Description", "ActivityDate", "Status", "Priority"],
}
SF_HELPERS = {"Account": [], "Contact": ["AccountName"], "Task": ["ContactEmail", "AccountName"]}


def write_salesforce_csv(data: ExportData, out: Path) -> list[Path]:
    accounts = [[co.name, co.domain or ""] for co in data.companies]
    contacts = []
    for c in data.contacts:
        first, last = split_name(c.name)
        co = data.company(c.company_id)
        contacts.append([first, last or c.name, c.email or "", c.phones[0] if c.phones else "", c.title,
                         co.name if co else ""])
    tasks = []
    for b in data.meetings:
        for a in b.actions:
            owner = data.contact(a.owner_contact_id)
            co = data.company(owner.company_id) if owner else None
            tasks.append([a.text[:255], action_body(a, b, data), a.due_date.isoformat() if a.due_date else "",
                          "Completed" if a.status == "done" else "Not Started", "Normal",
                          (owner.email or "") if owner else "", co.name if co else ""])
        if b.minutes:  # meeting notes as completed tasks (Data Loader cannot create ContentNotes from CSV)
            first = next((c for c in b.participants if c.email), None)
            co = data.company(first.company_id) if first else None
            tasks.append([f"Meeting notes: {b.meeting.title}"[:255], md_to_text(b.minutes)[:32000],
                          b.meeting.started_at.date().isoformat(), "Completed", "Normal",
                          first.email if first else "", co.name if co else ""])
    paths = []
    for obj, rows in (("Account", accounts), ("Contact", contacts), ("Task", tasks)):
        headers = SF_FILES[obj] + SF_HELPERS[obj]
        paths.append(write_text(out / f"{obj}.csv", csv_text(headers, rows)))
        mapping = "# Data Loader mapping: CSV column=Salesforce field\n" + "".join(f"{h}={h}\n" for h in SF_FILES[obj])
        paths.append(write_text(out / f"{obj}.sdl", mapping))
    return paths
