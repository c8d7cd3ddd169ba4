"""Decoding any audio/video file into 16 kHz float32 blocks, a few minutes at a time.

Memory stays bounded for any length: PyAV decodes and resamples frame by frame and we
hand out fixed-size blocks per channel (3.84 MB per minute per channel), never the
whole file. Two-channel files keep their channels apart (0 = mic/You, 1 = system/Them); other
layouts are down-mixed to mono.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from app.core.errors import KithError, NotFound

SR = 16000


@dataclass
class AudioInfo:
    channels: int  # 1 or 2 as we will deliver them
    source_channels: int
    source_rate: int
    duration: float  # seconds (estimate from the container; 0 if unknown)


def _open(path: Path):
    import av

    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if path.is_dir():
        raise KithError(f"{path} is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise KithError(f"{path} is empty (0 bytes)", hint="nothing to transcribe; check the recording")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise KithError(f"{path.name} is not an audio or video file Kith can read ({type(e).__name__})",
                        hint="use a common format such as WAV, MP3, M4A, OGG, FLAC, MP4 or WebM") from e
    if not container.streams.audio:
        container.close()
        raise KithError(f"{path.name} has no audio track")
    if container.streams.audio[0].codec_context is None:  # e.g. a WAV header naming no known codec
        container.close()
        raise KithError(f"{path.name}: its audio track uses no codec Kith can decode",
                        hint="the file may be damaged; convert it to WAV, MP3, M4A, OGG or FLAC")
    return container


def probe(path: Path) -> AudioInfo:
    container = _open(Path(path))
    with container:
        st = container.streams.audio[0]
        ch = st.codec_context.channels or 1
        rate = st.codec_context.sample_rate or 0
        dur = 0.0
        if st.duration is not None and st.time_base is not None:
            dur = float(st.duration * st.time_base)
        elif container.duration:
            dur = container.duration / 1_000_000
    return AudioInfo(channels=2 if ch == 2 else 1, source_channels=ch, source_rate=rate, duration=dur)


def iter_blocks(path: Path, block_seconds: float = 120.0, damage: dict | None = None) -> Iterator[np.ndarray]:
    """Yield float32 arrays of shape (channels, n) with n = block_seconds·16000 (the last
    block shorter). Raises KithError if the file cannot be decoded, or is mostly undecodable.
    ``damage`` (optional) receives ``seconds`` decoded, ``declared`` seconds and ``bad`` frames."""
    import av

    path = Path(path)
    container = _open(path)
    block = int(block_seconds * SR)
    with container:
        st = container.streams.audio[0]
        stereo = (st.codec_context.channels or 1) == 2
        nch = 2 if stereo else 1
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="stereo" if stereo else "mono", rate=SR)
        pending: list[np.ndarray] = []
        have = 0
        decoded_any = False
        good = bad = seen = 0  # audio frames decoded / refused by the decoder; samples handed out
        try:
            frames = container.decode(st)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    frame = None
                except av.error.InvalidDataError:
                    bad += 1
                    continue
                if frame is not None:
                    good += 1
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1, nch).T  # packed s16 → (nch, n)
                    pending.append(arr)
                    have += arr.shape[1]
                    decoded_any = True
                    while have >= block:
                        cat = np.concatenate(pending, axis=1)
                        rest = cat[:, block:].copy()
                        out_block = cat[:, :block].astype(np.float32)
                        del cat
                        pending, have = [rest], rest.shape[1]
                        seen += block
                        out_block *= 1.0 / 32768.0
                        yield out_block
                if frame is None:
                    break
        except av.error.FFmpegError as e:
            if not decoded_any:
                raise KithError(f"{path.name} could not be decoded ({type(e).__name__}: {e})",
                                hint="the file may be damaged or not audio") from e
            bad += 1  # a damaged tail: keep what was decoded
        if damage is not None:
            dur = float(st.duration * st.time_base) if st.duration is not None and st.time_base is not None else 0.0
            damage.update(bad=bad, declared=dur, seconds=0.0)
        if bad and bad >= good:  # mostly garbage (random bytes, a scrambled FLAC): not a recording
            raise KithError(f"{path.name} is damaged: {bad} of {good + bad} audio frames could not be decoded",
                            hint="the file may be corrupt or not really audio; nothing was stored")
        if not decoded_any:
            raise KithError(f"{path.name} holds no audio samples that could be decoded",
                            hint="the file may be empty, truncated or not really audio; nothing was stored")
        if damage is not None:
            damage["seconds"] = seen / SR + have / SR
        if have:
            out_block = np.concatenate(pending, axis=1).astype(np.float32)
            out_block *= 1.0 / 32768.0
            yield out_block
