"""Repositories for action items, the audit log and export bookkeeping."""
from __future__ import annotations

from app.core.domain import ActionItem, AuditEntry
from app.core.errors import KithError
from app.store._util import day, dt, dumps, loads, now_iso, to_date
from app.store.crm import Repo

STATUSES = ("proposed", "open", "done", "dismissed")


class Actions(Repo):
    table = "action_items"
    noun = "action item"

    @staticmethod
    def _from(r: dict) -> ActionItem:
        return ActionItem(
            meeting_id=r["meeting_id"], text=r["text"], owner_text=r["owner_text"], owner_contact_id=r["owner_contact_id"],
            due_date=to_date(r["due_date"]), status=r["status"], evidence=loads(r["evidence"], []), id=r["id"],
            created_at=dt(r["created_at"]),
        )

    def _check(self, a: ActionItem) -> None:
        if not (a.text or "").strip():
            raise KithError("an action item needs text")
        if a.status not in STATUSES:
            raise KithError(f"status must be one of {', '.join(STATUSES)}, not {a.status!r}")

    def add(self, a: ActionItem) -> ActionItem:
        self._check(a)
        with self.s.transaction():
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO action_items (meeting_id, owner_contact_id, owner_text, text, due_date, status, evidence,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (a.meeting_id, a.owner_contact_id, a.owner_text or "unassigned", a.text.strip(), day(a.due_date),
                 a.status, dumps([int(e) for e in a.evidence]), now, now),
            )
            a.id, a.created_at = cur.lastrowid, dt(now)
        return a

    def get(self, id: int) -> ActionItem:
        return self._from(self._row(id))

    def update(self, a: ActionItem) -> ActionItem:
        self._check(a)
        with self.s.transaction():
            self.get(a.id)
            self.conn.execute(
                "UPDATE action_items SET meeting_id=?, owner_contact_id=?, owner_text=?, text=?, due_date=?, status=?,"
                " evidence=?, updated_at=? WHERE id=?",
                (a.meeting_id, a.owner_contact_id, a.owner_text or "unassigned", a.text.strip(), day(a.due_date),
                 a.status, dumps([int(e) for e in a.evidence]), now_iso(), a.id),
            )
        return a

    def set_status(self, id: int, status: str) -> ActionItem:
        a = self.get(id)
        a.status = status  # type: ignore[assignment]
        return self.update(a)

    def list(self, status: str | list[str] | None = None, owner: int | str | None = None,
             meeting_id: int | None = None) -> list[ActionItem]:
        where, params = [], []
        if status is not None:
            sts = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(sts))})")
            params += sts
        if isinstance(owner, int):
            where.append("owner_contact_id = ?")
            params.append(owner)
        elif owner:
            where.append("owner_text = ? COLLATE NOCASE")
            params.append(owner)
        if meeting_id is not None:
            where.append("meeting_id = ?")
            params.append(meeting_id)
        sql = "SELECT * FROM action_items" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY due_date IS NULL, due_date, id"
        return [self._from(r) for r in self._rows(sql, params)]

    def delete(self, id: int) -> None:
        with self.s.transaction():
            self.conn.execute("DELETE FROM action_items WHERE id = ?", (id,))


    def delete_for_meeting(self, meeting_id: int, status: str | None = None) -> int:
        """Remove a meeting's action items (only those in ``status`` when given). Returns how many."""
        with self.s.transaction():
            if status is None:
                return self.conn.execute("DELETE FROM action_items WHERE meeting_id = ?", (meeting_id,)).rowcount
            return self.conn.execute("DELETE FROM action_items WHERE meeting_id = ? AND status = ?",
                                     (meeting_id, status)).rowcount


class Audit(Repo):
    table = "audit_log"
    noun = "audit entry"

    @staticmethod
    def _from(r: dict) -> AuditEntry:
        return AuditEntry(actor=r["actor"], action=r["action"], model=r["model"], model_sha256=r["model_sha256"],
                          template=r["template"], prompt_sha256=r["prompt_sha256"], output=loads(r["output"]),
                          id=r["id"], at=dt(r["at"]))

    def record(self, e: AuditEntry) -> AuditEntry:
        with self.s.transaction():
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO audit_log (at, actor, action, model, model_sha256, template, prompt_sha256, output)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (now, e.actor, e.action, e.model, e.model_sha256, e.template, e.prompt_sha256,
                 None if e.output is None else dumps(e.output)),
            )
            e.id, e.at = cur.lastrowid, dt(now)
        return e

    def delete_extractions_of(self, meeting_id: int) -> int:
        """Remove the audit copies of a meeting's extractions (the meeting is being deleted)."""
        with self.s.transaction():
            ids = [aid for aid, out in self.conn.execute("SELECT id, output FROM audit_log WHERE action = 'extract'")
                   if isinstance(loads(out, None), dict) and loads(out, None).get("meeting_id") == meeting_id]
            for aid in ids:
                self.conn.execute("DELETE FROM audit_log WHERE id = ?", (aid,))
        return len(ids)

    def list(self, limit: int = 100) -> list[AuditEntry]:
        return [self._from(r) for r in self._rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))]


class Exports(Repo):
    table = "exports"

    def get(self, entity: str, local_id: int, target: str) -> str | None:
        row = self.conn.execute(
            "SELECT remote_id FROM exports WHERE entity = ? AND local_id = ? AND target = ?", (entity, local_id, target)
        ).fetchone()
        return row[0] if row else None

    def set(self, entity: str, local_id: int, target: str, remote_id: str) -> None:
        with self.s.transaction():
            self.conn.execute(
                "INSERT INTO exports (entity, local_id, target, remote_id, exported_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (entity, local_id, target) DO UPDATE SET remote_id = excluded.remote_id,"
                " exported_at = excluded.exported_at",
                (entity, local_id, target, str(remote_id), now_iso()),
            )

    def list(self, target: str | None = None) -> list[dict]:
        if target:
            return self._rows("SELECT * FROM exports WHERE target = ? ORDER BY exported_at", (target,))
        return self._rows("SELECT * FROM exports ORDER BY exported_at")
