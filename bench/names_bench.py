"""Name error rate with and without the meeting's context (as the initial prompt, and as ``hotwords``).

    .venv/bin/python bench/names_bench.py [--model tiny.en] [--voices en-us,en-gb+f2]

Each case is a short two-channel-style line spoken by espeak-ng that says one attendee's first
name twice ("Hi Kofi, thanks for joining. … Kofi, can you send …"). The context is what Kith
knows of that meeting: the four invitees (the spoken one among three others), the user and a
company — built by :func:`app.transcribe.context.hotwords`, as the pipeline does. Reported, in
the same run and on the same audio: the name error rate (share of spoken name occurrences not
in the transcript, case-insensitive) before and after, per name and overall, plus the word error
rate of name-free control lines (the context must not hurt them).
"""
from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.transcribe.context import hotwords, names_prompt  # noqa: E402

# short or unusual first names (several of them misheard by tiny.en on espeak speech) and common ones
NAMES = ["Kofi", "Tove", "Zoe", "Wren", "Ilse", "Anouk", "Ines", "Jo", "Dana", "Leo", "Nia", "Ravi", "Siobhan", "Kai"]
OTHERS = ["Marta Rossi", "Hugo Lind", "Priya Shah"]
LINES = ["Hi {n}, thanks for joining. {n}, can you send the report by Friday?",
         "Thanks {n}. I think {n} should lead the security review next week."]
CONTROL = ["We reviewed the budget for the next quarter and it looks reasonable.",
           "The main risk is the timeline for the data migration.",
           "Could we schedule a follow up with the vendor next week?"]


def speak(text: str, voice: str):
    from faster_whisper.audio import decode_audio

    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "--stdout", text], capture_output=True, check=True).stdout
    return decode_audio(io.BytesIO(wav), sampling_rate=16000)


MODES = ("before", "hotwords", "prompt")


def run(lw, audio, names, mode="prompt"):
    """Decode like app.transcribe.file does; ``names`` go in as hotwords or as the initial prompt."""
    kw = {} if not names or mode == "before" else ({"hotwords": names} if mode == "hotwords" else
                                                   {"initial_prompt": names_prompt(names)})
    segs, _ = lw.model.transcribe(audio, language="en", task="transcribe", beam_size=1, vad_filter=True,
                                  word_timestamps=True, condition_on_previous_text=True, **kw)
    return " ".join(s.text.strip() for s in segs)


def words(t: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", t.lower())


def wer(ref: str, hyp: str) -> tuple[int, int]:
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--voices", default="en-us,en-gb+f2")
    ap.add_argument("--names", default=",".join(NAMES))
    a = ap.parse_args(argv)
    from app.core.paths import Paths
    from app.transcribe.engine import WhisperCache

    lw = WhisperCache(Paths.from_env(dict(os.environ))).get(a.model, 2)
    voices, names = a.voices.split(","), a.names.split(",")
    tot = {m: [0, 0] for m in MODES}
    print(f"model {a.model}; voices {voices}; {len(names)} names x {len(LINES)} lines x {len(voices)} voices "
          "(machine shared with other jobs: figures are counts, not timings)")
    for n in names:
        ctx = hotwords([f"{n} Okafor", *OTHERS], ["Sam Reed"], ["Northwind Ledger"])
        miss = {m: 0 for m in MODES}
        said = 0
        for v in voices:
            for line in LINES:
                audio = speak(line.format(n=n), v)
                k = line.count("{n}")
                said += k
                for key in MODES:
                    got = words(run(lw, audio, ctx, key)).count(n.lower())
                    miss[key] += max(0, k - got)
        for key in tot:
            tot[key][0] += miss[key]
            tot[key][1] += said
        print(f"  {n:8} said {said:2}  missed " + "  ".join(f"{m} {miss[m]:2}" for m in MODES), flush=True)
    ctl = {m: [0, 0] for m in MODES}
    ctx = hotwords(["Kofi Okafor", *OTHERS], ["Sam Reed"], ["Northwind Ledger"])
    for v in voices:
        for line in CONTROL:
            audio = speak(line, v)
            for key in MODES:
                e, n = wer(line, run(lw, audio, ctx, key))
                ctl[key][0] += e
                ctl[key][1] += n
    print("name error rate: " + "  ".join(f"{m} {tot[m][0] / max(tot[m][1], 1):.1%} ({tot[m][0]}/{tot[m][1]})"
                                          for m in MODES))
    print("control WER (no names): " + "  ".join(f"{m} {ctl[m][0] / max(ctl[m][1], 1):.1%}" for m in MODES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
