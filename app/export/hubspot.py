"""HubSpot CRM export through the official ``hubspot-api-client`` (CRM v3 objects, v4 associations).

Companies are matched by domain (or name), contacts by email, so a first export links to
records a teammate already has instead of duplicating them; after that Kith remembers each
remote id (``store.exports``). A meeting becomes a note (``hs_note_body`` HTML from the minutes,
``hs_timestamp``) associated with its people and companies; each accepted action item becomes a
task associated with its owner. Association type ids are HubSpot's defaults (HUBSPOT_DEFINED).
"""
from __future__ import annotations

import html
import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Callable

from app.core.errors import KithError
from app.export.base import (
    Backoff, ExportAuthError, ExportData, ExportPlan, ExportReport, PlannedOp, RateLimited, RecordError,
    action_body, check_confirmed, decide, iso_utc, parse_retry_after, run_ops, split_name,
)
from app.export.html import md_to_html

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store

TARGET = "hubspot"
REMOTE_TYPE = {"company": "companies", "contact": "contacts", "meeting": "notes", "action": "tasks"}
# HubSpot's default association type ids (from → to), category HUBSPOT_DEFINED.
ASSOCIATION_TYPE = {
    ("contacts", "companies"): 279,
    ("notes", "contacts"): 202,
    ("notes", "companies"): 190,
    ("tasks", "contacts"): 204,
    ("tasks", "companies"): 192,
}
REQUIRED_SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write",
                   "crm.objects.companies.read", "crm.objects.companies.write")
NOTE_BODY_LIMIT = 65_536
RECONNECT = "run `kith connect hubspot` with a valid private-app token"


class StopExport(KithError):
    """The remote side cannot be used right now (unreachable): stop the run."""


def _is_api_exception(e: BaseException) -> bool:
    return any(c.__name__ == "ApiException" for c in type(e).__mro__)


def _error_body(e: Any) -> dict:
    try:
        body = json.loads(e.body) if e.body else {}
        return body if isinstance(body, dict) else {}
    except (ValueError, TypeError):
        return {}


