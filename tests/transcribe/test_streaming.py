"""Live transcription with the real tiny.en model, fed from a separate thread like the
capture engine does."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from app.core.config import TranscribeSettings
from app.core.events import EventBus
from app.transcribe.events import CaughtUp, FinalSegment, Lagging, PartialSegment, StreamError
from app.transcribe.file import transcribe_file
from app.transcribe.streaming import StreamingTranscriber

from .speech import SR, wer


def feed_paced(st: StreamingTranscriber, audio: np.ndarray, pace: float = 1.0, chunk_s: float = 0.1, channel=0):
    """Feed from another thread, ``pace`` × real time (1.0 = true real time)."""
    def run():
        n = int(chunk_s * SR)
        t0 = time.monotonic()
        for k, i in enumerate(range(0, len(audio), n)):
            st.feed(audio[i:i + n], channel=channel if not callable(channel) else channel(k))
            delay = t0 + (k + 1) * chunk_s / pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    t = threading.Thread(target=run)
    t.start()
    t.join()


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def __call__(self, ev):
        with self.lock:
            self.events.append(ev)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def final_text(self):
        return " ".join(e.segment.text for e in sorted(self.of(FinalSegment), key=lambda e: e.segment.start))


@pytest.mark.slow
def test_real_time_60s_partials_and_finals_match_file(story, session_paths, settings, tiny):
    path, audio, truth = story
    ref = " ".join(t for _, _, t in truth)
    assert 50 < len(audio) / SR < 75
    file_wer = wer(ref, transcribe_file(path, session_paths, settings, model=tiny).text)
    rec = Recorder()
    st = StreamingTranscriber(tiny, on_event=rec)
    feed_paced(st, audio, pace=1.0)  # true real time: ~60 s
    st.close()
    finals, partials = rec.of(FinalSegment), rec.of(PartialSegment)
    assert len(finals) >= len(truth) * 0.7
    assert len(partials) >= len(truth)  # text appears while people speak
    assert not rec.of(StreamError)
    live_wer = wer(ref, rec.final_text)
    assert live_wer <= file_wer + 0.05, (live_wer, file_wer, rec.final_text)
    segs = [e.segment for e in finals]
    assert all(s.speaker == "You" and s.channel == 0 and s.words for s in segs)
    assert all(0 <= s.start < s.end <= len(audio) / SR + 0.1 for s in segs)
    for p in partials:  # partial text belongs to the utterance being spoken at that time
        assert 0 <= p.start < p.end <= len(audio) / SR + 0.1


def test_overload_says_lagging_then_catches_up_without_dropping(story, session_paths, settings, tiny):
    path, audio, truth = story
    ref = " ".join(t for _, _, t in truth)
    file_wer = wer(ref, transcribe_file(path, session_paths, settings, model=tiny).text)
    rec = Recorder()
    bus = EventBus()
    bus.subscribe(Lagging, rec)
    bus.subscribe(CaughtUp, rec)
    bus.subscribe(FinalSegment, rec)
    st = StreamingTranscriber(tiny, bus=bus)
    feed_paced(st, audio, pace=12.0)  # far faster than two cores can transcribe
    st.close()
    kinds = [type(e) for e in rec.events if isinstance(e, (Lagging, CaughtUp))]
    assert kinds and kinds[0] is Lagging and kinds[-1] is CaughtUp
    assert max(e.behind_seconds for e in rec.of(Lagging)) > 3
    assert wer(ref, rec.final_text) <= file_wer + 0.05, rec.final_text  # nothing dropped


def test_two_channels_fed_together_get_their_speakers(dialogue_wav, tiny):
    path, truth = dialogue_wav
    stereo, sr = sf.read(path, dtype="float32")
    rec = Recorder()
    st = StreamingTranscriber.from_settings(tiny, TranscribeSettings(), on_event=rec, partials=False)
    n = SR // 10
    for i in range(0, len(stereo), n):  # as the recorder would: both channels, same cadence
        if i % (2 * n):
            st.feed(stereo[i:i + n])  # a (n, 2) block feeds channels 0 and 1
        else:
            st.feed(stereo[i:i + n, 0], channel=0)
            st.feed(stereo[i:i + n, 1], channel=1)
    st.close()
    segs = [e.segment for e in rec.of(FinalSegment)]
    assert len(segs) >= len(truth) * 0.8

    def true_channel(t):
        return min(truth, key=lambda u: 0 if u[1] <= t <= u[2] else min(abs(t - u[1]), abs(t - u[2])))[0]

    right = sum(s.channel == true_channel((s.start + s.end) / 2) and s.speaker == ("You", "Them")[s.channel]
                for s in segs)
    assert right / len(segs) >= 0.9


def test_feed_never_blocks_and_resamples_48k(jfk_wav, jfk_ref, tiny):
    import subprocess

    a48 = subprocess.run(["sox", str(jfk_wav), "-r", "48000", "-t", "raw", "-e", "floating-point", "-b", "32", "-"],
                         capture_output=True, check=True).stdout
    audio = np.frombuffer(a48, dtype=np.float32)
    rec = Recorder()
    st = StreamingTranscriber(tiny, sample_rate=48000, on_event=rec)
    t0 = time.monotonic()
    for i in range(0, len(audio), 480):  # 10 ms chunks, all at once: the worker is far behind
        st.feed(audio[i:i + 480])
    feeding = time.monotonic() - t0
    st.close()
    assert feeding < 1.0  # 1100 feed() calls while the worker is busy: a queue, no waiting
    assert wer(jfk_ref, rec.final_text) <= 0.1, rec.final_text


def test_silence_and_handler_errors(tiny):
    seen = []

    def bad_handler(ev):
        seen.append(ev)
        raise RuntimeError("subscriber bug")

    st = StreamingTranscriber(tiny, on_event=bad_handler)
    st.feed(np.zeros(SR * 5, np.float32))
    st.feed((np.random.default_rng(0).normal(0, 0.002, SR * 5)).astype(np.float32))
    st.close()
    assert not [e for e in seen if isinstance(e, (FinalSegment, PartialSegment))]
    with pytest.raises(RuntimeError, match="closed"):
        st.feed(np.zeros(10, np.float32))


def test_handler_exception_does_not_stop_transcription(jfk_wav, jfk_ref, tiny):
    audio, _ = sf.read(jfk_wav, dtype="float32")
    got = []

    def handler(ev):
        if isinstance(ev, FinalSegment):
            got.append(ev.segment.text)
            if len(got) == 1:
                raise RuntimeError("first handler call fails")

    st = StreamingTranscriber(tiny, on_event=handler, partials=False)
    st.feed(audio)
    st.close()
    assert wer(jfk_ref, " ".join(got)) <= 0.15
