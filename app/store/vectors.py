"""Sentence vectors of transcript lines (table ``segment_vectors``, migration m004_ask_vectors).

Stored as float16 BLOBs inside the encrypted file and searched with numpy over an in-memory copy,
loaded once per Store:

* int8 (each unit vector × 127): a quarter of float32's memory (1M lines of 384 dimensions take
  384 MB, not 1.5 GB), scored in blocks converted to float32;
* above ``exact_rows`` lines, a scan of every int8 row costs seconds, so one bit per dimension — the
  sign of the vector minus the store's mean vector, 48 bytes a line, kept dimension-word-major so a
  query's Hamming distance to 1M lines is six XOR/popcount passes (~10 ms) — picks ``CANDIDATES``
  lines, and only those are scored from the int8 copy;
* the best ``RERANK × limit`` are re-scored exactly from their stored float16 vectors.

The copy follows the table: rows appended since the load (a newly stored meeting) are read and
added; anything else (another connection's delete, a cascade from a deleted meeting, a line whose
text changed) reloads it. The coarse distances of the last query are kept, so a question searched
in several scopes (a month, then all meetings) scans once."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.store.crm import Repo

BLOCK = 65536  # rows converted to float32 at a time (16 MB of scratch for 384 dimensions)
RERANK = 4
EXACT_ROWS = 131072  # up to this many rows every int8 row is scored (~0.1-0.2 s); above, sign bits pick candidates
CANDIDATES = 10000  # lines the sign bits pass on to int8 scoring (1 % of 1M; ask_bench measures the overlap)


@dataclass
class _Index:
    version: tuple
    sig: tuple
    ids: np.ndarray  # segment ids, ascending
    meetings: np.ndarray
    mat: np.ndarray  # int8 (n, dim)
    bits: np.ndarray | None = None  # uint64 (dim / 64, n): sign bits of mat - centre, built on first need
    centre: np.ndarray | None = None


class Vectors(Repo):
    table = "segment_vectors"
    noun = "segment vector"

    def __init__(self, store, exact_rows: int = EXACT_ROWS, candidates: int = CANDIDATES):
        super().__init__(store)
        self.exact_rows = exact_rows
        self.candidates = candidates
        self._cache: dict[str, _Index] = {}
        self._last: tuple | None = None  # (model, the index, query bytes, distances)

    def put_many(self, model: str, rows: list[tuple[int, int, np.ndarray]]) -> int:
        """(segment_id, meeting_id, vector) rows; replaces what a segment had."""
        for m, c in list(self._cache.items()):  # a replaced row keeps the signature: drop the copy
            if m == model and any(int(s) <= c.sig[1] for s, _m, _v in rows):
                del self._cache[m]
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

    # -- the in-memory copy ------------------------------------------------------------------------
    def _signature(self, model: str, after: int = 0) -> tuple:
        r = self.conn.execute("SELECT count(*), COALESCE(max(segment_id), 0), COALESCE(sum(segment_id), 0) "
                              "FROM segment_vectors WHERE model = ? AND segment_id > ?", (model, after)).fetchone()
        return tuple(r)

    def _read(self, model: str, after: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, meeting ids, int8 rows) of the stored vectors with segment_id > ``after``, in id order."""
        ids: list[np.ndarray] = []
        mids: list[np.ndarray] = []
        mats: list[np.ndarray] = []
        cur = self.conn.execute("SELECT segment_id, meeting_id, vector FROM segment_vectors WHERE model = ? "
                                "AND segment_id > ? ORDER BY segment_id", (model, after))
        while True:
            rows = cur.fetchmany(20000)
            if not rows:
                break
            ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            mids.append(np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)))
            mats.append(quantise(np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float16).reshape(len(rows), -1)))
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 1), np.int8)
        return np.concatenate(ids), np.concatenate(mids), np.concatenate(mats)

    def index(self, model: str) -> _Index:
        """The in-memory copy of ``model``'s vectors, brought up to date with the table."""
        version = (self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes)
        c = self._cache.get(model)
        if c is not None and c.version == version:
            return c
        sig = self._signature(model)
        if c is not None and c.sig == sig:
            c.version = version
            return c
        if c is not None and len(c.ids) and sig[0] > c.sig[0]:
            # only appended? then the rows above the old maximum account for every new row
            new = self._signature(model, after=c.sig[1])
            if c.sig[0] + new[0] == sig[0] and c.sig[2] + new[2] == sig[2]:
                ids, mids, mat = self._read(model, after=c.sig[1])
                if mat.shape[1] == c.mat.shape[1]:
                    c = _Index(version, sig, np.concatenate([c.ids, ids]), np.concatenate([c.meetings, mids]),
                               np.concatenate([c.mat, mat]))
                    self._cache[model] = c
                    return c
        ids, mids, mat = self._read(model)
        c = _Index(version, sig, ids, mids, mat)
        self._cache[model] = c
        return c

    def matrix(self, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment_ids, meeting_ids, unit vectors quantised to int8 ×127 (n, dim)) of every stored line."""
        c = self.index(model)
        return c.ids, c.meetings, c.mat

    @staticmethod
    def _bits(c: _Index) -> None:
        """Sign bits of every row minus the mean row, packed dimension-word-major (dim/64, n) uint64."""
        n, dim = c.mat.shape
        centre = np.zeros(dim, np.float64)
        for a in range(0, n, BLOCK):
            centre += c.mat[a:a + BLOCK].sum(axis=0, dtype=np.int64)
        centre = (centre / max(n, 1)).astype(np.float32)
        words = (dim + 63) // 64
        bits = np.zeros((words, n), dtype=np.uint64)
        for a in range(0, n, BLOCK):
            packed = np.packbits(c.mat[a:a + BLOCK].astype(np.float32) > centre, axis=1)
            packed = np.pad(packed, ((0, 0), (0, words * 8 - packed.shape[1])))
            bits[:, a:a + BLOCK] = packed.view(np.uint64).T
        c.bits, c.centre = bits, centre

    def _distances(self, model: str, c: _Index, q: np.ndarray) -> np.ndarray:
        """Hamming distance of ``q``'s sign bits to every row's (uint16, n), kept for the next call."""
        key = q.tobytes()
        if self._last is not None and self._last[0] == model and self._last[1] is c and self._last[2] == key:
            return self._last[3]
        if c.bits is None:
            self._bits(c)
        qb = np.packbits(q * 127.0 > c.centre)
        qb = np.pad(qb, (0, c.bits.shape[0] * 8 - len(qb))).view(np.uint64)
        dist = np.zeros(c.bits.shape[1], dtype=np.uint16)
        for j in range(c.bits.shape[0]):
            dist += np.bitwise_count(c.bits[j] ^ qb[j])
        self._last = (model, c, key, dist)
        return dist

    def nearest(self, model: str, query: np.ndarray, limit: int = 50,
                meeting_ids: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``limit`` lines closest to ``query`` (cosine), optionally only in ``meeting_ids``.

        Candidates come from the int8 copy (above ``exact_rows`` lines, from the sign bits first);
        the best ``RERANK × limit`` are re-scored exactly."""
        c = self.index(model)
        if not len(c.ids):
            return []
        q = np.asarray(query, dtype=np.float32)
        rows = None  # None = every row
        if meeting_ids is not None:
            rows = np.flatnonzero(np.isin(c.meetings, np.fromiter(meeting_ids, dtype=np.int64)))
            if not len(rows):
                return []
        n = len(c.ids) if rows is None else len(rows)
        if n > self.exact_rows:
            dist = self._distances(model, c, q)
            if rows is not None:
                masked = np.full_like(dist, np.iinfo(np.uint16).max)
                masked[rows] = dist[rows]
                dist = masked
            k = min(max(self.candidates, limit * RERANK), n)
            rows = np.argpartition(dist, k - 1)[:k]
        if rows is None:
            scores = np.empty(n, dtype=np.float32)
            for a in range(0, n, BLOCK):
                scores[a:a + BLOCK] = c.mat[a:a + BLOCK].astype(np.float32) @ q
            rows = np.arange(n)
        else:
            scores = np.empty(len(rows), dtype=np.float32)
            for a in range(0, len(rows), BLOCK):
                scores[a:a + BLOCK] = c.mat[rows[a:a + BLOCK]].astype(np.float32) @ q
        k = min(max(limit * RERANK, limit), len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        sids = c.ids[rows[best]]
        exact = self._exact(model, sids, q)
        ranked = sorted(((float(exact.get(int(sid), sc / 127.0)), int(sid)) for sid, sc in zip(sids, scores[best])),
                        reverse=True)
        return [(sid, score) for score, sid in ranked[:limit]]

    def _exact(self, model: str, segment_ids: np.ndarray, q: np.ndarray) -> dict[int, float]:
        """Cosine of ``q`` with the stored float16 vectors of ``segment_ids``."""
        out: dict[int, float] = {}
        sids = [int(x) for x in segment_ids]
        for a in range(0, len(sids), 500):
            part = sids[a:a + 500]
            rows = self.conn.execute(
                # by primary key: with a long IN list the planner would otherwise walk the model index (every row)
                f"SELECT segment_id, vector FROM segment_vectors WHERE segment_id IN ({','.join('?' * len(part))}) "
                "AND +model = ?", (*part, model)).fetchall()
            for sid, blob in rows:
                out[int(sid)] = float(np.frombuffer(blob, dtype=np.float16).astype(np.float32) @ q)
        return out


def quantise(v: np.ndarray) -> np.ndarray:
    """Unit vectors → int8 (×127, rounded); components of a unit vector lie in [-1, 1]."""
    return np.clip(np.rint(np.asarray(v, dtype=np.float32) * 127.0), -127, 127).astype(np.int8)