def translate(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Call ``fn`` and turn HubSpot's HTTP errors into RateLimited / ExportAuthError / RecordError."""

    def call():
        try:
            return fn()
        except Exception as e:  # the client has one ApiException class per sub-package
            if not _is_api_exception(e):
                if type(e).__name__ in ("MaxRetryError", "NewConnectionError", "ProtocolError"):
                    raise StopExport("cannot reach HubSpot", hint="check the network connection and try again") from e
                raise
            status = getattr(e, "status", None)
            body = _error_body(e)
            category = body.get("category") or ""
            if status == 429:
                headers = getattr(e, "headers", None) or {}
                raise RateLimited(parse_retry_after(headers.get("Retry-After")), category) from e
            if status == 401:
                raise ExportAuthError("HubSpot rejected the access token (expired, revoked or wrong)",
                                      hint=RECONNECT) from e
            if status == 403:
                raise ExportAuthError(
                    "the HubSpot token lacks a permission Kith needs" + (f" ({category})" if category else ""),
                    hint="give the private app the scopes " + ", ".join(REQUIRED_SCOPES)
                         + ", then run `kith connect hubspot`") from e
            if status in (502, 503, 504):  # HubSpot busy or restarting: retry like a rate limit
                headers = getattr(e, "headers", None) or {}
                raise RateLimited(parse_retry_after(headers.get("Retry-After")), f"HTTP {status}") from e
            if status and status >= 500:
                raise RecordError(category or "SERVER_ERROR", status) from e
            raise RecordError(category or "REQUEST_REFUSED", status) from e

    return call


def note_html(data: ExportData, bundle) -> str:
    m = bundle.meeting
    who = ", ".join(c.name for c in bundle.participants)
    head = f"<h1>{html.escape(m.title)}</h1><p>{m.started_at.date().isoformat()}"
    head += f" · {html.escape(who)}</p>" if who else "</p>"
    body = head + md_to_html(bundle.minutes)
    if len(body) > NOTE_BODY_LIMIT:  # HubSpot refuses longer note bodies
        body = body[:NOTE_BODY_LIMIT - 40].rsplit("<", 1)[0] + "<p>… (truncated by Kith)</p>"
    return body


def task_priority(a, meeting_day: date | None) -> str:
    """Kith has no priority field; derive one from the data only (so re-exports stay stable):
    HIGH when the item was due within two days of the meeting that agreed it, else MEDIUM."""
    if a.due_date and meeting_day and a.due_date <= meeting_day + timedelta(days=2):
        return "HIGH"
    return "MEDIUM"


class HubSpotExporter:
    target = TARGET

    def __init__(self, store: "Store", token: str | None = None, api_base: str | None = None,
                 backoff: Backoff | None = None, timeout: float = 30.0, ca_bundle: str | None = None):
        self.store = store
        self.ca_bundle = ca_bundle
        self._token = token
        self.api_base = api_base.rstrip("/") if api_base else None
        self.backoff = backoff or Backoff()
        self.timeout = timeout

    # -- dry run: local only --------------------------------------------------------------
    def plan(self, data: ExportData) -> ExportPlan:
        plan = ExportPlan(TARGET)
        for co in data.companies:
            op = PlannedOp("company", co.id, "create", "companies",
                           {k: v for k, v in {"name": co.name, "domain": co.domain or ""}.items() if v}, label=co.name)
            plan.ops.append(decide(self.store, op, TARGET))
            if op.op == "create":
                op.reason = "or update the HubSpot company with this " + ("domain" if co.domain else "name")
        exported_contacts = set()
        for c in data.contacts:
            first, last = split_name(c.name)
            co = data.company(c.company_id)
            fields = {"email": c.email or "", "firstname": first, "lastname": last,
                      "phone": c.phones[0] if c.phones else "", "jobtitle": c.title,
                      "company": co.name if co else ""}
            op = PlannedOp("contact", c.id, "create", "contacts", {k: v for k, v in fields.items() if v},
                           label=f"{c.name} <{c.email}>" if c.email else c.name,
                           links=[("company", co.id)] if co else [])
            if not c.email and not self.store.exports.get("contact", c.id, TARGET):
                op.op, op.reason = "skip", "no email address (HubSpot matches contacts by email)"
            plan.ops.append(decide(self.store, op, TARGET))
            if op.op == "create":
                op.reason = "or update the HubSpot contact with this email"
            if op.op != "skip" or op.remote_id:
                exported_contacts.add(c.id)
        for b in data.meetings:
            links = [("contact", c.id) for c in b.participants if c.id in exported_contacts]
            links += [("company", cid) for cid in sorted({c.company_id for c in b.participants if c.company_id})]
            op = PlannedOp("meeting", b.meeting.id, "create", "notes",
                           {"hs_timestamp": iso_utc(b.meeting.started_at), "hs_note_body": note_html(data, b)},
                           label=b.meeting.title, links=links)
            if not b.minutes:
                op.op, op.reason = "skip", "no minutes or notes yet"
            plan.ops.append(decide(self.store, op, TARGET))
            for a in b.actions:
                owner = data.contact(a.owner_contact_id)
                due = a.due_date or b.meeting.started_at
                fields = {
                    "hs_task_subject": a.text if len(a.text) <= 250 else a.text[:249] + "…",
                    "hs_task_body": action_body(a, b, data),
                    "hs_timestamp": iso_utc(due),
                    "hs_task_status": "COMPLETED" if a.status == "done" else "NOT_STARTED",
                    "hs_task_priority": task_priority(a, b.meeting.started_at.date()),
                    "hs_task_type": "TODO",
                }
                tlinks = []
                if owner and owner.id in exported_contacts:
                    tlinks.append(("contact", owner.id))
                    if owner.company_id:
                        tlinks.append(("company", owner.company_id))
                op = PlannedOp("action", a.id, "create", "tasks", fields, label=a.text[:80], links=tlinks)
                plan.ops.append(decide(self.store, op, TARGET))
        return plan

    # -- the real run ---------------------------------------------------------------------
    def _token_value(self) -> str:
        if self._token is None:
            from app.export.credentials import hubspot_token

            self._token = hubspot_token()
        return self._token

    def client(self):
        from hubspot import HubSpot

        kwargs: dict[str, Any] = {"access_token": self._token_value()}
        if self.api_base:
            kwargs["host"] = self.api_base
        if self.ca_bundle:
            kwargs["ssl_ca_cert"] = self.ca_bundle
        return HubSpot(**kwargs)

    def _call(self, fn: Callable[[], Any]) -> Any:
        return self.backoff.call(translate(fn))

    def verify(self) -> None:
        """One read-only call that proves the token works (used by `kith connect hubspot`)."""
        api = self.client()
        self._call(lambda: api.crm.contacts.basic_api.get_page(limit=1, _request_timeout=self.timeout))

    def _apis(self, api, remote_type: str):
        if remote_type in ("contacts", "companies"):
            group = getattr(api.crm, remote_type)
        else:
            group = getattr(api.crm.objects, remote_type)
        return group.basic_api, getattr(group, "search_api", None)

    def _remote(self, entity: str, local_id: int) -> str | None:
        return self.store.exports.get(entity, local_id, TARGET)

    def _associations(self, op: PlannedOp) -> list[tuple[str, str, int]]:
        out = []
        for entity, lid in op.links:
            rid = self._remote(entity, lid)
            to_type = REMOTE_TYPE[entity]
            type_id = ASSOCIATION_TYPE.get((op.remote_type, to_type))
            if rid and type_id:
                out.append((to_type, rid, type_id))
        return out

    def _find(self, search_api, op: PlannedOp) -> str | None:
        if op.entity == "contact":
            prop, value = "email", op.fields.get("email")
        elif op.entity == "company":
            prop, value = ("domain", op.fields["domain"]) if op.fields.get("domain") else ("name", op.fields.get("name"))
        else:
            return None
        if not value:
            return None
        request = {"filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ", "value": value}]}],
                   "properties": [prop], "limit": 1}
        found = self._call(lambda: search_api.do_search(public_object_search_request=request,
                                                        _request_timeout=self.timeout))
        return found.results[0].id if found.results else None

    def _send(self, api, op: PlannedOp) -> tuple[str, str]:
        basic, search = self._apis(api, op.remote_type)
        assoc = self._associations(op)
        rid = op.remote_id
        status = "updated"
        if rid is None and search is not None:
            rid = self._find(search, op)
            status = "matched"
        if rid is not None:
            try:
                self._call(lambda: basic.update(rid, {"properties": op.fields}, _request_timeout=self.timeout))
            except RecordError as e:
                if e.status != 404 or op.remote_id is None:
                    raise
                # deleted on the HubSpot side since the last export: forget the id, match/create again
                op.remote_id = None
                return self._send(api, op)
            self.store.exports.set(op.entity, op.local_id, TARGET, rid)
            v4 = api.crm.associations.v4.basic_api
            for to_type, to_id, type_id in assoc:  # PUT is idempotent on HubSpot's side
                spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]
                self._call(lambda: v4.create(op.remote_type, rid, to_type, to_id, spec, _request_timeout=self.timeout))
            return status, rid
        body = {"properties": op.fields, "associations": [
            {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
            for _to_type, to_id, type_id in assoc]}
        created = self._call(lambda: basic.create(body, _request_timeout=self.timeout))
        return "created", created.id

    def run(self, plan: ExportPlan, confirm) -> ExportReport:
        check_confirmed(plan, confirm)
        api = self.client() if plan.to_send else None
        return run_ops(self.store, plan, lambda op: self._send(api, op), stop_errors=(StopExport,))
