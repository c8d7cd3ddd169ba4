"""The approval queue: the AI proposes, a person accepts or rejects.

``accept`` applies a suggestion. Values a person entered (records with source "user")
are never overwritten silently: a differing non-empty field is kept and reported under
``conflicts`` in the result, unless the caller names it in ``payload["overwrite"]``.
"""
from __future__ import annotations

from app.core.domain import ActionItem, AuditEntry, Company, Contact, Deal, Suggestion
from app.core.errors import KithError, NotFound
from app.store._util import dt, dumps, loads, now_iso, to_date
from app.store.crm import Repo

KINDS = ("create_contact", "update_contact", "link_contact", "create_company", "update_deal", "action_item")
CONTACT_FIELDS = ("name", "title", "emails", "phones", "notes", "company_id")
DEAL_FIELDS = ("title", "stage", "amount", "currency", "next_step", "close_date")


def _empty(v) -> bool:
    return v is None or v == "" or v == [] or v == {}


def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_text(x)}" for k, x in v.items())
    return str(v)


def _merge(obj, fields: dict, protected: bool, overwrite: set[str]) -> tuple[list[str], list[dict]]:
    applied, conflicts = [], []
    for k, v in fields.items():
        if _empty(v):
            continue
        cur = getattr(obj, k)
        if k in ("emails", "phones"):
            new = [x for x in ([v] if isinstance(v, str) else v) if x.lower() not in (c.lower() for c in cur)]
            if new:
                setattr(obj, k, list(cur) + new)
                applied.append(k)
        elif k == "notes" and not _empty(cur):
            if str(v) not in cur:  # notes grow; nothing a person wrote is replaced
                setattr(obj, k, f"{cur}\n\n{v}")
                applied.append(k)
        elif _empty(cur) or not protected or k in overwrite:
            if cur != v:
                setattr(obj, k, v)
                applied.append(k)
        elif cur != v and str(cur).strip().casefold() != str(v).strip().casefold():
            conflicts.append({"field": k, "current": cur, "proposed": v})
    return applied, conflicts


