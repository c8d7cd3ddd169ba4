"""What every exporter shares: the data read from the store, the dry-run plan, the report,
retries with backoff, and the audit record.

An exporter (HubSpot, Salesforce) is two steps:

* ``plan(data) -> ExportPlan`` — purely local (no socket): for each record, whether it will be
  created, updated or skipped, and exactly the fields that would be sent;
* ``run(plan, confirm) -> ExportReport`` — sends the plan, records each remote id in
  ``store.exports`` as soon as the remote side has it (so a re-run after a partial failure
  finishes the rest and never duplicates), and writes one audit entry (ids and counts only).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

from app.core.domain import ActionItem, AuditEntry, Company, Contact, Meeting, Note, Segment
from app.core.errors import Cancelled, KithError

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store

Op = Literal["create", "update", "skip"]
ACCEPTED_ACTION_STATUSES = ("open", "done")


# -- what is read from the store ------------------------------------------------------------
@dataclass
class MeetingBundle:
    meeting: Meeting
    participants: list[Contact] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    full_transcript: bool = False  # segments hold the whole transcript, not only the evidence

    @property
    def minutes(self) -> str:
        """The AI minutes (and the user's own notes after them) as one Markdown text."""
        from app.store.meetings import Notes

        parts = [n.body.strip() for n in self.notes if Notes.is_minutes(n) and n.body.strip()]
        parts += [n.body.strip() for n in self.notes if not Notes.is_minutes(n) and n.body.strip()]
        return "\n\n".join(parts)


@dataclass
class ExportData:
    """Everything an export may touch, read once from the store."""

    contacts: list[Contact] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    meetings: list[MeetingBundle] = field(default_factory=list)

    def contact(self, contact_id: int | None) -> Contact | None:
        return next((c for c in self.contacts if c.id == contact_id), None) if contact_id else None

    def company(self, company_id: int | None) -> Company | None:
        return next((c for c in self.companies if c.id == company_id), None) if company_id else None

    @property
    def actions(self) -> list[ActionItem]:
        return [a for b in self.meetings for a in b.actions]


def _as_utc(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def gather(store: "Store", meeting_id: int | None = None, since: date | None = None,
           with_segments: bool = False, accepted_only: bool = True) -> ExportData:
    """Read what an export needs. ``meeting_id``: that meeting, its people and their companies;
    ``since``: meetings that started on/after that day and theirs; neither: everything.
    Only accepted action items (open/done) are included unless ``accepted_only`` is False."""
    if meeting_id is not None:
        meetings = [store.meetings.get(meeting_id)]  # NotFound if missing
    else:
        meetings = store.meetings.list(limit=1_000_000)
        if since is not None:
            start = datetime.combine(since, datetime.min.time(), tzinfo=timezone.utc)
            meetings = [m for m in meetings if _as_utc(m.started_at) >= start]
    meetings.sort(key=lambda m: (_as_utc(m.started_at), m.id or 0))
    statuses = list(ACCEPTED_ACTION_STATUSES) if accepted_only else None
    bundles = []
    for m in meetings:
        bundles.append(MeetingBundle(
            meeting=m,
            participants=store.meetings.participants(m.id),
            notes=store.notes.for_meeting(m.id),
            actions=store.actions.list(status=statuses, meeting_id=m.id),
            segments=[],
        ))
        b = bundles[-1]
        if with_segments:
            b.segments, b.full_transcript = store.segments.for_meeting(m.id), True
        else:  # only the quoted evidence behind the action items
            ids = sorted({i for a in b.actions for i in a.evidence})
            b.segments = store.segments.get_many(ids) if ids else []
    scoped = meeting_id is not None or since is not None
    if scoped:
        by_id: dict[int, Contact] = {}
        for b in bundles:
            for c in b.participants:
                by_id.setdefault(c.id, c)
            for a in b.actions:
                if a.owner_contact_id and a.owner_contact_id not in by_id:
                    by_id[a.owner_contact_id] = store.contacts.get(a.owner_contact_id)
        contacts = sorted(by_id.values(), key=lambda c: c.id)
        company_ids = sorted({c.company_id for c in contacts if c.company_id})
        companies = [store.companies.get(i) for i in company_ids]
    else:
        contacts = sorted(store.contacts.list(), key=lambda c: c.id)
        companies = sorted(store.companies.list(), key=lambda c: c.id)
    return ExportData(contacts=contacts, companies=companies, meetings=bundles)


# -- the plan (dry run) --------------------------------------------------------------------
@dataclass
class PlannedOp:
    entity: str              # local kind: company | contact | meeting | action
    local_id: int
    op: Op
    remote_type: str         # the remote object: contacts, Contact, notes, ContentNote, …
    fields: dict[str, Any]
    label: str = ""          # what the user sees in the plan (name, title)
    remote_id: str | None = None
    links: list[tuple[str, int]] = field(default_factory=list)  # (entity, local_id) to associate with
    reason: str = ""

    def fingerprint(self, link_ids: dict[str, str | None] | None = None) -> str:
        """Hash of what is sent: the fields and the remote ids the record is associated with
        (so a record re-sends once a linked record it missed finally exists remotely)."""
        blob = json.dumps({"f": self.fields, "l": sorted(self.links), "r": link_ids or {}}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass
class ExportPlan:
    target: str
    ops: list[PlannedOp] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.ops:
            out.setdefault(o.entity, {"create": 0, "update": 0, "skip": 0})[o.op] += 1
        return out

    @property
    def to_send(self) -> list[PlannedOp]:
        return [o for o in self.ops if o.op != "skip"]

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "counts": self.counts(),
            "ops": [{"entity": o.entity, "local_id": o.local_id, "op": o.op, "remote_type": o.remote_type,
                     "remote_id": o.remote_id, "label": o.label, "fields": o.fields,
                     "links": [list(x) for x in o.links], "reason": o.reason} for o in self.ops],
        }


# -- the report ----------------------------------------------------------------------------
@dataclass
class RecordResult:
    entity: str
    local_id: int
    status: Literal["created", "updated", "matched", "skipped", "failed", "not_attempted"]
    remote_id: str | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("created", "updated", "matched", "skipped")


@dataclass
class ExportReport:
    target: str
    results: list[RecordResult] = field(default_factory=list)
    stopped: str = ""  # why the run stopped early (rate limit exhausted, auth), if it did

    @property
    def sent(self) -> list[RecordResult]:
        return [r for r in self.results if r.status in ("created", "updated", "matched")]

    @property
    def failed(self) -> list[RecordResult]:
        return [r for r in self.results if r.status in ("failed", "not_attempted")]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        """Ids, statuses and error kinds only — never field values (this goes to the audit log)."""
        return {
            "target": self.target,
            "counts": self.counts(),
            "stopped": self.stopped,
            "records": [{"entity": r.entity, "local_id": r.local_id, "status": r.status,
                         "remote_id": r.remote_id, **({"error": r.error} if r.error else {})}
                        for r in self.results],
        }


class Exporter(Protocol):
    target: str

    def plan(self, data: ExportData) -> ExportPlan: ...

    def run(self, plan: ExportPlan, confirm: "Confirm") -> ExportReport: ...


Confirm = bool | Callable[[ExportPlan], bool]


def check_confirmed(plan: ExportPlan, confirm: Confirm) -> None:
    ok = confirm(plan) if callable(confirm) else bool(confirm)
    if not ok:
        raise Cancelled("export cancelled — nothing was sent")


# -- failures ------------------------------------------------------------------------------
class ExportAuthError(KithError):
    """The remote side rejected the credentials: stop the whole run."""


class RateLimited(Exception):
    def __init__(self, retry_after: float | None = None, detail: str = ""):
        super().__init__(detail or "rate limited")
        self.retry_after = retry_after


class RecordError(Exception):
    """One record was refused (validation, not found…): report it, go on with the others."""

    def __init__(self, kind: str, status: int | None = None):
        super().__init__(kind)
        self.kind = kind
        self.status = status

    def __str__(self) -> str:
        return f"{self.kind} (HTTP {self.status})" if self.status else self.kind


@dataclass
class Backoff:
    """Retry policy for rate limits: ``base * 2**attempt`` seconds (capped), or the server's
    Retry-After when it sends one (also capped). Tests pass tiny values and a recording sleep."""

    retries: int = 5
    base: float = 1.0
    cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    waits: list[float] = field(default_factory=list)

    def call(self, fn: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return fn()
            except RateLimited as e:
                if attempt >= self.retries:
                    raise
                wait = e.retry_after if e.retry_after is not None else self.base * (2 ** attempt)
                wait = max(0.0, min(wait, self.cap))
                self.waits.append(wait)
                self.sleep(wait)
                attempt += 1


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


# -- bookkeeping in the store --------------------------------------------------------------
FP_PREFIX = "fp:"  # exports rows holding a fingerprint of what was last sent (entity "fp:contact")


def mapped(store: "Store", entity: str, local_id: int, target: str) -> tuple[str | None, str | None]:
    """(remote id, fingerprint of what was last sent) for a record, or (None, None)."""
    rid = store.exports.get(entity, local_id, target)
    fp = store.exports.get(FP_PREFIX + entity, local_id, target) if rid else None
    return rid, fp


def link_ids(store: "Store", op: PlannedOp, target: str) -> dict[str, str | None]:
    return {f"{e}:{i}": store.exports.get(e, i, target) for e, i in op.links}


def remember(store: "Store", op: PlannedOp, target: str, remote_id: str) -> None:
    with store.transaction():
        store.exports.set(op.entity, op.local_id, target, str(remote_id))
        store.exports.set(FP_PREFIX + op.entity, op.local_id, target, op.fingerprint(link_ids(store, op, target)))


def decide(store: "Store", op: PlannedOp, target: str) -> PlannedOp:
    """Set op/remote_id from what was exported before: never exported → create; exported and
    changed since (or linked to a record not sent yet) → update; exported and unchanged → skip."""
    rid, fp = mapped(store, op.entity, op.local_id, target)
    if op.op == "skip":
        return op
    if rid is None:
        op.op = "create"
    elif fp == op.fingerprint(ids := link_ids(store, op, target)) and all(ids.values()):
        op.op, op.remote_id, op.reason = "skip", rid, "unchanged since the last export"
    else:
        op.op, op.remote_id = "update", rid
    return op


def audit(store: "Store", report: ExportReport) -> None:
    store.audit.record(AuditEntry(actor="user", action=f"export:{report.target}", output=report.to_dict()))


# -- small text helpers shared by the targets -----------------------------------------------
def split_name(name: str) -> tuple[str, str]:
    parts = name.strip().split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


def iso_utc(d: datetime | date) -> str:
    """ISO 8601 in UTC with milliseconds. A bare date becomes 12:00 UTC, which falls on the same
    calendar day for every CRM user from UTC-11 to UTC+11 (midnight would show the day before
    in the Americas)."""
    if not isinstance(d, datetime):
        d = datetime.combine(d, datetime.min.time().replace(hour=12), tzinfo=timezone.utc)
    return _as_utc(d).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def action_body(a: ActionItem, bundle: MeetingBundle | None, data: ExportData) -> str:
    lines = [a.text, ""]
    owner = data.contact(a.owner_contact_id)
    lines.append(f"Owner: {owner.name if owner else a.owner_text}")
    if a.due_date:
        lines.append(f"Due: {a.due_date.isoformat()}")
    if bundle:
        lines.append(f"From meeting: {bundle.meeting.title} ({bundle.meeting.started_at.date().isoformat()})")
        quotes = [s for s in bundle.segments if s.id in set(a.evidence)]
        for s in quotes:
            lines.append(f'Source [S{s.index}] {s.speaker or "?"}: "{s.text.strip()}"')
    return "\n".join(lines)


def run_ops(store: "Store", plan: ExportPlan, send: Callable[[PlannedOp], tuple[str, str]],
            stop_errors: tuple[type[BaseException], ...] = ()) -> ExportReport:
    """Send each planned op in order (companies, contacts, notes, tasks). A refused record is
    reported and the run goes on; rate limits still exceeded after the retries, rejected
    credentials and an unreachable server stop the run (the rest is reported "not_attempted").
    Every success is remembered at once, so running the same export again finishes the rest.
    The audit entry is written either way; a stopping error carries the report (``e.report``)."""
    report = ExportReport(plan.target)
    ops = list(plan.ops)
    for i, op in enumerate(ops):
        if op.op == "skip":
            report.results.append(RecordResult(op.entity, op.local_id, "skipped", op.remote_id, op.reason))
            continue
        try:
            status, rid = send(op)
        except RecordError as e:
            report.results.append(RecordResult(op.entity, op.local_id, "failed", None, str(e)))
            continue
        except (RateLimited, ExportAuthError, *stop_errors) as e:
            kind = ("still rate limited or busy after retries" if isinstance(e, RateLimited)
                    else type(e).__name__)
            report.results.append(RecordResult(op.entity, op.local_id, "failed", None, kind))
            report.results += [RecordResult(o.entity, o.local_id, "not_attempted") for o in ops[i + 1:]
                               if o.op != "skip"]
            report.stopped = kind
            audit(store, report)
            if isinstance(e, RateLimited):
                err = KithError(f"{plan.target} kept refusing requests (rate limit or server busy): {len(report.sent)} records "
                                f"sent, {len(report.failed)} not sent",
                                hint="wait a minute and run the same export again — it continues where it stopped")
                err.report = report  # type: ignore[attr-defined]
                raise err from e
            e.report = report  # type: ignore[attr-defined]
            raise
        remember(store, op, plan.target, rid)
        report.results.append(RecordResult(op.entity, op.local_id, status, rid))
    audit(store, report)
    return report
