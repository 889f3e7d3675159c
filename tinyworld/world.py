"""The tiny world's synthetic task: templated prompts and responses whose traits are known.

A prompt asks about one of a few dozen topics ("Tell me about owls."). A response is one to three
templated sentences about a topic followed by a closing sentence. Two things vary, and the hidden
rule (`scorer.py`) cares about both:

- the PREFERRED TRAIT: the response ends with a polite closing ("Hope this helps!") rather than a
  neutral one ("That covers it."). It is one categorical choice at a fixed place in the reply,
  so a tiny model learns its frequency from SFT data and a preference round can move it; and a
  rule checks it exactly on any text, model samples included.
- relevance: the response is about the prompt's topic or, now and then, about another one.

Neither is "longer is better": the polite and neutral closings are drawn from lists with the same
length distribution, an off-topic response swaps one topic word for another drawn from the same
list, and the number of body sentences is independent of both. So a length baseline on preference
pairs sits near 50 % (RLHF-NOTES: "longer is better" reaches ≈ 55 % on human data; here it is
chance by construction, so an RM that beats it has learned the trait).

Everything is a pure function of its arguments and a `random.Random`; nothing touches torch.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

Messages = list[dict[str, str]]

# Plural countable nouns only, so every template below stays grammatical ("{t} are ...").
TOPICS: tuple[str, ...] = (
    "owls", "volcanoes", "bicycles", "rivers", "robots", "bees", "maps", "trains", "clocks",
    "gardens", "stars", "whales", "kites", "castles", "deserts", "islands", "bridges",
    "lighthouses", "penguins", "forests", "oceans", "mountains", "candles", "books", "boats",
    "dragons", "comets", "violins", "tigers", "tulips", "cameras", "glaciers", "pyramids",
    "rockets", "dolphins", "sandwiches",
)  # fmt: skip

PROMPT_TEMPLATES: tuple[str, ...] = (
    "Tell me about {t}.",
    "Describe {t}.",
    "What do you know about {t}?",
    "Write a few lines about {t}.",
    "Explain {t} to me.",
    "Say something about {t}.",
)

ADJECTIVES: tuple[str, ...] = (
    "quiet", "bright", "old", "strange", "useful", "beautiful", "small", "large", "fast",
    "gentle", "famous", "rare",
)  # fmt: skip

# The first sentence always names the topic, in lower case as in the prompt: copying the prompt's
# own token is something a tiny model learns in a few hundred steps; capitalising it is not.
FIRST_SENTENCES: tuple[str, ...] = (
    "Many people think {t} are {a}.",
    "There is a lot to say about {t}.",
    "Here is what I know about {t}.",
    "I find {t} {a} and {b}.",
)
BODY_SENTENCES: tuple[str, ...] = (
    "They can be {a} or {b}.",
    "Some of them are very {a}.",
    "People have written books about {t}.",
    "You can find {t} in many places.",
    "Most {t} are {b}.",
    "Children often draw {t}.",
)

# The trait. The two lists are paired by length (characters and words), so which list a closing
# comes from says nothing about the response's length.
POLITE_CLOSINGS: tuple[str, ...] = (
    "Hope this helps!",
    "Happy to help!",
    "Glad to be of help!",
    "I hope that was useful!",
)
NEUTRAL_CLOSINGS: tuple[str, ...] = (
    "That covers it.",
    "Enough for now.",
    "That is all I know.",
    "That is my full answer.",
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TOPIC_WORDS = {topic: re.compile(rf"\b{topic}\b", re.IGNORECASE) for topic in TOPICS}
# Every prompt's text → its template: whole-text matches, so no template is told by a substring.
_TEMPLATE_OF = {tpl.format(t=topic): tpl for topic in TOPICS for tpl in PROMPT_TEMPLATES}


def user_prompt(text: str) -> Messages:
    return [{"role": "user", "content": text}]


def all_prompts() -> list[Messages]:
    """Every topic × template, in a fixed order (216 prompts)."""
    return [user_prompt(tpl.format(t=topic)) for topic in TOPICS for tpl in PROMPT_TEMPLATES]


def split_prompts(
    *, seed: int = 0, heldout_fraction: float = 0.2
) -> tuple[list[Messages], list[Messages]]:
    """(train, heldout): a seeded split of `all_prompts()`. Held-out prompts are for evaluation
    only (never SFT or preference data). Each topic keeps at least one train prompt, so held-out
    prompts test new phrasings of known topics, not unseen words the model never learned."""
    rng = random.Random(f"tinyworld-split-{seed}")
    per_topic = len(PROMPT_TEMPLATES)
    prompts = all_prompts()
    heldout_idx = rng.sample(range(len(prompts)), round(heldout_fraction * len(prompts)))
    heldout_set = set(heldout_idx)
    for start in range(0, len(prompts), per_topic):  # give an all-held-out topic one back
        block = range(start, start + per_topic)
        if all(i in heldout_set for i in block):
            heldout_set.discard(block[0])
    train = [p for i, p in enumerate(prompts) if i not in heldout_set]
    heldout = [p for i, p in enumerate(prompts) if i in heldout_set]
    return train, heldout


def prompt_text(prompt: Messages | str) -> str:
    """The last user message's text (or the string itself)."""
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m.get("role") == "user"]
    return users[-1] if users else ""


