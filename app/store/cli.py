"""`kith people|companies|search|db|suggestions` — the CRM from the command line.

Imports stay light: the store (and SQLCipher) load inside the command functions.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from app.core.errors import Cancelled, KithError
from app.core.output import ok_mark, print_json, print_table


def _json_flag(p) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _company_ref(store, ref: str | None) -> int | None:
    """A company given as an id, a domain or a name (created if new)."""
    from app.core.domain import Company

    if ref is None or ref == "":
        return None
    if ref.isdigit():
        return store.companies.get(int(ref)).id
    found = (store.companies.find_by_domain(ref) if "." in ref and " " not in ref else None) or store.companies.find_by_name(ref)
    if found:
        return found.id
    return store.companies.add(Company(name=ref, domain=ref if "." in ref and " " not in ref else None)).id


def _company_name(store, company_id) -> str:
    if company_id is None:
        return ""
    try:
        return store.companies.get(company_id).name
    except KithError:
        return ""


# -- people ----------------------------------------------------------------------------------
def people_add(kith, args):
    from app.core.domain import Contact

    store = kith.store()
    with store.transaction():
        c = Contact(name=args.name, emails=args.email or [], phones=args.phone or [], title=args.title or "",
                    notes=args.notes or "", company_id=_company_ref(store, args.company))
        store.contacts.add(c)
    if args.json:
        print_json(c)
    else:
        print(f"added person {c.id}: {c.name}")


def _people_rows(store, people):
    return [(c.id, c.name, ", ".join(c.emails), c.title, _company_name(store, c.company_id), c.source) for c in people]


def people_list(kith, args):
    store = kith.store()
    people = store.contacts.list(query=getattr(args, "query", None))
    if args.json:
        print_json(people)
    else:
        print_table(_people_rows(store, people), ["ID", "NAME", "EMAIL", "TITLE", "COMPANY", "SOURCE"])


def people_show(kith, args):
    store = kith.store()
    c = store.contacts.get(args.id)
    meetings = store.meetings.meetings_with(c.id)
    actions = store.actions.list(owner=c.id)
    company = store.companies.get(c.company_id) if c.company_id else None
    if args.json:
        print_json({"contact": c, "company": company, "meetings": meetings, "action_items": actions})
        return
    rows = [("Name", c.name), ("Emails", ", ".join(c.emails)), ("Phones", ", ".join(c.phones)), ("Title", c.title),
            ("Company", company.name if company else ""), ("Source", c.source),
            ("Created", c.created_at.isoformat(timespec="seconds") if c.created_at else "")]
    print(f"Person {c.id}")
    for k, v in rows:
        print(f"  {k:<8} {v}")
    if c.notes:
        print("  Notes\n    " + c.notes.replace("\n", "\n    "))
    print(f"\nMeetings ({len(meetings)})")
    print_table([(m.id, m.started_at.date().isoformat(), m.title) for m in meetings], ["ID", "DATE", "TITLE"])
    print(f"\nAction items ({len(actions)})")
    print_table([(a.id, a.status, a.due_date or "", a.text) for a in actions], ["ID", "STATUS", "DUE", "TEXT"])


def people_edit(kith, args):
    store = kith.store()
    with store.transaction():
        c = store.contacts.get(args.id)
        if args.name is not None:
            c.name = args.name
        if args.title is not None:
            c.title = args.title
        if args.notes is not None:
            c.notes = args.notes
        for e in args.add_email or []:
            if e.lower() not in (x.lower() for x in c.emails):
                c.emails.append(e)
        for e in args.remove_email or []:
            if e.lower() not in (x.lower() for x in c.emails):
                raise KithError(f"person {c.id} has no email {e}")
            c.emails = [x for x in c.emails if x.lower() != e.lower()]
        for ph in args.add_phone or []:
            c.phones.append(ph)
        if args.company is not None:
            c.company_id = _company_ref(store, args.company)
        from app.ops.crm import edit_contact

        c = edit_contact(store, c).value  # a person touched it: from now on the AI only proposes changes
    if args.json:
        print_json(c)
    else:
        print(f"updated person {c.id}: {c.name}")


def people_search(kith, args):
    args.query = args.query_text
    people_list(kith, args)


def people_export(kith, args):
    from app.core.output import to_jsonable
    from app.ops.people import export_person

    res = export_person(kith.store(), args.id, out=args.output or None, overwrite=args.force)
    if args.output:
        print(f"exported person {args.id} to {Path(args.output).expanduser()} (unencrypted: keep it safe)",
              file=sys.stderr)
    else:
        sys.stdout.write(json.dumps(to_jsonable(res.value), indent=2, ensure_ascii=False) + "\n")


def people_erase(kith, args):
    from app.ops.people import erase_person

    store = kith.store()
    c = store.contacts.get(args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise KithError("erasing needs confirmation", hint="pass --yes to erase without asking")
        answer = input(f"Erase {c.name} (person {c.id}) and every trace of them? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Cancelled("nothing was erased")
    counts = erase_person(store, c.id).value
    if getattr(args, "json", False):
        print_json({"erased": c.id, "counts": counts})
    else:
        detail = ", ".join(f"{k}: {v}" for k, v in counts.items() if v)
        print(f"erased person {c.id}" + (f" ({detail})" if detail else ""))
        if counts.get("recordings_with_their_voice"):
            print(f"note: {counts['recordings_with_their_voice']} meeting recording(s) still hold their voice; "
                  "delete those recordings to erase it", file=sys.stderr)


# -- companies -------------------------------------------------------------------------------
def companies_add(kith, args):
    from app.core.domain import Company

    c = kith.store().companies.add(Company(name=args.name, domain=args.domain, notes=args.notes or ""))
    print_json(c) if args.json else print(f"added company {c.id}: {c.name}")


def companies_list(kith, args):
    store = kith.store()
    cs = store.companies.list()
    if args.json:
        print_json(cs)
        return
    counts = store.companies.people_counts()
    print_table([(c.id, c.name, c.domain or "", counts.get(c.id, 0), c.source) for c in cs],
                ["ID", "NAME", "DOMAIN", "PEOPLE", "SOURCE"])


def companies_show(kith, args):
    store = kith.store()
    c = store.companies.get(args.id)
    people = store.contacts.list(company_id=c.id)
    deals = store.deals.list(company_id=c.id)
    if args.json:
        print_json({"company": c, "people": people, "deals": deals})
        return
    print(f"Company {c.id}: {c.name}" + (f" ({c.domain})" if c.domain else ""))
    if c.notes:
        print("  " + c.notes.replace("\n", "\n  "))
    print(f"\nPeople ({len(people)})")
    print_table([(p.id, p.name, ", ".join(p.emails), p.title) for p in people], ["ID", "NAME", "EMAIL", "TITLE"])
    print(f"\nDeals ({len(deals)})")
    print_table([(d.id, d.title, d.stage, "" if d.amount is None else f"{d.amount:,.0f} {d.currency}".strip(), d.next_step)
                 for d in deals], ["ID", "TITLE", "STAGE", "AMOUNT", "NEXT STEP"])


def companies_edit(kith, args):
    store = kith.store()
    c = store.companies.get(args.id)
    if args.name is not None:
        c.name = args.name
    if args.domain is not None:
        c.domain = args.domain
    if args.notes is not None:
        c.notes = args.notes
    from app.ops.crm import edit_company

    c = edit_company(store, c).value
    print_json(c) if args.json else print(f"updated company {c.id}: {c.name}")


# -- search, db, suggestions ------------------------------------------------------------------
def search_cmd(kith, args):
    q = " ".join(args.query)
    if not q.strip():
        raise KithError("nothing to search for", hint='kith search "pricing"')
    hits = kith.store().search(q, limit=args.limit)
    if args.json:
        print_json(hits)
    else:
        print_table([(h.kind, h.id, h.meeting_id or "", h.title, h.snippet.replace("\n", " ")) for h in hits],
                    ["KIND", "ID", "MEETING", "WHERE", "MATCH"])


def _damaged_ok_store(kith):
    """The store, opened even when its schema state is unreadable (then nothing is written to it)."""
    from app.store.db import open_store

    if kith._store is None:
        kith.paths.ensure()
        kith._store = open_store(kith.paths, kith.passphrase, kith.ask_passphrase, damaged_ok=True)
    return kith._store


def db_check(kith, args):
    from app.store.repair import DamagedDatabase
    from app.store.rights import check

    try:
        store = _damaged_ok_store(kith)
    except DamagedDatabase as e:  # not even the first page opens: report that, do not crash
        r = {"path": str(kith.paths.database), "ok": False, "key": {"opens": False}, "error": e.message, "hint": e.hint}
        if args.json:
            print_json(r)
        else:
            print(f"{ok_mark(False)} opens: {e.message}")
            print(f"  → {e.hint}")
        return 1
    r = check(store)
    if args.json:
        print_json(r)
    else:
        st = r["migrations"]
        print(f"{ok_mark(True)} key: opens ({r['key']['mode']})")
        print(f"{ok_mark(r['integrity'] == ['ok'])} integrity: {'; '.join(r['integrity'][:5])}")
        print(f"{ok_mark(r['cipher_integrity'] == ['ok'])} pages (HMAC): {'; '.join(r['cipher_integrity'][:5])}"
              + (f" (damaged pages: {', '.join(map(str, r['damaged_pages'][:20]))})" if r["damaged_pages"] else ""))
        bad = r["unreadable_tables"]
        print(f"{ok_mark(not bad)} tables: {len(r['tables']) - len(bad)} of {len(r['tables'])} readable"
              + (f"; unreadable: {', '.join(bad)}" if bad else ""))
        print(f"{ok_mark(r['fts'] == ['ok'])} search index: {'; '.join(r['fts'])}")
        print(f"{ok_mark(r['foreign_key_violations'] == 0)} foreign keys: {r['foreign_key_violations']} violations")
        print(f"{ok_mark(not st['pending'] and not st['unknown'] and not st.get('error'))} schema: "
              f"{len(st['applied'])}/{st['known']} migrations" + (f", pending {st['pending']}" if st["pending"] else "")
              + (f", {st['error']}" if st.get("error") else ""))
        print(f"  {r['path']} — SQLCipher {r['cipher_version']}, journal {r['journal_mode']}")
        if not r["ok"] and (bad or r["damaged_pages"] or r["integrity"] != ["ok"]):
            print("  → `kith db recover NEW.db` copies every readable row into a new encrypted database")
    return 0 if r["ok"] else 1


def db_recover(kith, args):
    from app.store.repair import recover

    r = recover(_damaged_ok_store(kith), args.path)
    if args.json:
        print_json(r)
        return 0
    lost = {t: v for t, v in r["tables"].items() if v.get("damaged_ranges") or v.get("error") or v.get("missing")}
    rows = sum(v.get("rows", 0) for t, v in r["tables"].items() if not t.startswith("_"))
    print(f"recovered {rows:,} rows into {r['path']} (integrity: {r['integrity']}; same key as the database)")
    for t, v in lost.items():
        print(f"  {t}: {v.get('rows', 0)} rows; " + ("some rows were unreadable" if v.get("damaged_ranges")
                                                     else v.get("error") or "missing in the damaged file"))
    if "salt" in r:
        print(f"keep {r['salt']} with it: the passphrase needs that salt")
    print(f"the damaged file is unchanged. To use the recovered one: quit Kith, move {kith.paths.database} aside "
          f"and put {r['path']} in its place")
    return 0


def db_rekey(kith, args):
    from app.ops.export import rekey

    store = kith.store()
    new_pp = repeated = None
    if args.passphrase:
        if kith.ask_passphrase is None:
            raise KithError("a new passphrase must be typed at a terminal")
        new_pp = kith.ask_passphrase("New passphrase: ")
        repeated = kith.ask_passphrase("Repeat the new passphrase: ")
    mode = rekey(store, new_pp, repeated).value
    print(f"re-encrypted {store.path} with a new key ({mode}). Older backups still need the old key or passphrase.")


def db_backup(kith, args):
    from app.store.rights import backup

    r = backup(kith.store(), args.path, overwrite=args.force)
    if args.json:
        print_json(r)
    else:
        print(f"encrypted backup written to {r['path']} ({r['bytes']:,} bytes, same key as the database)")
        if "salt" in r:
            print(f"keep {r['salt']} with it: the passphrase needs that salt to open the backup")


def db_path(kith, args):
    p = kith.paths
    if args.json:
        print_json({"database": p.database, "salt": p.key_salt_file, "data": p.data})
    else:
        print(p.database)


def suggestions_list(kith, args):
    store = kith.store()
    status = None if args.status == "all" else args.status
    items = store.suggestions.list(status=status, meeting_id=args.meeting)
    if args.json:
        print_json(items)
        return

    def summary(s):
        p = s.payload
        return ", ".join(f"{k}={v}" for k, v in p.items() if v not in (None, "", [], {}))

    print_table([(s.id, s.kind, s.status, s.meeting_id or "", summary(s)) for s in items],
                ["ID", "KIND", "STATUS", "MEETING", "PROPOSAL"])


def register(sub) -> None:
    p = sub.add_parser("people", help="people in your CRM: add, list, show, edit, search, export, erase")
    ps = p.add_subparsers(dest="people_cmd", metavar="VERB", required=True)
    a = ps.add_parser("add", help="add a person")
    a.add_argument("--name", required=True)
    a.add_argument("--email", action="append", help="repeat for several")
    a.add_argument("--phone", action="append")
    a.add_argument("--title")
    a.add_argument("--company", help="company id, domain or name (created if new)")
    a.add_argument("--notes")
    _json_flag(a)
    a.set_defaults(func=people_add)
    a = ps.add_parser("list", help="list people")
    a.add_argument("--query", "-q", help="only people matching these words")
    _json_flag(a)
    a.set_defaults(func=people_list)
    a = ps.add_parser("show", help="a person with their meetings and action items")
    a.add_argument("id", type=int)
    _json_flag(a)
    a.set_defaults(func=people_show)
    a = ps.add_parser("edit", help="change a person (marks it as entered by you)")
    a.add_argument("id", type=int)
    a.add_argument("--name")
    a.add_argument("--title")
    a.add_argument("--notes")
    a.add_argument("--company", help="company id, domain or name; '' to clear")
    a.add_argument("--add-email", action="append")
    a.add_argument("--remove-email", action="append")
    a.add_argument("--add-phone", action="append")
    _json_flag(a)
    a.set_defaults(func=people_edit)
    a = ps.add_parser("search", help="find people by name, email, title or notes")
    a.add_argument("query_text", metavar="QUERY")
    _json_flag(a)
    a.set_defaults(func=people_search)
    a = ps.add_parser("export", help="every record about a person, as JSON (data access request)")
    a.add_argument("id", type=int)
    a.add_argument("--output", "-o", help="write to this file instead of stdout")
    a.add_argument("--force", action="store_true", help="overwrite --output")
    a.set_defaults(func=people_export)
    a = ps.add_parser("erase", help="erase a person and every trace of them (cannot be undone)")
    a.add_argument("id", type=int)
    a.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _json_flag(a)
    a.set_defaults(func=people_erase)

    p = sub.add_parser("companies", help="companies in your CRM: add, list, show, edit")
    cs = p.add_subparsers(dest="companies_cmd", metavar="VERB", required=True)
    a = cs.add_parser("add", help="add a company")
    a.add_argument("--name", required=True)
    a.add_argument("--domain")
    a.add_argument("--notes")
    _json_flag(a)
    a.set_defaults(func=companies_add)
    a = cs.add_parser("list", help="list companies")
    _json_flag(a)
    a.set_defaults(func=companies_list)
    a = cs.add_parser("show", help="a company with its people and deals")
    a.add_argument("id", type=int)
    _json_flag(a)
    a.set_defaults(func=companies_show)
    a = cs.add_parser("edit", help="change a company")
    a.add_argument("id", type=int)
    a.add_argument("--name")
    a.add_argument("--domain")
    a.add_argument("--notes")
    _json_flag(a)
    a.set_defaults(func=companies_edit)

    p = sub.add_parser("search", help="search people, notes and transcripts")
    p.add_argument("query", nargs="+", metavar="QUERY")
    p.add_argument("--limit", type=int, default=20)
    _json_flag(p)
    p.set_defaults(func=search_cmd)

    p = sub.add_parser("db", help="the encrypted database: check, recover, rekey, backup, path")
    ds = p.add_subparsers(dest="db_cmd", metavar="VERB", required=True)
    a = ds.add_parser("check", help="integrity, page authentication, key and schema checks")
    _json_flag(a)
    a.set_defaults(func=db_check)
    a = ds.add_parser("rekey", help="re-encrypt under a new random key (or a new passphrase)")
    a.add_argument("--passphrase", action="store_true", help="protect the database with a new passphrase instead")
    a.set_defaults(func=db_rekey)
    a = ds.add_parser("backup", help="write an encrypted copy (safe while Kith is running)")
    a.add_argument("path")
    a.add_argument("--force", action="store_true", help="overwrite PATH")
    _json_flag(a)
    a.set_defaults(func=db_backup)
    a = ds.add_parser("recover", help="copy every readable row of a damaged database into a NEW encrypted file")
    a.add_argument("path", help="the new database file (must not exist)")
    _json_flag(a)
    a.set_defaults(func=db_recover)
    a = ds.add_parser("path", help="where the database file is")
    _json_flag(a)
    a.set_defaults(func=db_path)

    p = sub.add_parser("suggestions", help="what the AI proposed for your CRM (accept them with `kith review`)")
    ss = p.add_subparsers(dest="suggestions_cmd", metavar="VERB", required=True)
    a = ss.add_parser("list", help="list suggestions")
    a.add_argument("--status", default="pending", choices=["pending", "accepted", "rejected", "all"])
    a.add_argument("--meeting", type=int)
    _json_flag(a)
    a.set_defaults(func=suggestions_list)
