"""The encrypted, chunked, append-only recording file (``.krec``).

Layout (all integers big-endian)::

    header  52 bytes: b"KREC" | version u8 | codec u8 | channels u8 | reserved u8 |
                      sample_rate u32 | created_at_us i64 | file_id 16B | header_tag 16B
    record  (repeated): b"KC" | type u8 | n_frames u32 | length u32 | ciphertext (length bytes)

Every record is sealed with AES-256-GCM under a per-file key, HKDF(recordings key, salt =
file_id). The nonce is the record counter, and the associated data binds the header's first
36 bytes, the record index, its type and frame count — so a changed byte, a reordered,
dropped or spliced record is detected. ``header_tag`` is a GCM tag over the header itself:
a wrong key is told apart from a damaged chunk before anything is read or written.

Records: META (JSON: devices, app), AUDIO (int16 interleaved PCM), MARK (JSON: pause,
resume, device lost, gap), END (JSON: frames, state). A file without END is unfinished;
:func:`recover` truncates a torn tail and appends END.
"""
from __future__ import annotations

import json
import os
import secrets
import struct
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.errors import KithError, NotFound

MAGIC = b"KREC"
VERSION = 1
CODEC_PCM16 = 0
SUFFIX = ".krec"
_HEAD = struct.Struct(">4sBBBBIq16s")  # 36 bytes, then the 16-byte header tag
HEADER_SIZE = _HEAD.size + 16
_REC = struct.Struct(">2sBII")  # 11 bytes
REC_MAGIC = b"KC"
META, AUDIO, MARK, END = 1, 2, 3, 4
_TYPES = {META, AUDIO, MARK, END}
_MAX_RECORD = 64 * 1024 * 1024
TAG = 16


class RecordingKeyError(KithError):
    pass


@dataclass(frozen=True)
class Header:
    version: int
    codec: int
    channels: int
    sample_rate: int
    created_at: datetime
    file_id: bytes
    raw: bytes  # the 36 authenticated bytes


def _file_key(key: bytes, file_id: bytes) -> AESGCM:
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise KithError("recording key must be 32 bytes", hint="derive it with app.store.keys.derive_subkey(master, 'recordings')")
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=file_id, info=b"kith-krec-v1").derive(bytes(key))
    return AESGCM(k)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


_HEADER_NONCE = b"\xff" * 12


def _aad(header_raw: bytes, index: int, rtype: int, n_frames: int) -> bytes:
    return header_raw + struct.pack(">QBI", index, rtype, n_frames)


def new_recording_id(created: datetime, file_id: bytes) -> str:
    return f"{created:%Y%m%d-%H%M%S}-{file_id.hex()[:6]}"


def _lock(f) -> bool:
    """Exclusive advisory lock on an open file; False if another process holds it."""
    try:
        if sys.platform == "win32":  # pragma: no cover - not testable here
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _parse_header(data: bytes, path: Path) -> Header:
    if len(data) < HEADER_SIZE or data[:4] != MAGIC:
        raise KithError(f"{path.name}: not a Kith recording", hint="recordings end in .krec and start with KREC")
    magic, version, codec, channels, _r, rate, created_us, file_id = _HEAD.unpack(data[: _HEAD.size])
    if version != VERSION or codec != CODEC_PCM16 or channels < 1 or rate <= 0:
        raise KithError(f"{path.name}: unsupported recording version {version}/codec {codec}", hint="update Kith")
    created = datetime.fromtimestamp(created_us / 1e6, tz=timezone.utc)
    return Header(version, codec, channels, rate, created, file_id, data[: _HEAD.size])


def _check_key(aead: AESGCM, header: Header, tag: bytes, path: Path) -> None:
    try:
        aead.decrypt(_HEADER_NONCE, tag, header.raw)
    except InvalidTag:
        raise RecordingKeyError(
            f"{path.name}: cannot decrypt the recording — wrong key (or a damaged header)",
            hint="recordings open only with the key of the Kith profile that made them; nothing was changed",
        ) from None


