#!/usr/bin/env python3
"""Re-create the real-meeting files of the quality corpus from QMSum's TRAIN split.

    python bench/data/make_ami.py /path/to/QMSum   # a checkout of github.com/Yale-LILY/QMSum

QMSum (MIT licence) carries AMI meeting transcripts (AMI Meeting Corpus, CC BY 4.0) with
human reference summaries ("Summarize the whole meeting."). Only data/ALL/train is read —
never the val/test splits. Disfluency markers ({vocalsound}, {disfmarker}, …) are removed and
the tokenised punctuation re-attached; speakers keep their AMI role names. Start times are
synthetic (150 words a minute): QMSum has no timestamps.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MEETINGS = ["ES2005a", "IS1004a", "ES2010a", "ES2013a", "IS1001d", "TS3012a", "IS1007b"]
HERE = Path(__file__).resolve().parent


def clean(text: str) -> str:
    t = re.sub(r"\{[a-z_]+\}", " ", text)
    t = re.sub(r"\s+([.,?!])", r"\1", t)
    t = re.sub(r"\s+'", "'", t)
    t = re.sub(r"\b(\w+) \1\b", r"\1", t)  # "our our" → "our"
    return " ".join(t.split()).strip(" ,")


def convert(src: Path, mid: str) -> dict:
    d = json.loads((src / "data" / "ALL" / "train" / f"{mid}.json").read_text())
    segs, clock = [], 0.0
    for turn in d["meeting_transcripts"]:
        text = clean(turn["content"])
        if len(text.strip(" .,?!")) < 2:
            continue
        dur = max(1.0, len(text.split()) / 2.5)
        segs.append({"start": round(clock, 1), "end": round(clock + dur, 1), "speaker": turn["speaker"], "text": text})
        clock += dur
    return {
        "id": f"ami-{mid}",
        "kind": "real",
        "source": f"QMSum train split, data/ALL/train/{mid}.json (AMI Meeting Corpus, CC BY 4.0)",
        "title": "Remote control design project meeting",
        "date": "2026-03-02",
        "user_name": "You",
        "attendees": [],
        "segments": segs,
        "labels": {
            "summary": d["general_query_list"][0]["answer"],
            "people": sorted({t["speaker"] for t in d["meeting_transcripts"]}),
        },
    }


if __name__ == "__main__":
    src = Path(sys.argv[1])
    for mid in MEETINGS:
        m = convert(src, mid)
        (HERE / f"{m['id']}.json").write_text(json.dumps(m, indent=1, ensure_ascii=False) + "\n")
        print(m["id"], len(m["segments"]), "segments", round(m["segments"][-1]["end"] / 60, 1), "min")