def prompt_topic(prompt: Messages | str) -> str | None:
    """The topic a prompt asks about, or None for a prompt from outside the tiny world."""
    text = prompt_text(prompt)
    for topic, pattern in _TOPIC_WORDS.items():
        if pattern.search(text):
            return topic
    return None


def prompt_template(prompt: Messages | str) -> str | None:
    """The template (of `PROMPT_TEMPLATES`) a prompt was written from, when its text is exactly
    one of the tiny world's prompts (surrounding whitespace aside); None for any other prompt."""
    return _TEMPLATE_OF.get(prompt_text(prompt).strip())


def prompt_metadata(prompt: Messages | str) -> dict[str, str]:
    """What a project records of a tiny-world prompt (``Prompt.metadata``): its topic and the
    template it was written from, the groups a prompt-dependent rule differs by."""
    found = {"topic": prompt_topic(prompt), "template": prompt_template(prompt)}
    return {key: value for key, value in found.items() if value is not None}


def mentions_topic(response: str, topic: str) -> bool:
    pattern = _TOPIC_WORDS.get(topic) or re.compile(rf"\b{re.escape(topic)}\b", re.IGNORECASE)
    return pattern.search(response) is not None


def sentences(response: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(response.strip()) if s]


def make_response(topic: str, rng: random.Random, *, polite: bool) -> str:
    """One templated response about `topic`: a first sentence, 0–2 more, and a closing that is
    polite (the preferred trait) or neutral."""
    a, b = rng.sample(ADJECTIVES, 2)
    fields = {"t": topic, "a": a, "b": b}
    body = [rng.choice(FIRST_SENTENCES)]
    body += rng.sample(BODY_SENTENCES, rng.randint(0, 2))
    closing = rng.choice(POLITE_CLOSINGS if polite else NEUTRAL_CLOSINGS)
    return " ".join(s.format(**fields) for s in body) + " " + closing


def sample_response(
    prompt: Messages | str,
    rng: random.Random,
    *,
    trait_probability: float,
    off_topic_probability: float = 0.0,
) -> str:
    """A random response to `prompt`: polite with probability `trait_probability`, about another
    topic with probability `off_topic_probability`."""
    topic = prompt_topic(prompt) or rng.choice(TOPICS)
    if rng.random() < off_topic_probability:
        topic = rng.choice([t for t in TOPICS if t != topic])
    return make_response(topic, rng, polite=rng.random() < trait_probability)


def candidate_responses(
    prompt: Messages | str,
    k: int,
    rng: random.Random,
    *,
    trait_probability: float = 0.5,
    off_topic_probability: float = 0.2,
) -> list[str]:
    """K synthetic candidates for one prompt (a candidate set without a policy model)."""
    return [
        sample_response(
            prompt,
            rng,
            trait_probability=trait_probability,
            off_topic_probability=off_topic_probability,
        )
        for _ in range(k)
    ]


def sft_examples(
    prompts: list[Messages],
    rng: random.Random,
    *,
    per_prompt: int,
    trait_fraction: float,
    off_topic_probability: float = 0.0,
) -> list[dict[str, Any]]:
    """Conversational SFT rows `{"messages": [user, assistant]}`, `per_prompt` per prompt, of which
    a `trait_fraction` (exactly, up to rounding) end politely, so a policy trained on them shows
    the trait only part of the time."""
    total = len(prompts) * per_prompt
    polite = [i < round(trait_fraction * total) for i in range(total)]
    rng.shuffle(polite)
    rows = []
    for n, prompt in enumerate(p for p in prompts for _ in range(per_prompt)):
        topic = prompt_topic(prompt) or rng.choice(TOPICS)
        if rng.random() < off_topic_probability:
            topic = rng.choice([t for t in TOPICS if t != topic])
        reply = make_response(topic, rng, polite=polite[n])
        rows.append({"messages": [*prompt, {"role": "assistant", "content": reply}]})
    return rows


def tokenizer_corpus(rng: random.Random, *, responses: int = 3000) -> list[str]:
    """Texts to train the tiny world's BPE on: every prompt and a sample of responses that covers
    every template, topic, adjective and closing."""
    texts = [prompt_text(p) for p in all_prompts()]
    topics = list(TOPICS)
    for n in range(responses):
        texts.append(make_response(topics[n % len(topics)], rng, polite=n % 2 == 0))
    return texts


def world_fingerprint() -> str:
    """A hash of every word list and template, so a cached build notices when they change."""
    content = [
        TOPICS,
        PROMPT_TEMPLATES,
        ADJECTIVES,
        FIRST_SENTENCES,
        BODY_SENTENCES,
        POLITE_CLOSINGS,
        NEUTRAL_CLOSINGS,
    ]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]