class RecordingWriter:
    """Appends sealed records; every ``write_audio`` is flushed and fsync'd (call it ~once a second)."""

    def __init__(self, directory: Path, key: bytes, sample_rate: int, channels: int = 2, meta: dict | None = None):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.file_id = secrets.token_bytes(16)
        self.created_at = datetime.now(timezone.utc)
        self.id = new_recording_id(self.created_at, self.file_id)
        self.path = directory / f"{self.id}{SUFFIX}"
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._aead = _file_key(key, self.file_id)
        raw = _HEAD.pack(MAGIC, VERSION, CODEC_PCM16, self.channels, 0, self.sample_rate,
                         int(self.created_at.timestamp() * 1e6), self.file_id)
        self._header_raw = raw
        tag = self._aead.encrypt(_HEADER_NONCE, b"", raw)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        self._f = os.fdopen(fd, "wb", buffering=0)
        _lock(self._f)
        self._f.write(raw + tag)
        self.index = 0
        self.frames = 0
        self.bytes_written = HEADER_SIZE
        self.closed = False
        self._write(META, 0, json.dumps(meta or {}).encode())
        self._sync()
        self._fsync_dir(directory)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        if sys.platform == "win32":  # pragma: no cover
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write(self, rtype: int, n_frames: int, payload: bytes) -> None:
        if self.closed:
            raise KithError("recording already finished")
        ct = self._aead.encrypt(_nonce(self.index), payload, _aad(self._header_raw, self.index, rtype, n_frames))
        self._f.write(_REC.pack(REC_MAGIC, rtype, n_frames, len(ct)) + ct)
        self.index += 1
        self.bytes_written += _REC.size + len(ct)

    def _sync(self) -> None:
        os.fsync(self._f.fileno())

    def write_audio(self, frames: np.ndarray, sync: bool = True) -> None:
        """``frames``: float32 in [-1, 1] or int16, shape [n, channels]."""
        frames = np.asarray(frames)
        if frames.ndim != 2 or frames.shape[1] != self.channels:
            raise ValueError(f"expected [n, {self.channels}] frames, got {frames.shape}")
        if frames.dtype != np.int16:
            frames = to_int16(frames)
        if len(frames) == 0:
            return
        self._write(AUDIO, len(frames), np.ascontiguousarray(frames).astype("<i2", copy=False).tobytes())
        self.frames += len(frames)
        if sync:
            self._sync()

    def mark(self, kind: str, **info) -> None:
        self._write(MARK, 0, json.dumps({"kind": kind, "frame": self.frames, **info}).encode())

    def close(self, state: str = "finished", **info) -> None:
        if self.closed:
            return
        self._write(END, 0, json.dumps({"frames": self.frames, "state": state,
                                        "ended_at": datetime.now(timezone.utc).isoformat(), **info}).encode())
        self._sync()
        self._f.close()
        self.closed = True


def to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


@dataclass
class ChunkProblem:
    index: int
    offset: int
    message: str


@dataclass
class RecordingInfo:
    id: str
    path: Path
    created_at: datetime
    sample_rate: int
    channels: int
    frames: int  # audio frames according to the (unauthenticated) record framing
    state: str  # finished | recovered | unfinished
    size: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _scan_framing(f, size: int) -> tuple[int, int, int | None]:
    """Walk record headers without decrypting: (audio frames, end of last whole record, END type seen or None)."""
    pos, frames, last_type = HEADER_SIZE, 0, None
    f.seek(pos)
    while pos + _REC.size <= size:
        magic, rtype, n, length = _REC.unpack(f.read(_REC.size))
        if magic != REC_MAGIC or rtype not in _TYPES or length > _MAX_RECORD or pos + _REC.size + length > size:
            break
        pos += _REC.size + length
        f.seek(pos)
        last_type = rtype
        if rtype == AUDIO:
            frames += n
    return frames, pos, last_type


def info(path: Path) -> RecordingInfo:
    """What can be told without the key: id, rate, frames (from the framing) and state."""
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header = _parse_header(f.read(HEADER_SIZE), path)
        frames, _end, last = _scan_framing(f, size)
        state = "finished" if last == END else "unfinished"  # "recovered" needs the key (END is sealed)
    return RecordingInfo(path.stem, path, header.created_at, header.sample_rate, header.channels, frames, state, size)


