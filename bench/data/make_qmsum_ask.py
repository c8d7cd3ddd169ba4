#!/usr/bin/env python3
"""Write bench/data/ask/qmsum.json: real questions with known answer lines, from QMSum's TRAIN split.

    python bench/data/make_qmsum_ask.py /path/to/QMSum   # a checkout of github.com/Yale-LILY/QMSum

QMSum (MIT licence; AMI CC BY 4.0, ICSI, Welsh Parliament and Parliament of Canada transcripts)
gives each meeting "specific queries" written by its annotators, each with the transcript turns
that answer it (``relevant_text_span``, inclusive turn ranges). Nobody on the team wrote these
questions or chose their answer lines, so they are the held-out set for `bench/ask_qmsum_bench.py`.
Only data/ALL/train is read — never val/test. Meetings are picked one per series/topic so a
question is about one meeting of the store (see MEETINGS). Turns are cleaned like make_ami.py;
a turn left empty is dropped and the answer lines renumbered (1-based, as Kith stores them).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from make_ami import clean

# one meeting per AMI/ICSI series or committee topic, so questions rarely fit two meetings
MEETINGS = ["ES2005a", "IS1004c", "Bed004", "Bmr007", "Bro007", "Bdb001", "Buw001",
            "covid_0", "covid_5", "education_1", "education_11"]
HERE = Path(__file__).resolve().parent


def convert(src: Path, mid: str) -> dict:
    d = json.loads((src / "data" / "ALL" / "train" / f"{mid}.json").read_text())
    lines, where = [], {}
    for k, turn in enumerate(d["meeting_transcripts"]):
        text = clean(turn["content"])
        if len(text.strip(" .,?!")) < 2:
            continue
        lines.append({"speaker": turn["speaker"].strip(), "text": text})
        where[k] = len(lines)  # 1-based line number of turn k
    questions = []
    for q in d["specific_query_list"]:
        want = sorted({where[t] for a, b in q["relevant_text_span"] for t in range(int(a), int(b) + 1) if t in where})
        if want:
            questions.append({"q": " ".join(q["query"].split()), "lines": want})
    return {"id": mid, "source": f"QMSum data/ALL/train/{mid}.json", "lines": lines, "questions": questions}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    src = Path(sys.argv[1])
    out = {"licence": "QMSum MIT; AMI Meeting Corpus CC BY 4.0; ICSI Meeting Corpus; parliamentary transcripts (public record)",
           "meetings": [convert(src, m) for m in MEETINGS]}
    path = HERE / "ask" / "qmsum.json"
    path.write_text(json.dumps(out, indent=0, ensure_ascii=False) + "\n")
    n = sum(len(m["questions"]) for m in out["meetings"])
    print(f"{path}: {len(out['meetings'])} meetings, {sum(len(m['lines']) for m in out['meetings'])} lines, {n} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
