"""Salesforce export through ``simple-salesforce`` (REST API).

Accounts are matched by Name, Contacts by Email (Email is not an external id by default, so a
query comes first, then create or update). Accepted action items become Tasks (WhoId = owner,
WhatId = the owner's Account). A meeting's notes become a ContentNote shared with each
attendee through ContentDocumentLink (ShareType 'V'); orgs without ContentNote get a classic
Note on the first attendee, and failing that a completed Task that carries the notes.
"""
from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any, Callable

from app.core.errors import KithError
from app.export.base import (
    Backoff, ExportAuthError, ExportData, ExportPlan, ExportReport, PlannedOp, RateLimited, RecordError,
    action_body, check_confirmed, decide, run_ops, split_name,
)
from app.export.html import md_to_html, md_to_text

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store

TARGET = "salesforce"
RECONNECT = "run `kith connect salesforce` to sign in again"
API_VERSION = "59.0"
# errors meaning "this org has no such object / feature" → use the next fallback for notes
UNSUPPORTED = {"NOT_FOUND", "INVALID_TYPE", "FEATURE_NOT_ENABLED", "INVALID_OPERATION",
               "INSUFFICIENT_ACCESS_OR_READONLY", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"}
NOTE_KINDS = ("ContentNote", "Note", "Task")


class StopExport(KithError):
    pass


def _codes(e: Any) -> list[str]:
    content = getattr(e, "content", None)
    if isinstance(content, list):
        return [str(x.get("errorCode", "")) for x in content if isinstance(x, dict)]
    if isinstance(content, dict):
        return [str(content.get("errorCode", "") or content.get("error", ""))]
    return []


def translate(fn: Callable[[], Any]) -> Callable[[], Any]:
    def call():
        from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
        import requests

        try:
            return fn()
        except SalesforceExpiredSession as e:
            raise ExportAuthError("Salesforce rejected the session (expired or invalid)", hint=RECONNECT) from e
        except SalesforceError as e:
            codes = _codes(e)
            if "REQUEST_LIMIT_EXCEEDED" in codes:
                raise RateLimited(None, "REQUEST_LIMIT_EXCEEDED") from e
            if "SERVER_UNAVAILABLE" in codes or getattr(e, "status", None) in (502, 503, 504):
                raise RateLimited(None, "SERVER_UNAVAILABLE") from e
            if "INVALID_SESSION_ID" in codes:
                raise ExportAuthError("Salesforce rejected the session (expired or invalid)", hint=RECONNECT) from e
            raise RecordError(codes[0] if codes and codes[0] else type(e).__name__, getattr(e, "status", None)) from e
        except requests.ConnectionError as e:
            raise StopExport("cannot reach Salesforce", hint="check the instance URL and the network") from e

    return call


def ca_session(ca_bundle: str):
    """A requests session that trusts ``ca_bundle`` (a PEM file) for its TLS connections.

    Plain ``session.verify = path`` is silently overridden by REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
    in the environment (requests merges environment settings over the session's), so the
    session's own choice is put back after that merge. Proxies from the environment still apply."""
    import requests

    class _Session(requests.Session):
        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify in (None, True):
                settings["verify"] = self.verify
            return settings

    s = _Session()
    s.verify = str(ca_bundle)
    return s


class SalesforceExporter:
    target = TARGET

    def __init__(self, store: "Store", credentials: dict | None = None, session=None,
                 backoff: Backoff | None = None, api_version: str = API_VERSION):
        """``credentials``: {"instance_url", "session_id"} or {"username", "password",
        "security_token", "domain"}; read from the keyring when None. ``session``: a
        requests.Session (tests pass one that trusts their loopback certificate)."""
        self.store = store
        self._credentials = credentials
        self.session = session
        self.backoff = backoff or Backoff()
        self.api_version = api_version
        self._sf = None

    # -- dry run ---------------------------------------------------------------------------
    def plan(self, data: ExportData) -> ExportPlan:
        plan = ExportPlan(TARGET)
        for co in data.companies:
            fields = {"Name": co.name}
            if co.domain:
                fields["Website"] = co.domain
            op = decide(self.store, PlannedOp("company", co.id, "create", "Account", fields, label=co.name), TARGET)
            if op.op == "create":
                op.reason = "or update the Salesforce account with this name"
            plan.ops.append(op)
        for c in data.contacts:
            first, last = split_name(c.name)
            fields = {"FirstName": first, "LastName": last or c.name or "(unknown)", "Email": c.email or "",
                      "Phone": c.phones[0] if c.phones else "", "Title": c.title}
            fields = {k: v for k, v in fields.items() if v}
            co = data.company(c.company_id)
            op = PlannedOp("contact", c.id, "create", "Contact", fields, label=c.name,
                           links=[("company", co.id)] if co else [])
            plan.ops.append(decide(self.store, op, TARGET))
            if op.op == "create" and c.email:
                op.reason = "or update the Salesforce contact with this email"
        for b in data.meetings:
            m = b.meeting
            who = ", ".join(c.name for c in b.participants)
            title = f"{m.title} ({m.started_at.date().isoformat()})"
            head = f"<p>{html.escape(m.title)} — {m.started_at.date().isoformat()}" + (f" · {html.escape(who)}" if who else "") + "</p>"
            fields = {"Title": title[:255], "Content": head + md_to_html(b.minutes),
                      "Text": md_to_text(b.minutes), "ActivityDate": m.started_at.date().isoformat()}
            links = [("contact", c.id) for c in b.participants]
            links += [("company", cid) for cid in sorted({c.company_id for c in b.participants if c.company_id})]
            op = PlannedOp("meeting", m.id, "create", "ContentNote", fields, label=m.title, links=links)
            if not b.minutes:
                op.op, op.reason = "skip", "no minutes or notes yet"
            plan.ops.append(decide(self.store, op, TARGET))
            if op.op == "create":
                op.reason = "Content is sent base64-encoded; where ContentNote is off: a Note, else a Task, with Text"
            for a in b.actions:
                owner = data.contact(a.owner_contact_id)
                fields = {"Subject": a.text if len(a.text) <= 255 else a.text[:254] + "…",
                          "Description": action_body(a, b, data),
                          "Status": "Completed" if a.status == "done" else "Not Started",
                          "Priority": "Normal"}
                if a.due_date:
                    fields["ActivityDate"] = a.due_date.isoformat()
                tlinks = []
                if owner:
                    tlinks.append(("contact", owner.id))
                    if owner.company_id:
                        tlinks.append(("company", owner.company_id))
                plan.ops.append(decide(self.store, PlannedOp("action", a.id, "create", "Task", fields,
                                                             label=a.text[:80], links=tlinks), TARGET))
        return plan

    # -- the real run ------------------------------------------------------------------------
    def client(self):
        if self._sf is None:
            from simple_salesforce import Salesforce

            creds = self._credentials
            if creds is None:
                from app.export.credentials import salesforce_credentials

                creds = salesforce_credentials()
            kwargs: dict[str, Any] = {"version": self.api_version}
            if self.session is None and creds.get("ca_bundle"):
                self.session = ca_session(creds["ca_bundle"])
            if self.session is not None:
                kwargs["session"] = self.session
            if creds.get("session_id"):
                self._sf = Salesforce(instance_url=creds["instance_url"], session_id=creds["session_id"], **kwargs)
            else:
                from simple_salesforce.exceptions import SalesforceAuthenticationFailed

                try:
                    self._sf = Salesforce(username=creds["username"], password=creds["password"],
                                          security_token=creds.get("security_token", ""),
                                          domain=creds.get("domain") or "login", **kwargs)
                except SalesforceAuthenticationFailed as e:
                    raise ExportAuthError("Salesforce refused the username, password or security token",
                                          hint=RECONNECT) from e
        return self._sf

    def _call(self, fn: Callable[[], Any]) -> Any:
        return self.backoff.call(translate(fn))

    def verify(self) -> None:
        sf = self.client()
        self._call(lambda: sf.query("SELECT Id FROM Contact LIMIT 1"))

    def _remote(self, entity: str, local_id: int) -> str | None:
        rid = self.store.exports.get(entity, local_id, TARGET)
        return rid.split("/", 1)[1] if rid and "/" in rid else rid

    def _find(self, sobject: str, field: str, value: str) -> str | None:
        from simple_salesforce import format_soql

        sf = self.client()
        q = format_soql(f"SELECT Id FROM {sobject} WHERE {field} = {{}} LIMIT 1", value)
        res = self._call(lambda: sf.query(q))
        recs = res.get("records") or []
        return recs[0]["Id"] if recs else None

    def _upsert(self, sobject: str, op: PlannedOp, fields: dict, key: tuple[str, str] | None) -> tuple[str, str]:
        sf = self.client()
        api = getattr(sf, sobject)
        rid, status = op.remote_id, "updated"
        if rid is None and key and key[1]:
            rid, status = self._find(sobject, *key), "matched"
        if rid is not None:
            try:
                self._call(lambda: api.update(rid, fields))
                return status, rid
            except RecordError as e:
                if e.status != 404 or op.remote_id is None:
                    raise
                op.remote_id = None  # deleted in Salesforce since the last export
                return self._upsert(sobject, op, fields, key)
        res = self._call(lambda: api.create(fields))
        return "created", res["id"]

    def _send(self, op: PlannedOp) -> tuple[str, str]:
        link = {e: self._remote(e, lid) for e, lid in op.links}
        if op.entity == "company":
            return self._upsert("Account", op, op.fields, ("Name", op.fields["Name"]))
        if op.entity == "contact":
            fields = dict(op.fields)
            account = next((self._remote("company", lid) for e, lid in op.links if e == "company"), None)
            if account:
                fields["AccountId"] = account
            return self._upsert("Contact", op, fields, ("Email", fields.get("Email", "")))
        if op.entity == "action":
            fields = dict(op.fields)
            who = next((self._remote(e, lid) for e, lid in op.links if e == "contact"), None)
            what = next((self._remote(e, lid) for e, lid in op.links if e == "company"), None)
            if who:
                fields["WhoId"] = who
            if what:
                fields["WhatId"] = what
            return self._upsert("Task", op, fields, None)
        if op.entity == "meeting":
            return self._send_note(op, link)
        raise ValueError(op.entity)

    def _note_payload(self, kind: str, op: PlannedOp) -> dict:
        f = op.fields
        contacts = [self._remote("contact", lid) for e, lid in op.links if e == "contact"]
        accounts = [self._remote("company", lid) for e, lid in op.links if e == "company"]
        if kind == "ContentNote":
            return {"Title": f["Title"], "Content": base64.b64encode(f["Content"].encode("utf-8")).decode("ascii")}
        if kind == "Note":
            parent = next((x for x in contacts + accounts if x), None)
            if not parent:
                raise RecordError("NO_PARENT_FOR_NOTE")
            return {"ParentId": parent, "Title": f["Title"], "Body": f["Text"][:32000]}
        payload = {"Subject": ("Meeting notes: " + f["Title"])[:255], "Description": f["Text"][:32000],
                   "Status": "Completed", "Priority": "Normal", "ActivityDate": f["ActivityDate"]}
        who = next((x for x in contacts if x), None)
        what = next((x for x in accounts if x), None)
        if who:
            payload["WhoId"] = who
        if what:
            payload["WhatId"] = what
        return payload

    def _send_note(self, op: PlannedOp, link: dict) -> tuple[str, str]:
        sf = self.client()
        stored = self.store.exports.get("meeting", op.local_id, TARGET)
        if stored and "/" in stored and op.remote_id:  # update the same kind of record as last time
            kind, rid = stored.split("/", 1)
            try:
                self._call(lambda: getattr(sf, kind).update(rid, self._note_payload(kind, op)))
                self._link_note(kind, rid, op)
                return "updated", stored
            except RecordError as e:
                if e.status != 404:
                    raise
        last: RecordError | None = None
        for kind in NOTE_KINDS:
            try:
                payload = self._note_payload(kind, op)
                res = self._call(lambda: getattr(sf, kind).create(payload))
            except RecordError as e:
                if e.kind in UNSUPPORTED or e.kind == "NO_PARENT_FOR_NOTE":
                    last = e
                    continue
                raise
            rid = f"{kind}/{res['id']}"
            self.store.exports.set("meeting", op.local_id, TARGET, rid)
            self._link_note(kind, res["id"], op)
            return "created", rid
        raise last or RecordError("NOTE_NOT_SUPPORTED")

    def _link_note(self, kind: str, doc_id: str, op: PlannedOp) -> None:
        """Share a ContentNote with each attendee and company (once each, remembered)."""
        if kind != "ContentNote":
            return
        sf = self.client()
        for entity, lid in op.links:
            target_id = self._remote(entity, lid)
            key = f"note_link:{op.local_id}:{entity}"
            if not target_id or self.store.exports.get(key, lid, TARGET):
                continue
            payload = {"ContentDocumentId": doc_id, "LinkedEntityId": target_id, "ShareType": "V"}
            res = self._call(lambda: sf.ContentDocumentLink.create(payload))
            self.store.exports.set(key, lid, TARGET, res["id"])

    def run(self, plan: ExportPlan, confirm) -> ExportReport:
        check_confirmed(plan, confirm)
        if plan.to_send:
            self.client()
        return run_ops(self.store, plan, self._send, stop_errors=(StopExport,))