class RecordingReader:
    """Streams a recording back as PCM. Damaged chunks are reported in ``problems`` and replaced
    by silence of the same length (so timestamps stay right); the rest decodes."""

    def __init__(self, path: Path, key: bytes):
        self.path = Path(path)
        if not self.path.exists():
            raise NotFound(f"no recording at {self.path}")
        with open(self.path, "rb") as f:
            head = f.read(HEADER_SIZE)
        self.header = _parse_header(head, self.path)
        self._aead = _file_key(key, self.header.file_id)
        _check_key(self._aead, self.header, head[_HEAD.size:HEADER_SIZE], self.path)
        self.sample_rate = self.header.sample_rate
        self.channels = self.header.channels
        self.problems: list[ChunkProblem] = []
        self.marks: list[dict] = []
        self.meta: dict = {}
        self.end: dict | None = None

    @property
    def id(self) -> str:
        return self.path.stem

    def _records(self) -> Iterator[tuple[int, int, int, bytes | None, int]]:
        """(index, type, n_frames, plaintext or None if damaged, offset just past the record)."""
        with open(self.path, "rb") as f:
            data_size = os.fstat(f.fileno()).st_size
            pos, index = HEADER_SIZE, 0
            while pos < data_size:
                f.seek(pos)
                head = f.read(_REC.size)
                if len(head) < _REC.size:
                    self.problems.append(ChunkProblem(index, pos, "torn record at the end (unfinished recording)"))
                    return
                magic, rtype, n, length = _REC.unpack(head)
                if magic != REC_MAGIC or rtype not in _TYPES or length > _MAX_RECORD:
                    nxt = self._resync(f, pos + 1, data_size, index)
                    self.problems.append(ChunkProblem(index, pos, "damaged record framing; skipped to the next chunk"))
                    if nxt is None:
                        return
                    pos, index = nxt
                    continue
                if pos + _REC.size + length > data_size:
                    self.problems.append(ChunkProblem(index, pos, "torn record at the end (unfinished recording)"))
                    return
                ct = f.read(length)
                try:
                    pt = self._aead.decrypt(_nonce(index), ct, _aad(self.header.raw, index, rtype, n))
                except InvalidTag:
                    pt = None
                    self.problems.append(ChunkProblem(index, pos, "chunk failed authentication (corrupt or tampered); skipped"))
                pos += _REC.size + length
                yield index, rtype, n, pt, pos
                index += 1

    def _resync(self, f, start: int, size: int, index: int) -> tuple[int, int] | None:
        """Find the next record that authenticates at index+1..index+3 after damaged framing."""
        f.seek(start)
        blob = f.read(min(size - start, 4 * 1024 * 1024))
        at = blob.find(REC_MAGIC)
        while at != -1:
            pos = start + at
            if at + _REC.size <= len(blob):
                magic, rtype, n, length = _REC.unpack(blob[at:at + _REC.size])
                if rtype in _TYPES and pos + _REC.size + length <= size:
                    ct = blob[at + _REC.size:at + _REC.size + length]
                    for cand in range(index + 1, index + 4):
                        try:
                            self._aead.decrypt(_nonce(cand), ct, _aad(self.header.raw, cand, rtype, n))
                            return pos, cand
                        except InvalidTag:
                            continue
            at = blob.find(REC_MAGIC, at + 1)
        return None

    def blocks(self, dtype: str = "float32") -> Iterator[np.ndarray]:
        """Audio as arrays [n, channels] (float32 in [-1, 1], or int16), one per ~1 s chunk."""
        self.problems.clear()
        self.marks.clear()
        for _index, rtype, n, pt, _end in self._records():
            if rtype == AUDIO:
                if pt is None:
                    pcm = np.zeros((n, self.channels), dtype=np.int16)
                else:
                    pcm = np.frombuffer(pt, dtype="<i2").reshape(-1, self.channels)
                yield pcm.astype(np.float32) / 32768.0 if dtype == "float32" else pcm.astype(np.int16)
            elif pt is None:
                continue
            elif rtype == META:
                self.meta = json.loads(pt)
            elif rtype == MARK:
                self.marks.append(json.loads(pt))
            elif rtype == END:
                self.end = json.loads(pt)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.blocks("float32")

    @property
    def seconds(self) -> float:
        """Length from the framing (no decryption)."""
        return info(self.path).seconds

    def read_all(self, dtype: str = "float32") -> np.ndarray:
        parts = list(self.blocks(dtype))
        if not parts:
            return np.zeros((0, self.channels), dtype=np.float32 if dtype == "float32" else np.int16)
        return np.concatenate(parts)

    @property
    def finished(self) -> bool:
        return self.end is not None


