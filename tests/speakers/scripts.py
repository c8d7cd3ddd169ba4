"""The scripted meetings used by the speaker tests and bench/diarize_bench.py."""
from __future__ import annotations

import random

SENTENCES = [
    "We reviewed the budget for the next quarter and it looks reasonable.",
    "The main risk is the timeline for the data migration.",
    "Could we schedule a follow up with the vendor next week?",
    "The customer asked about pricing for the enterprise tier.",
    "Support hours are the other open question from their side.",
    "I spoke with the legal team yesterday about the contract.",
    "They want a shorter notice period in the renewal clause.",
    "Our onboarding numbers improved a lot since the spring release.",
    "We still lose too many trial users in the first week.",
    "Marketing wants a case study before the conference in June.",
    "The new dashboard is almost ready for the pilot group.",
    "Performance on the reporting page is still too slow.",
    "We should hire one more engineer for the platform team.",
    "Finance approved the travel for the customer workshop.",
    "The integration with their billing system went live on Monday.",
    "Two accounts asked for single sign on this month.",
    "Let us keep the scope small for the first milestone.",
    "I can share the slides right after this call.",
    "The security review found nothing critical, only small fixes.",
    "We agreed to revisit the roadmap at the end of the month.",
    "Sounds good to me.", "Right, that makes sense.", "Okay, agreed.", "I am not sure about that.",
]


def turns(speakers, n_turns, seed, min_words=5, max_words=38):
    """A random but reproducible conversation: no speaker talks twice in a row."""
    rnd = random.Random(seed)
    out, prev = [], None
    for _ in range(n_turns):
        who = rnd.choice([s for s in speakers if s != prev] or list(speakers))
        target = rnd.randint(min_words, max_words)
        words: list[str] = []
        while len(words) < target:
            words += rnd.choice(SENTENCES).split()
        out.append((who, " ".join(words[:max(target, 5)]).rstrip(",") + "."))
        prev = who
    return out


# DER set: three and four voices in one channel, turns of ~2–15 s
DER_MEETINGS = {
    "three_voices": dict(script=turns(["ana", "tom", "raj"], 16, seed=1)),
    "four_voices": dict(script=turns(["ana", "tom", "diane", "raj"], 18, seed=2)),
    "four_voices_overlap": dict(script=turns(["diane", "raj", "ana", "tom"], 16, seed=3), overlap_every=5),
}

# naming: self-introductions and addressing, on the "Them" channel of a two-channel call
INTRO_MEETING = [
    ("me", "Good morning everyone, thanks for joining the call.", 0),
    ("diane", "Hi, this is Linda from Acme. I run the operations team there.", 1),
    ("tom", "And I'm Thomas, I look after the finance side of the project.", 1),
    ("me", "Great. Let us start with the rollout plan for next month.", 0),
    ("diane", "The rollout plan is ready. " + " ".join(SENTENCES[:3]), 1),
    ("tom", "From a budget point of view " + " ".join(SENTENCES[5:8]), 1),
    ("diane", " ".join(SENTENCES[10:12]), 1),
    ("me", "Thank you both, I will send the summary today.", 0),
]

ADDRESS_MEETING = [
    ("me", "Hello both, let us go through the open items.", 0),
    ("raj", " ".join(SENTENCES[0:3]), 1),
    ("me", "Maria, can you send the contract draft by Friday?", 0),
    ("ana", "Yes, I will send it on Thursday. " + " ".join(SENTENCES[5:7]), 1),
    ("raj", " ".join(SENTENCES[8:11]), 1),
    ("me", "Thank you. Maria, could you also check the pricing sheet?", 0),
    ("ana", "Sure, I can do that this week. " + SENTENCES[3], 1),
    ("raj", " ".join(SENTENCES[12:14]), 1),
]

# naming from the meeting's own evidence: the host greets each guest, a guest thanks the host by
# name, one guest names the other; nobody introduces themself (attendees Dana Kim, Leo Park; user Sam)
GREETING_MEETING = [
    ("me", "Good morning. Hi Dana, good to have you.", 0),
    ("diane", "Good morning, thanks Sam. Happy to be here. " + SENTENCES[0], 1),
    ("me", "And hello Leo.", 0),
    ("raj", "Hi. Thanks for setting this up, Sam. " + " ".join(SENTENCES[5:7]), 1),
    ("diane", "Leo is right about the contract. " + " ".join(SENTENCES[10:12]), 1),
    ("raj", " ".join(SENTENCES[12:14]), 1),
    ("me", "Thank you both, I will send the summary today.", 0),
]
