"""People, companies and deals edited by the user — from the CLI or the app, the same way.

A person's own edit marks the record ``source="user"``: from then on the AI only proposes changes
to it (suggestions), never writes over it.
"""
from __future__ import annotations

from app.core.domain import AuditEntry, Company, Contact, Deal
from app.ops.changes import Kind, OpChanges, OpResult


def edit_contact(store, contact: Contact) -> OpResult[Contact]:
    contact.source = "user"
    with store.transaction():
        saved = store.contacts.update(contact)
    return OpResult(saved, OpChanges.of(Kind.CONTACTS))


def edit_company(store, company: Company) -> OpResult[Company]:
    company.source = "user"
    with store.transaction():
        saved = store.companies.update(company)
    return OpResult(saved, OpChanges.of(Kind.COMPANIES))


def edit_deal(store, deal: Deal) -> OpResult[Deal]:
    with store.transaction():
        saved = store.deals.update(deal, source="user")
    return OpResult(saved, OpChanges.of(Kind.DEALS))


def merge_contacts(store, keep_id: int, dup_id: int) -> OpResult[Contact]:
    """Fold ``dup`` into ``keep``: emails, phones, empty fields, notes, meetings (with their roles),
    owned action items and the voice profile; then delete ``dup``. Audited."""
    from app.core.errors import KithError
    from app.speakers import profiles

    if keep_id == dup_id:
        raise KithError("cannot merge a person into themselves")
    with store.transaction():
        keep, dup = store.contacts.get(keep_id), store.contacts.get(dup_id)
        for attr in ("emails", "phones"):
            setattr(keep, attr, list(dict.fromkeys(getattr(keep, attr) + getattr(dup, attr))))
        for attr in ("title", "company_id"):
            if not getattr(keep, attr) and getattr(dup, attr):
                setattr(keep, attr, getattr(dup, attr))
        if dup.notes and dup.notes not in keep.notes:
            keep.notes = (keep.notes + "\n\n" + dup.notes).strip()
        meetings = store.meetings.meetings_with(dup_id)
        for m in meetings:
            roles = store.meetings.participant_roles(m.id)
            if keep_id not in roles:
                store.meetings.add_participant(m.id, keep_id, role=roles.get(dup_id, "attendee"))
        items = store.actions.list(owner=dup_id)
        for a in items:
            a.owner_contact_id = keep_id
            store.actions.update(a)
        voices = profiles.move_to(store, dup_id, keep_id)
        dup.emails, dup.phones = [], []
        store.contacts.update(dup)  # free the emails before they move
        store.contacts.delete(dup_id)
        keep.source = "user"
        merged = store.contacts.update(keep)
        store.audit.record(AuditEntry(actor="user", action="contact:merge", output={
            "kept": keep_id, "merged": dup_id, "meetings": [m.id for m in meetings],
            "action_items": [a.id for a in items], "voice_profiles": voices}))
    return OpResult(merged, OpChanges.of(Kind.CONTACTS, Kind.MEETINGS, Kind.ACTIONS, Kind.VOICES))