@dataclass
class RecoveryResult:
    path: Path
    action: str  # recovered | skipped_locked | error
    frames: int = 0
    truncated_bytes: int = 0
    message: str = ""
    problems: list[ChunkProblem] = field(default_factory=list)
    sample_rate: int = 0

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def find_unfinished(directory: Path) -> list[Path]:
    out = []
    for p in sorted(Path(directory).glob(f"*{SUFFIX}")):
        try:
            if info(p).state == "unfinished":
                out.append(p)
        except (KithError, OSError, struct.error):
            out.append(p)
    return out


def recover(paths: list[Path] | Path, key: bytes) -> list[RecoveryResult]:
    """Finalize unfinished recordings: keep every record that authenticates, truncate a torn or
    undecodable tail, append an END record (state "recovered"). A file another process is still
    writing (locked) is left alone; a wrong key changes nothing."""
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        paths = find_unfinished(Path(paths))
    results = []
    for p in [Path(x) for x in paths]:
        try:
            results.append(_recover_one(p, key))
        except KithError as e:
            results.append(RecoveryResult(p, "error", message=str(e)))
    return results


def _recover_one(path: Path, key: bytes) -> RecoveryResult:
    reader = RecordingReader(path, key)  # checks the key before anything is touched
    with open(path, "r+b") as f:
        if not _lock(f):
            return RecoveryResult(path, "skipped_locked", message="still being written by another Kith process")
        size = os.fstat(f.fileno()).st_size
        good_end, last_index, frames, frames_at_good = HEADER_SIZE, -1, 0, 0
        for index, rtype, n, pt, end_pos in reader._records():
            if rtype == END and pt is not None:
                return RecoveryResult(path, "already_finished")
            if rtype == AUDIO:
                frames += n
            if pt is not None:  # the tail after the last authentic record is cut
                good_end, last_index, frames_at_good = end_pos, index, frames
        truncated = size - good_end
        f.truncate(good_end)
        idx = last_index + 1
        end = json.dumps({"frames": frames_at_good, "state": "recovered", "truncated_bytes": truncated,
                          "ended_at": datetime.now(timezone.utc).isoformat()}).encode()
        ct = reader._aead.encrypt(_nonce(idx), end, _aad(reader.header.raw, idx, END, 0))
        f.seek(good_end)
        f.write(_REC.pack(REC_MAGIC, END, 0, len(ct)) + ct)
        f.flush()
        os.fsync(f.fileno())
    problems = [p for p in reader.problems if "torn" not in p.message and p.offset < good_end]
    return RecoveryResult(path, "recovered", frames=frames_at_good, truncated_bytes=truncated, problems=problems,
                          sample_rate=reader.sample_rate)


def export_plain(path: Path, key: bytes, out: Path, format: str = "wav", overwrite: bool = False) -> Path:
    """Write a plain (unencrypted) copy — only when the user asks. Atomic; refuses to overwrite."""
    import soundfile as sf

    fmt = format.lower()
    if fmt not in ("wav", "flac"):
        raise KithError(f"unknown export format {format!r}", hint="use wav or flac")
    out = Path(out)
    if out.exists() and not overwrite:
        raise KithError(f"{out} already exists", hint="choose another output path or remove the file")
    reader = RecordingReader(path, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # owner-only before any sample
        os.chmod(tmp, 0o600)
        with sf.SoundFile(tmp, "w", samplerate=reader.sample_rate, channels=reader.channels,
                          subtype="PCM_16", format=fmt.upper()) as snd:
            for block in reader.blocks(dtype="int16"):
                snd.write(block)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
