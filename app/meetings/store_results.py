"""Store what the model extracted — as proposals, never as direct writes over a person's data.

* minutes → an AI note (Markdown with [S#] references);
* action items → ``proposed`` items (plus an ``action_item`` suggestion each, so the review
  queue holds everything a person must approve), owners matched to contacts;
* people, companies, deal signals → ``suggestions`` with their evidence;
* the whole output → an audit entry (model, sha256, template, prompt sha256).
Evidence numbers from the model (1-based segment positions) become segment ids here.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from app.context import Kith
from app.core.domain import ActionItem, AuditEntry, Meeting, Note, Segment, Suggestion
from app.core.output import to_jsonable

FREE_MAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "me.com", "proton.me", "protonmail.com", "aol.com", "gmx.com", "live.com"}


def _get(obj: Any, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _ids(evidence, by_index: dict[int, Segment]) -> list[int]:
    out = []
    for n in evidence or []:
        seg = by_index.get(int(n))
        if seg is not None and seg.id is not None and seg.id not in out:
            out.append(seg.id)
    return out


def _refs(evidence) -> str:
    return " ".join(f"[S{n}]" for n in (evidence or []))


def render_ai_minutes(result) -> str:
    lines = ["## Summary", "", (_get(result, "summary") or "").strip() or "_No summary._", ""]
    kp = _get(result, "key_points") or []
    if kp:
        lines += ["## Key points", ""]
        for p in kp:
            text = _get(p, "text") if not isinstance(p, str) else p
            lines.append(f"- {text} {_refs(_get(p, 'evidence') if not isinstance(p, str) else [])}".rstrip())
        lines.append("")
    decisions = _get(result, "decisions") or []
    if decisions:
        lines += ["## Decisions", ""]
        for d in decisions:
            lines.append(f"- {_get(d, 'text')} {_refs(_get(d, 'evidence'))}".rstrip())
        lines.append("")
    signals = _get(result, "signals") or {}
    if signals:
        sig = to_jsonable(signals)
        rows = [(k, v) for k, v in sig.items() if v not in (None, "", [], {}) and k != "evidence"]
        if rows:
            lines += ["## Signals", ""]
            for k, v in rows:
                if isinstance(v, dict):
                    ev = v.get("evidence")
                    v = v.get("value", v.get("text", v))
                    lines.append(f"- **{k.replace('_', ' ')}**: {v} {_refs(ev)}".rstrip())
                else:
                    lines.append(f"- **{k.replace('_', ' ')}**: {v if not isinstance(v, list) else '; '.join(map(str, v))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _due(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def store_extraction(kith: Kith, meeting: Meeting, segments: list[Segment], result) -> tuple[list[ActionItem], list[Suggestion]]:
    store = kith.store()
    settings = kith.settings
    auto = set(settings.crm.auto_accept)
    by_index = {s.index: s for s in segments}
    user_name = settings.crm.my_name
    participants = store.meetings.participants(meeting.id)
    actions: list[ActionItem] = []
    suggestions: list[Suggestion] = []

    with store.transaction():
        store.notes.add(Note(meeting_id=meeting.id, author="ai", body=render_ai_minutes(result), kind="minutes"))

        for item in _get(result, "action_items") or []:
            owner = (_get(item, "owner") or "unassigned").strip() or "unassigned"
            owner_contact = owner_match = None
            if _get(item, "owner_is_user"):
                owner = user_name
            elif owner.lower() != "unassigned":
                # only the same name links at once; a contact with a similar name is put to the person (AI proposes)
                owner_contact = next((c for c in participants if c.name.casefold() == owner.casefold()), None)
                if owner_contact is None:
                    found = store.contacts.find_by_name(owner)
                    if found is not None and found.name.casefold() == owner.casefold():
                        owner_contact = found
                    else:
                        owner_match = found
            flagged = bool(_get(item, "flagged"))
            a = store.actions.add(
                ActionItem(
                    meeting_id=meeting.id,
                    text=_get(item, "task") or _get(item, "text") or "",
                    owner_text=owner,
                    owner_contact_id=owner_contact.id if owner_contact else None,
                    due_date=_due(_get(item, "due")),
                    status="open" if ("action_item" in auto and not flagged) else "proposed",
                    evidence=_ids(_get(item, "evidence"), by_index),
                )
            )
            actions.append(a)
            if a.status == "proposed":
                reason = _get(item, "flag_reason") or ""
                suggestions.append(
                    store.suggestions.add(
                        Suggestion(kind="action_item", payload={"action_item_id": a.id, "task": a.text, "owner": a.owner_text, "due": a.due_date.isoformat() if a.due_date else None,
                                                                **({"owner_match": {"contact_id": owner_match.id, "name": owner_match.name}} if owner_match else {})},
                                   evidence=a.evidence, meeting_id=meeting.id, reason=("flagged: " + reason) if flagged else "")
                    )
                )

        known_companies: dict[str, str] = {}
        own = settings.crm.my_company.strip().lower()  # the user's employer is neither a lead nor the deal
        for comp in _get(result, "companies") or []:
            name = (_get(comp, "name") or "").strip()
            if not name or name.lower() in known_companies or (own and name.lower() == own):
                continue
            known_companies[name.lower()] = name
            domain = (_get(comp, "domain") or "").strip().lower() or None
            exists = (domain and store.companies.find_by_domain(domain)) or store.companies.find_by_name(name)
            if not exists:
                suggestions.append(store.suggestions.add(Suggestion(kind="create_company", payload={"name": name, "domain": domain},
                                                                    evidence=_ids(_get(comp, "evidence"), by_index), meeting_id=meeting.id)))

        # one proposal per person: the calendar's (or an earlier one) is not proposed again
        proposed = [x.payload for x in store.suggestions.list(status="pending") if x.kind == "create_contact"]
        for person in _get(result, "people") or []:
            name = (_get(person, "name") or "").strip()
            if not name or name.lower() in {user_name.lower(), "you", "them", "unknown"}:
                continue
            mail = (_get(person, "email") or "").strip().lower()
            if any((mail and str(p.get("email") or "").lower() == mail) or str(p.get("name") or "").casefold() == name.casefold()
                   for p in proposed):
                continue
            email = (_get(person, "email") or "").strip().lower() or None
            existing = (email and store.contacts.find_by_email(email)) or store.contacts.find_by_name(name)
            payload = {"name": name, "email": email, "company": _get(person, "company") or None, "title": _get(person, "role") or ""}
            ev = _ids(_get(person, "evidence"), by_index)
            if existing:
                changes = {k: v for k, v in (("title", payload["title"]),) if v and not getattr(existing, k)}
                if existing.id in {c.id for c in participants}:  # already known to be here: only the new fields
                    if changes:
                        suggestions.append(store.suggestions.add(Suggestion(kind="update_contact", payload={"contact_id": existing.id, "fields": changes}, evidence=ev, meeting_id=meeting.id)))
                else:  # the model named someone like a contact: a proposal to link, never a merge by itself
                    suggestions.append(store.suggestions.add(Suggestion(kind="link_contact", payload={
                        "contact_id": existing.id, "contact_name": existing.name, "name": name, "email": email, "meeting_id": meeting.id,
                        "matched_by": "email" if email and existing.id == getattr(store.contacts.find_by_email(email), "id", None) else "name",
                        "role": "speaker", "fields": changes}, evidence=ev, meeting_id=meeting.id)))
            else:
                if email and email.split("@")[-1] not in FREE_MAIL:
                    payload["company_domain"] = email.split("@")[-1]
                suggestions.append(store.suggestions.add(Suggestion(kind="create_contact", payload=payload, evidence=ev, meeting_id=meeting.id)))
                proposed.append(payload)

        signals = to_jsonable(_get(result, "signals") or {})
        deal_fields: dict[str, str] = {}
        ev_nums: list[int] = []
        for k, v in signals.items():
            value = v.get("value") if isinstance(v, dict) else v
            if value in (None, "", [], {}) or (isinstance(v, dict) and v.get("flagged")):
                continue
            deal_fields[k] = value
            if isinstance(v, dict):
                ev_nums += v.get("evidence") or []
        if deal_fields and meeting.template in ("sales", "investor"):
            company = next(iter(known_companies.values()), None)
            suggestions.append(store.suggestions.add(Suggestion(kind="update_deal", payload={"company": company, "fields": deal_fields, "template": meeting.template},
                                                                evidence=_ids(ev_nums, by_index), meeting_id=meeting.id)))

        audit = _get(result, "audit") or {}
        store.audit.record(
            AuditEntry(
                actor="ai",
                action="extract",
                model=_get(audit, "model", "") or "",
                model_sha256=_get(audit, "model_sha256", "") or "",
                template=meeting.template,
                prompt_sha256=_get(audit, "prompt_sha256", "") or "",
                output={"meeting_id": meeting.id, "result": to_jsonable(result)},
            )
        )
        meeting.status = "processed"
        store.meetings.update(meeting)

    for s in list(suggestions):
        if s.kind in auto and s.kind != "action_item":
            store.suggestions.accept(s.id)
    return actions, suggestions
