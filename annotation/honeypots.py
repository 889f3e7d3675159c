"""Synthetic honeypots: gold sets whose correct order is known without an expert.

Take a real response and degrade copies of it; the original must rank above every degraded
copy. Degradations (each keeps the surface of a real answer, so only reading reveals them):

* ``truncate`` — cut at ~40 % of the text, mid-sentence;
* ``shuffle_sentences`` — the same sentences in a scrambled order;
* ``duplicate`` — sentences repeated, as a looping model would;
* ``wrong_language`` — replaced by fluent text in another language (Finnish), which does not
  answer an English prompt. Flywheel assumes the project's prompts are not in Finnish.

The gold ranking is ``[[original], [all degraded copies]]``: the degraded copies are tied,
because which of them is worse is a matter of taste. Pure functions, seeded for reproducibility.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

WRONG_LANGUAGE_TEXTS = (
    "Tämä kysymys on mielenkiintoinen, mutta vastaus riippuu monesta asiasta. "
    "Kannattaa ensin miettiä, mitä haluaa saavuttaa, ja sitten valita sopiva tapa.",
    "Hyvä kysymys! Yleensä paras ratkaisu on aloittaa pienestä ja kokeilla rauhassa. "
    "Jos jokin ei toimi, voi aina palata alkuun ja yrittää uudelleen.",
    "Vastaus on lyhyesti sanottuna kyllä, mutta yksityiskohdat vaihtelevat tilanteen mukaan. "
    "Lisätietoja löytyy alan kirjallisuudesta.",
)


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.strip()) if s]


def truncate(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 4:
        return words[0] if words else text
    cut = max(1, int(len(words) * rng.uniform(0.3, 0.5)))
    return " ".join(words[:cut])


def shuffle_sentences(text: str, rng: random.Random) -> str:
    parts = sentences(text)
    if len(set(parts)) < 2:  # one sentence (or one, repeated): scramble its words instead
        parts = text.split()
        if len(set(parts)) < 2:
            # Every order is the same text: reshuffling would never end. ``degraded_copies``
            # drops a copy equal to the original.
            return text
    shuffled = parts[:]
    while shuffled == parts:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def duplicate(text: str, rng: random.Random) -> str:
    parts = sentences(text) or [text]
    repeated = parts + [parts[rng.randrange(len(parts))]] * 2 + parts[: max(1, len(parts) // 2)]
    return " ".join(repeated)


def wrong_language(text: str, rng: random.Random) -> str:
    return rng.choice(WRONG_LANGUAGE_TEXTS)


DEGRADATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "truncate": truncate,
    "shuffle_sentences": shuffle_sentences,
    "duplicate": duplicate,
    "wrong_language": wrong_language,
}


def degraded_copies(original: str, k: int, seed: int) -> list[tuple[str, str]]:
    """``k − 1`` distinct degraded copies of ``original`` as ``(degradation, text)``, cycling
    through the degradations (a copy equal to the original or to another copy is re-drawn)."""
    rng = random.Random(seed)
    names = list(DEGRADATIONS)
    rng.shuffle(names)
    copies: list[tuple[str, str]] = []
    seen = {original}
    attempt = 0
    while len(copies) < k - 1:
        name = names[attempt % len(names)]
        text = DEGRADATIONS[name](original, rng)
        attempt += 1
        if text not in seen and text.strip():
            seen.add(text)
            copies.append((name, text))
        elif attempt > 50 * k:
            raise ValueError("Cannot make enough distinct degraded copies of this text.")
    return copies
