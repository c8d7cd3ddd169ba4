"""Repositories for people, companies and deals."""
from __future__ import annotations

from app.core.domain import Company, Contact, Deal
from app.core.errors import KithError, NotFound
from app.store._util import day, dt, dumps, loads, now_iso, to_date


class Repo:
    table = ""
    noun = "record"

    def __init__(self, store):
        self.s = store

    @property
    def conn(self):
        return self.s.conn

    def _row(self, id: int):
        cur = self.conn.execute(f"SELECT * FROM {self.table} WHERE id = ?", (id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no {self.noun} with id {id}", hint=f"list them to see the ids")
        return dict(zip([d[0] for d in cur.description], row))

    def _rows(self, sql: str, params=()) -> list[dict]:
        cur = self.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def exists(self, id: int) -> bool:
        return self.conn.execute(f"SELECT 1 FROM {self.table} WHERE id = ?", (id,)).fetchone() is not None


def _norm_emails(emails) -> list[str]:
    out: list[str] = []
    for e in emails or []:
        e = (e or "").strip()
        if not e:
            continue
        if "@" not in e or " " in e:
            raise KithError(f"not an email address: {e!r}", hint="use name@example.com")
        if e.lower() not in (x.lower() for x in out):
            out.append(e)
    return out


class Contacts(Repo):
    table = "contacts"
    noun = "person"

    @staticmethod
    def _from(r: dict) -> Contact:
        return Contact(
            name=r["name"], emails=loads(r["emails"], []), phones=loads(r["phones"], []), title=r["title"],
            company_id=r["company_id"], notes=r["notes"], source=r["source"], id=r["id"],
            created_at=dt(r["created_at"]), updated_at=dt(r["updated_at"]),
        )

    def _check(self, c: Contact) -> None:
        if not (c.name or "").strip():
            raise KithError("a person needs a name", hint="pass --name")
        c.name = c.name.strip()
        c.emails = _norm_emails(c.emails)
        c.phones = [p.strip() for p in c.phones or [] if p and p.strip()]
        if c.company_id is not None and not self.s.companies.exists(c.company_id):
            raise NotFound(f"no company with id {c.company_id}")
        for e in c.emails:
            owner = self.conn.execute("SELECT contact_id FROM contact_emails WHERE email = ?", (e,)).fetchone()
            if owner and owner[0] != c.id:
                raise KithError(f"{e} already belongs to person {owner[0]}", hint=f"edit person {owner[0]} instead")

    def _write_emails(self, c: Contact) -> None:
        self.conn.execute("DELETE FROM contact_emails WHERE contact_id = ?", (c.id,))
        self.conn.executemany("INSERT INTO contact_emails (email, contact_id) VALUES (?, ?)", [(e, c.id) for e in c.emails])

    def add(self, c: Contact) -> Contact:
        with self.s.transaction():
            self._check(c)
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO contacts (name, emails, phones, title, company_id, notes, source, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (c.name, dumps(c.emails), dumps(c.phones), c.title or "", c.company_id, c.notes or "", c.source, now, now),
            )
            c.id = cur.lastrowid
            c.created_at = c.updated_at = dt(now)
            self._write_emails(c)
        return c

    def get(self, id: int) -> Contact:
        return self._from(self._row(id))

    def update(self, c: Contact) -> Contact:
        if c.id is None:
            raise KithError("cannot update a person that was never stored")
        with self.s.transaction():
            self.get(c.id)
            self._check(c)
            now = now_iso()
            self.conn.execute(
                "UPDATE contacts SET name=?, emails=?, phones=?, title=?, company_id=?, notes=?, source=?, updated_at=? "
                "WHERE id=?",
                (c.name, dumps(c.emails), dumps(c.phones), c.title or "", c.company_id, c.notes or "", c.source, now, c.id),
            )
            self._write_emails(c)
            c.updated_at = dt(now)
        return c

    def find_by_email(self, email: str) -> Contact | None:
        row = self.conn.execute("SELECT contact_id FROM contact_emails WHERE email = ?", ((email or "").strip(),)).fetchone()
        return self.get(row[0]) if row else None

    def find_by_name(self, name: str, min_score: float = 90) -> Contact | None:
        """The contact called ``name`` (case-insensitive), else the closest above ``min_score`` (WRatio)."""
        from rapidfuzz import fuzz, process, utils

        name = (name or "").strip()
        if not name:
            return None
        rows = self.conn.execute("SELECT id, name FROM contacts").fetchall()
        if not rows:
            return None
        exact = [r for r in rows if r[1].casefold() == name.casefold()]
        if exact:
            return self.get(exact[0][0])
        choices = {r[0]: r[1] for r in rows}
        best = process.extractOne(name, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=min_score)
        return self.get(best[2]) if best else None

    def list(self, query: str | None = None, company_id: int | None = None) -> list[Contact]:
        if query:
            from app.store.search import fts_query

            q = fts_query(query)
            if not q:
                return []
            rows = self._rows(
                "SELECT c.* FROM contacts_fts f JOIN contacts c ON c.id = f.rowid WHERE contacts_fts MATCH ? ORDER BY rank",
                (q,),
            )
        elif company_id is not None:
            rows = self._rows("SELECT * FROM contacts WHERE company_id = ? ORDER BY name COLLATE NOCASE", (company_id,))
        else:
            rows = self._rows("SELECT * FROM contacts ORDER BY name COLLATE NOCASE, id")
        return [self._from(r) for r in rows]

    def delete(self, id: int) -> None:
        with self.s.transaction():
            self.get(id)
            self.conn.execute("DELETE FROM contacts WHERE id = ?", (id,))


class Companies(Repo):
    table = "companies"
    noun = "company"

    @staticmethod
    def _from(r: dict) -> Company:
        return Company(
            name=r["name"], domain=r["domain"], notes=r["notes"], source=r["source"], id=r["id"],
            created_at=dt(r["created_at"]), updated_at=dt(r["updated_at"]),
        )

    def _check(self, c: Company) -> None:
        if not (c.name or "").strip():
            raise KithError("a company needs a name", hint="pass --name")
        c.name = c.name.strip()
        d = (c.domain or "").strip().lower()
        for prefix in ("https://", "http://", "www."):
            d = d.removeprefix(prefix)
        d = d.split("/")[0]
        if d and ("." not in d or " " in d):
            raise KithError(f"not a domain: {c.domain!r}", hint="use example.com")
        c.domain = d or None
        if c.domain:
            other = self.conn.execute("SELECT id FROM companies WHERE domain = ?", (c.domain,)).fetchone()
            if other and other[0] != c.id:
                raise KithError(f"{c.domain} already belongs to company {other[0]}", hint=f"edit company {other[0]}")

    def people_counts(self) -> dict[int, int]:
        """company id → number of contacts at it."""
        return dict(self.conn.execute(
            "SELECT company_id, count(*) FROM contacts WHERE company_id IS NOT NULL GROUP BY company_id").fetchall())

    def add(self, c: Company) -> Company:
        with self.s.transaction():
            self._check(c)
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO companies (name, domain, notes, source, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (c.name, c.domain, c.notes or "", c.source, now, now),
            )
            c.id = cur.lastrowid
            c.created_at = c.updated_at = dt(now)
        return c

    def get(self, id: int) -> Company:
        return self._from(self._row(id))

    def update(self, c: Company) -> Company:
        with self.s.transaction():
            self.get(c.id)
            self._check(c)
            now = now_iso()
            self.conn.execute(
                "UPDATE companies SET name=?, domain=?, notes=?, source=?, updated_at=? WHERE id=?",
                (c.name, c.domain, c.notes or "", c.source, now, c.id),
            )
            c.updated_at = dt(now)
        return c

    def find_by_domain(self, domain: str) -> Company | None:
        d = (domain or "").strip().lower().removeprefix("www.")
        if "@" in d:
            d = d.rsplit("@", 1)[1]
        row = self.conn.execute("SELECT * FROM companies WHERE domain = ?", (d,)).fetchone()
        return self.get(row[0]) if row else None

    def find_by_name(self, name: str, min_score: float = 90) -> Company | None:
        from rapidfuzz import fuzz, process, utils

        rows = self.conn.execute("SELECT id, name FROM companies").fetchall()
        name = (name or "").strip()
        if not rows or not name:
            return None
        for r in rows:
            if r[1].casefold() == name.casefold():
                return self.get(r[0])
        best = process.extractOne(
            name, {r[0]: r[1] for r in rows}, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=min_score
        )
        return self.get(best[2]) if best else None

    def list(self) -> list[Company]:
        return [self._from(r) for r in self._rows("SELECT * FROM companies ORDER BY name COLLATE NOCASE, id")]

    def delete(self, id: int) -> None:
        with self.s.transaction():
            self.get(id)
            self.conn.execute("DELETE FROM companies WHERE id = ?", (id,))


class Deals(Repo):
    table = "deals"
    noun = "deal"

    @staticmethod
    def _from(r: dict) -> Deal:
        return Deal(
            company_id=r["company_id"], title=r["title"], stage=r["stage"], amount=r["amount"], currency=r["currency"],
            next_step=r["next_step"], close_date=to_date(r["close_date"]), id=r["id"], updated_at=dt(r["updated_at"]),
        )

    def source(self, id: int) -> str:
        return self._row(id)["source"]

    def add(self, d: Deal, source: str = "user") -> Deal:
        if not (d.title or "").strip():
            raise KithError("a deal needs a title")
        with self.s.transaction():
            if d.company_id is not None and not self.s.companies.exists(d.company_id):
                raise NotFound(f"no company with id {d.company_id}")
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO deals (company_id, title, stage, amount, currency, next_step, close_date, source, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (d.company_id, d.title.strip(), d.stage or "", d.amount, d.currency or "", d.next_step or "",
                 day(d.close_date), source, now, now),
            )
            d.id = cur.lastrowid
            d.updated_at = dt(now)
        return d

    def get(self, id: int) -> Deal:
        return self._from(self._row(id))

    def update(self, d: Deal, source: str | None = None) -> Deal:
        with self.s.transaction():
            old = self._row(d.id)
            now = now_iso()
            self.conn.execute(
                "UPDATE deals SET company_id=?, title=?, stage=?, amount=?, currency=?, next_step=?, close_date=?, "
                "source=?, updated_at=? WHERE id=?",
                (d.company_id, d.title, d.stage or "", d.amount, d.currency or "", d.next_step or "", day(d.close_date),
                 source or old["source"], now, d.id),
            )
            d.updated_at = dt(now)
        return d

    def notes(self, id: int) -> str:
        return self._row(id)["notes"]

    def append_notes(self, id: int, text: str) -> None:
        with self.s.transaction():
            cur = self.notes(id)
            self.conn.execute("UPDATE deals SET notes = ?, updated_at = ? WHERE id = ?",
                              (f"{cur}\n{text}" if cur else text, now_iso(), id))

    def list(self, company_id: int | None = None) -> list[Deal]:
        if company_id is None:
            rows = self._rows("SELECT * FROM deals ORDER BY updated_at DESC")
        else:
            rows = self._rows("SELECT * FROM deals WHERE company_id = ? ORDER BY updated_at DESC", (company_id,))
        return [self._from(r) for r in rows]