class Suggestions(Repo):
    table = "suggestions"
    noun = "suggestion"

    @staticmethod
    def _from(r: dict) -> Suggestion:
        return Suggestion(kind=r["kind"], payload=loads(r["payload"], {}), evidence=loads(r["evidence"], []),
                          meeting_id=r["meeting_id"], status=r["status"], reason=r["reason"], id=r["id"],
                          created_at=dt(r["created_at"]))

    def add(self, s: Suggestion) -> Suggestion:
        if s.kind not in KINDS:
            raise KithError(f"unknown suggestion kind {s.kind!r}", hint="one of " + ", ".join(KINDS))
        with self.s.transaction():
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO suggestions (meeting_id, kind, payload, evidence, status, reason, created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (s.meeting_id, s.kind, dumps(s.payload or {}), dumps([int(e) for e in s.evidence]), s.status,
                 s.reason or "", now),
            )
            s.id, s.created_at = cur.lastrowid, dt(now)
        return s

    def get(self, id: int) -> Suggestion:
        return self._from(self._row(id))

    def result(self, id: int) -> dict | None:
        return loads(self._row(id)["result"])

    def update_payload(self, id: int, payload: dict) -> None:
        """Change what a pending suggestion proposes (a dependent value the person corrected)."""
        with self.s.transaction():
            if self.get(id).status != "pending":
                raise KithError(f"suggestion {id} is already decided")
            self.conn.execute("UPDATE suggestions SET payload = ? WHERE id = ?", (dumps(payload), id))

    def delete_pending_for(self, meeting_id: int) -> int:
        """Drop a meeting's undecided suggestions (a re-run replaces them). Returns how many."""
        with self.s.transaction():
            return self.conn.execute("DELETE FROM suggestions WHERE meeting_id = ? AND status = 'pending'",
                                     (meeting_id,)).rowcount

    def list(self, status: str | None = "pending", meeting_id: int | None = None) -> list[Suggestion]:
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if meeting_id is not None:
            where.append("meeting_id = ?")
            params.append(meeting_id)
        sql = "SELECT * FROM suggestions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [self._from(r) for r in self._rows(sql, params)]

    def reject(self, id: int, reason: str = "") -> Suggestion:
        with self.s.transaction():
            s = self.get(id)
            if s.status != "pending":
                raise KithError(f"suggestion {id} is already {s.status}")
            self.conn.execute("UPDATE suggestions SET status='rejected', decided_at=?, reason=CASE WHEN ?='' THEN reason"
                              " ELSE ? END WHERE id=?", (now_iso(), reason, reason, id))
            self.s.audit.record(AuditEntry(actor="user", action="suggestion.reject", output={"suggestion_id": id}))
        s.status = "rejected"
        return s

    def accept(self, id: int, payload: dict | None = None) -> dict:
        """Apply suggestion ``id`` (optionally with a payload the person edited). Returns what happened."""
        with self.s.transaction():
            s = self.get(id)
            if s.status != "pending":
                raise KithError(f"suggestion {id} is already {s.status}", hint="only pending suggestions can be accepted")
            p = dict(s.payload if payload is None else payload)
            overwrite = set(p.pop("overwrite", []) or [])
            apply = getattr(self, "_apply_" + s.kind)
            result = {"kind": s.kind, **apply(p, overwrite)}
            result.setdefault("conflicts", [])
            self.conn.execute("UPDATE suggestions SET status='accepted', decided_at=?, result=?, payload=? WHERE id=?",
                              (now_iso(), dumps(result), dumps(p), id))
            self.s.audit.record(AuditEntry(actor="user", action="suggestion.accept",
                                           output={"suggestion_id": id, "kind": s.kind, "entity": result.get("entity"),
                                                   "id": result.get("id"), "created": result.get("created")}))
        return result

    # -- appliers ---------------------------------------------------------------------------
    def _company_id(self, name: str | None, domain: str | None = None) -> int | None:
        if not name and not domain:
            return None
        found = (self.s.companies.find_by_domain(domain) if domain else None) or (
            self.s.companies.find_by_name(name) if name else None)
        if found:
            return found.id
        return self.s.companies.add(Company(name=name or domain, domain=domain, source="ai")).id

    def _contact_fields(self, p: dict) -> dict:
        f = dict(p.get("fields") or {})
        for k in ("name", "title", "notes"):
            if k in p and k not in f:
                f[k] = p[k]
        emails = f.pop("email", None) or p.get("email")
        if emails:
            f["emails"] = list(f.get("emails") or []) + ([emails] if isinstance(emails, str) else list(emails))
        phone = f.pop("phone", None) or p.get("phone")
        if phone:
            f["phones"] = list(f.get("phones") or []) + [phone]
        company = f.pop("company", None) or p.get("company")
        if company and "company_id" not in f:
            f["company_id"] = self._company_id(company, p.get("company_domain"))
        return {k: v for k, v in f.items() if k in CONTACT_FIELDS}

    def _update_contact(self, c: Contact, fields: dict, overwrite: set, created: bool) -> dict:
        applied, conflicts = _merge(c, fields, protected=c.source == "user", overwrite=overwrite)
        if applied:
            self.s.contacts.update(c)
        return {"entity": "contact", "id": c.id, "created": created, "applied": applied, "conflicts": conflicts}

    def _apply_create_contact(self, p: dict, overwrite: set) -> dict:
        if not (p.get("name") or "").strip():
            raise KithError("this suggestion has no name", hint="edit the suggestion and add a name")
        fields = self._contact_fields(p)
        existing = None
        for e in fields.get("emails", []):
            existing = existing or self.s.contacts.find_by_email(e)
        if existing:  # the person is already known: fill gaps, never replace
            return self._update_contact(existing, fields, overwrite, created=False)
        c = Contact(name=fields.pop("name"), source="ai")
        _merge(c, fields, protected=False, overwrite=set())
        self.s.contacts.add(c)
        return {"entity": "contact", "id": c.id, "created": True, "applied": sorted(["name", *fields]), "conflicts": []}

    def _apply_update_contact(self, p: dict, overwrite: set) -> dict:
        cid = p.get("contact_id")
        c = self.s.contacts.get(int(cid)) if cid else None
        if c is None and p.get("email"):
            c = self.s.contacts.find_by_email(p["email"])
        if c is None and p.get("name"):
            c = self.s.contacts.find_by_name(p["name"])
        if c is None:
            raise NotFound("the person this suggestion updates is not in the CRM", hint="create the person first")
        fields = self._contact_fields({k: v for k, v in p.items() if k not in ("name", "email", "contact_id")})
        return self._update_contact(c, fields, overwrite, created=False)

    def _apply_link_contact(self, p: dict, overwrite: set) -> dict:
        """The person confirmed that the one the model named in this meeting is this contact."""
        c = self.s.contacts.get(int(p["contact_id"]))
        if p.get("meeting_id"):
            self.s.meetings.add_participant(int(p["meeting_id"]), c.id, role=p.get("role") or "speaker")
        out = self._update_contact(c, {k: v for k, v in (p.get("fields") or {}).items() if k in CONTACT_FIELDS},
                                   overwrite, created=False)
        return {**out, "applied": ["participant", *out["applied"]]}

    def _apply_create_company(self, p: dict, overwrite: set) -> dict:
        name, domain = (p.get("name") or "").strip(), (p.get("domain") or "").strip() or None
        if not name and not domain:
            raise KithError("this suggestion has no company name or domain")
        found = (self.s.companies.find_by_domain(domain) if domain else None) or (
            self.s.companies.find_by_name(name) if name else None)
        if found:
            applied, conflicts = _merge(found, {"name": name, "domain": domain}, found.source == "user", overwrite)
            if applied:
                self.s.companies.update(found)
            return {"entity": "company", "id": found.id, "created": False, "applied": applied, "conflicts": conflicts}
        c = self.s.companies.add(Company(name=name or domain, domain=domain, source="ai"))
        return {"entity": "company", "id": c.id, "created": True, "applied": ["name", "domain"], "conflicts": []}

    def _apply_update_deal(self, p: dict, overwrite: set) -> dict:
        p = {**p, **(p.get("fields") or {})}
        company_id = p.get("company_id") or self._company_id(p.get("company"), p.get("company_domain"))
        deal = self.s.deals.get(int(p["deal_id"])) if p.get("deal_id") else None
        if deal is None and company_id is not None:
            deals = self.s.deals.list(company_id=company_id)
            title = (p.get("title") or "").casefold()
            deal = next((d for d in deals if title and d.title.casefold() == title), deals[0] if deals else None)
        fields = {k: p[k] for k in DEAL_FIELDS if k in p and not _empty(p[k])}
        for k in ("stage", "next_step", "title", "currency"):
            if k in fields and not isinstance(fields[k], str):
                fields[k] = _text(fields[k])
        extra = {k: v for k, v in (p.get("fields") or {}).items() if k not in DEAL_FIELDS and not _empty(v)}
        if "amount" in fields:
            try:
                fields["amount"] = float(str(fields["amount"]).replace(",", ""))
            except ValueError:
                extra["amount"] = fields.pop("amount")
        if fields.get("close_date"):
            try:
                fields["close_date"] = to_date(str(fields["close_date"])[:10])
            except ValueError:
                extra["close_date"] = fields.pop("close_date")
        created = deal is None
        if deal is None:
            title = fields.pop("title", None) or (f"{p['company']} deal" if p.get("company") else "Deal")
            deal = Deal(company_id=company_id, title=title)
            _merge(deal, fields, protected=False, overwrite=set())
            self.s.deals.add(deal, source="ai")
            applied, conflicts = sorted(["title", *fields]), []
        else:
            applied, conflicts = _merge(deal, fields, self.s.deals.source(deal.id) == "user", overwrite)
            if applied:
                self.s.deals.update(deal)
        if extra:  # signals with no column of their own (budget, timeline, objections…) grow the deal's notes
            lines = "\n".join(f"{k.replace('_', ' ')}: {_text(v)}" for k, v in extra.items())
            self.s.deals.append_notes(deal.id, lines)
            applied.append("notes")
        return {"entity": "deal", "id": deal.id, "created": created, "applied": applied, "conflicts": conflicts}

    def _apply_action_item(self, p: dict, overwrite: set) -> dict:
        if p.get("action_item_id"):
            a = self.s.actions.get(int(p["action_item_id"]))
            text = p.get("text") or p.get("task")
            owner = p.get("owner_text") or p.get("owner")
            due = p.get("due_date") or p.get("due")
            if text:
                a.text = text
            if owner and owner != a.owner_text:  # the person re-assigned it while reviewing
                who = self.s.contacts.find_by_name(owner) if owner != "unassigned" else None
                a.owner_text, a.owner_contact_id = owner, who.id if who else None
            elif a.owner_contact_id is None and (p.get("owner_match") or {}).get("contact_id"):
                # the contact proposed for a similar name: linked now that the person accepted the item
                try:
                    a.owner_contact_id = self.s.contacts.get(int(p["owner_match"]["contact_id"])).id
                except KithError:  # erased since it was proposed: the item stays unlinked
                    pass
            if due:
                a.due_date = to_date(str(due)[:10])
            if a.status == "proposed":
                a.status = "open"
            self.s.actions.update(a)
            return {"entity": "action_item", "id": a.id, "created": False, "applied": ["status"], "conflicts": []}
        p["text"] = p.get("text") or p.get("task") or ""
        p["due_date"] = p.get("due_date") or p.get("due")
        if not p["text"].strip():
            raise KithError("this action item has no text")
        owner = p.get("owner") or p.get("owner_text") or "unassigned"
        who = self.s.contacts.find_by_name(owner) if owner != "unassigned" else None
        a = self.s.actions.add(ActionItem(meeting_id=p.get("meeting_id"), text=p["text"], owner_text=owner,
                                          owner_contact_id=who.id if who else None,
                                          due_date=to_date(str(p["due_date"])[:10]) if p.get("due_date") else None,
                                          status="open", evidence=list(p.get("evidence") or [])))
        return {"entity": "action_item", "id": a.id, "created": True, "applied": ["text"], "conflicts": []}
