"""Sentence vectors of transcript lines (table ``segment_vectors``, migration m004_ask_vectors).

Stored as float16 BLOBs inside the encrypted file. Searched with numpy over an in-memory int8 copy
(each unit vector × 127, a quarter of float32's memory: 1M lines of 384 dimensions take 384 MB, not
1.5 GB), scored in blocks converted to float32, and the best candidates re-scored exactly from their
stored float16 vectors. The copy is loaded once per Store and reloaded when the table changed
(another connection's commit, a cascade from a deleted meeting, a line whose text changed)."""
from __future__ import annotations

import numpy as np

from app.store.crm import Repo


class Vectors(Repo):
    table = "segment_vectors"
    noun = "segment vector"

    def __init__(self, store):
        super().__init__(store)
        self._cache: dict = {}

    def put_many(self, model: str, rows: list[tuple[int, int, np.ndarray]]) -> int:
        """(segment_id, meeting_id, vector) rows; replaces what a segment had."""
        with self.s.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO segment_vectors (segment_id, meeting_id, model, vector) VALUES (?,?,?,?)",
                [(int(s), int(m), model, np.asarray(v, dtype=np.float16).tobytes()) for s, m, v in rows])
        return len(rows)

    def missing(self, model: str, meeting_id: int | None = None, limit: int = 100000) -> list[tuple[int, int, str, str]]:
        """(segment_id, meeting_id, text, the previous line's text) of lines with no vector from ``model`` yet."""
        where = "AND s.meeting_id = ?" if meeting_id is not None else ""
        params = (model,) + ((meeting_id,) if meeting_id is not None else ()) + (limit,)
        return self.conn.execute(
            "SELECT s.id, s.meeting_id, s.text, COALESCE(p.text, '') FROM segments s LEFT JOIN segment_vectors v "
            "ON v.segment_id = s.id AND v.model = ? LEFT JOIN segments p ON p.meeting_id = s.meeting_id AND p.idx = s.idx - 1 "
            f"WHERE v.segment_id IS NULL {where} ORDER BY s.meeting_id, s.idx LIMIT ?", params).fetchall()

    def count_missing(self, model: str) -> int:
        have = self.conn.execute("SELECT (SELECT count(*) FROM segments) - "
                                 "(SELECT count(*) FROM segment_vectors WHERE model = ?)", (model,)).fetchone()[0]
        if have <= 0:  # every vector belongs to a line (cascade), so equal counts mean none is missing
            return 0
        return self.conn.execute(
            "SELECT count(*) FROM segments s LEFT JOIN segment_vectors v ON v.segment_id = s.id AND v.model = ? "
            "WHERE v.segment_id IS NULL", (model,)).fetchone()[0]

    def count(self, model: str | None = None) -> int:
        if model is None:
            return self.conn.execute("SELECT count(*) FROM segment_vectors").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM segment_vectors WHERE model = ?", (model,)).fetchone()[0]

    def delete_meeting(self, meeting_id: int) -> int:
        with self.s.transaction():
            return self.conn.execute("DELETE FROM segment_vectors WHERE meeting_id = ?", (meeting_id,)).rowcount

    def _signature(self, model: str) -> tuple:
        r = self.conn.execute("SELECT count(*), COALESCE(max(segment_id), 0), COALESCE(sum(segment_id), 0) "
                              "FROM segment_vectors WHERE model = ?", (model,)).fetchone()
        return tuple(r)

    def matrix(self, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment_ids, meeting_ids, unit vectors quantised to int8 ×127 (n, dim)) of every stored line, cached."""
        version = (self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes)
        c = self._cache.get(model)
        if c is not None and c["version"] == version:
            return c["ids"], c["meetings"], c["mat"]
        sig = self._signature(model)
        if c is not None and c["sig"] == sig:
            c["version"] = version
            return c["ids"], c["meetings"], c["mat"]
        n = sig[0]
        ids = np.zeros(n, dtype=np.int64)
        mids = np.zeros(n, dtype=np.int64)
        mat = None
        k = 0
        cur = self.conn.execute("SELECT segment_id, meeting_id, vector FROM segment_vectors WHERE model = ? "
                                "ORDER BY segment_id", (model,))
        while True:
            rows = cur.fetchmany(20000)
            if not rows:
                break
            block = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float16).reshape(len(rows), -1)
            if mat is None:
                mat = np.zeros((n, block.shape[1]), dtype=np.int8)
            m = min(len(rows), n - k)
            ids[k:k + m] = [r[0] for r in rows[:m]]
            mids[k:k + m] = [r[1] for r in rows[:m]]
            mat[k:k + m] = quantise(block[:m])
            k += m
        mat = mat[:k] if mat is not None else np.zeros((0, 1), dtype=np.int8)
        self._cache[model] = {"version": version, "sig": sig, "ids": ids[:k], "meetings": mids[:k], "mat": mat}
        return ids[:k], mids[:k], mat

    def nearest(self, model: str, query: np.ndarray, limit: int = 50,
                meeting_ids: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``limit`` lines closest to ``query`` (cosine), optionally only in ``meeting_ids``.

        Candidates come from the int8 copy; the best ``RERANK × limit`` are re-scored exactly."""
        ids, mids, mat = self.matrix(model)
        if not len(ids):
            return []
        if meeting_ids is not None:
            sel = np.isin(mids, np.fromiter(meeting_ids, dtype=np.int64))
            ids, mat = ids[sel], mat[sel]
            if not len(ids):
                return []
        q = np.asarray(query, dtype=np.float32)
        scores = np.empty(len(ids), dtype=np.float32)
        for a in range(0, len(ids), BLOCK):
            scores[a:a + BLOCK] = mat[a:a + BLOCK].astype(np.float32) @ q
        k = min(max(limit * RERANK, limit), len(scores))
        cand = np.argpartition(-scores, k - 1)[:k]
        exact = self._exact(model, ids[cand], q)
        ranked = sorted(((float(exact.get(int(ids[i]), scores[i] / 127.0)), int(ids[i])) for i in cand), reverse=True)
        return [(sid, score) for score, sid in ranked[:limit]]

    def _exact(self, model: str, segment_ids: np.ndarray, q: np.ndarray) -> dict[int, float]:
        """Cosine of ``q`` with the stored float16 vectors of ``segment_ids``."""
        out: dict[int, float] = {}
        sids = [int(x) for x in segment_ids]
        for a in range(0, len(sids), 500):
            part = sids[a:a + 500]
            rows = self.conn.execute(
                f"SELECT segment_id, vector FROM segment_vectors WHERE model = ? AND segment_id IN ({','.join('?' * len(part))})",
                (model, *part)).fetchall()
            for sid, blob in rows:
                out[int(sid)] = float(np.frombuffer(blob, dtype=np.float16).astype(np.float32) @ q)
        return out


BLOCK = 65536  # rows converted to float32 at a time (16 MB of scratch for 384 dimensions)
RERANK = 4


def quantise(v: np.ndarray) -> np.ndarray:
    """Unit vectors → int8 (×127, rounded); components of a unit vector lie in [-1, 1]."""
    return np.clip(np.rint(np.asarray(v, dtype=np.float32) * 127.0), -127, 127).astype(np.int8)
