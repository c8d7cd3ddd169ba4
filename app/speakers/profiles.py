"""Voice profiles: a confirmed person's voice embedding, kept in the encrypted CRM.

One row per confirmation (a person renamed/confirmed in a meeting); a person's profile is the
normalised mean of their rows for the current encoder model. Rows cascade away with the contact,
so erasing a person erases their voice (``app.store.rights.erase_person`` deletes the contact).
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from app.speakers.weights import MODEL_NAME

# The table is created by the store's migration m002_voice_profiles (its one schema).

# cosine similarity of a meeting speaker's voice to a stored profile; tuned on the scripted voices
# (espeak voices: same voice across meetings 0.94–0.99, closest other voice ≤ 0.85; real voices over
# different microphones score lower — a miss leaves "Speaker N", which is the safe side)
MATCH_THRESHOLD = 0.90
MATCH_MARGIN = 0.04


def add_profile(store, contact_id: int, embedding: np.ndarray, meeting_id: int | None = None,
                model: str = MODEL_NAME) -> int:
    emb = np.asarray(embedding, dtype="<f4").ravel()
    if emb.size == 0 or not np.all(np.isfinite(emb)):
        raise ValueError("empty or invalid voice embedding")
    with store.transaction():
        store.contacts.get(contact_id)  # NotFound for an unknown person
        cur = store.conn.execute(
            "INSERT INTO voice_profiles (contact_id, embedding, model, meeting_id, created_at) VALUES (?,?,?,?,?)",
            (contact_id, emb.tobytes(), model, meeting_id, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        return int(cur.lastrowid)


def profiles(store, model: str = MODEL_NAME) -> dict[int, np.ndarray]:
    """contact id → normalised mean voice embedding (for ``model``)."""
    rows = store.conn.execute("SELECT contact_id, embedding FROM voice_profiles WHERE model = ?", (model,)).fetchall()
    by: dict[int, list[np.ndarray]] = {}
    for cid, blob in rows:
        by.setdefault(int(cid), []).append(np.frombuffer(blob, dtype="<f4").astype(np.float32))
    out = {}
    for cid, embs in by.items():
        m = np.mean(embs, axis=0)
        out[cid] = m / max(float(np.linalg.norm(m)), 1e-12)
    return out


def count(store, contact_id: int | None = None) -> int:
    if contact_id is None:
        return store.conn.execute("SELECT count(*) FROM voice_profiles").fetchone()[0]
    return store.conn.execute("SELECT count(*) FROM voice_profiles WHERE contact_id = ?", (contact_id,)).fetchone()[0]


def delete_for_contact(store, contact_id: int) -> int:
    with store.transaction():
        return store.conn.execute("DELETE FROM voice_profiles WHERE contact_id = ?", (contact_id,)).rowcount


def match(centroids: dict[str, np.ndarray], known: dict[int, np.ndarray], threshold: float = MATCH_THRESHOLD,
          margin: float = MATCH_MARGIN) -> dict[str, tuple[int, float]]:
    """label → (contact id, similarity) for labels whose voice clearly matches one stored person.

    A match needs similarity ≥ ``threshold``, a lead of ``margin`` over the next person, and must be
    mutual: no other label of the meeting sounds more like that person.
    """
    if not centroids or not known:
        return {}
    labels = list(centroids)
    cids = list(known)
    a = np.stack([centroids[lab] for lab in labels])
    b = np.stack([known[c] for c in cids])
    sim = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ b.T
    out = {}
    for i, lab in enumerate(labels):
        order = np.argsort(-sim[i])
        j = int(order[0])
        best = float(sim[i, j])
        second = float(sim[i, order[1]]) if len(order) > 1 else -1.0
        if best >= threshold and best - second >= margin and int(np.argmax(sim[:, j])) == i:
            out[lab] = (cids[j], best)
    return out


def move_to(store, from_contact: int, to_contact: int) -> int:
    """Give ``from_contact``'s voice rows to ``to_contact`` (merging two records of one person)."""
    with store.transaction():
        return store.conn.execute("UPDATE voice_profiles SET contact_id = ? WHERE contact_id = ?",
                                  (to_contact, from_contact)).rowcount
