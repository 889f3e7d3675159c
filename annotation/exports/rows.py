"""Export rows: from one candidate set and its rankings to the rows of each export view.

Pure functions over plain records (no database). Views (DESIGN.md "Export views"):

* ``preference`` — TRL conversational, explicit prompt: ``prompt`` (messages), ``chosen`` /
  ``rejected`` (one assistant message each), ``margin``.
* ``preference-text`` — TRL standard: the same pairs as strings.
* ``kto`` — TRL unpaired: ``completion`` + ``label``. A ranking's top tier is desirable, its
  bottom tier undesirable, middle tiers are left out (neither clearly good nor bad); every
  response of a ``not_rankable`` ("all bad") ranking is undesirable.
* ``ranked`` — one row per ranking, tiers as indices into ``responses``.
* ``consensus`` — one row per set: the aggregated tiers, agreement, number of annotators.
* ``sft`` — the conversation plus the consensus-best response (best-of-N / rejection sampling).
* ``hh-rlhf`` — Anthropic HH transcripts ``"\\n\\nHuman: …\\n\\nAssistant: …"``.

Pairs follow the InstructGPT recipe (``annotation.preference.pairs``): every (higher tier,
lower tier) pair, none inside a tier; ``margin = (j − i) / (T − 1)`` for tiers i < j of T.

``source="annotator"`` (default) gives one row per annotator's pair; ``source="consensus"``
gives the pairs of the set's consensus ranking. ``min_pair_agreement`` drops a pair when fewer
than that share of the set's annotators ranked ``chosen`` strictly above ``rejected``.

A set a reviewer adjudicated (issue 18) has the reviewer's order as its consensus, whatever
the method: ``consensus`` rows say ``"adjudicated": true`` and consensus-sourced rows name
``"annotator": "adjudicated"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from annotation.preference.agreement import pairwise_agreement
from annotation.preference.consensus import DEFAULT_METHOD, Consensus, ConsensusMethod, consensus
from annotation.preference.pairs import Pair, PairMode, ranking_pairs
from annotation.preference.tiers import tier_index

View = Literal["preference", "preference-text", "kto", "ranked", "consensus", "sft", "hh-rlhf"]
VIEWS: tuple[View, ...] = (
    "preference",
    "preference-text",
    "kto",
    "ranked",
    "consensus",
    "sft",
    "hh-rlhf",
)
Source = Literal["annotator", "consensus"]
SOURCES: tuple[Source, ...] = ("annotator", "consensus")
CONSENSUS_ANNOTATOR = "consensus"
ADJUDICATED_ANNOTATOR = "adjudicated"
ADJUDICATED_METHOD = "adjudicated"
Row = dict[str, Any]


@dataclass(frozen=True)
class RankingRecord:
    ranking_id: int
    annotator: str  # stable pseudonym
    tiers: list[list[int]]
    not_rankable: bool
    flags: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SetRecord:
    set_id: int
    prompt_id: int
    messages: list[dict[str, str]]
    candidates: dict[int, str]  # id → text, in the set's canonical order
    rankings: list[RankingRecord]
    adjudicated: list[list[int]] | None = None  # a reviewer's final order, if any

    @property
    def consensus_annotator(self) -> str:
        return ADJUDICATED_ANNOTATOR if self.adjudicated else CONSENSUS_ANNOTATOR

    def usable_tiers(self) -> list[list[list[int]]]:
        return [r.tiers for r in self.rankings if not r.not_rankable and r.tiers]


@dataclass(frozen=True)
class ExportOptions:
    view: View = "preference"
    pairs: PairMode = "all"
    source: Source = "annotator"
    method: ConsensusMethod = DEFAULT_METHOD
    min_pair_agreement: float | None = None
    min_agreement: float | None = None
    # Annotator pseudonym → aggregation weight (Bradley–Terry uses them; see
    # ``annotation.preference.consensus.annotator_weights``). Missing annotators weigh 1.
    weights: Mapping[str, float] | None = None


def set_agreement(record: SetRecord) -> float | None:
    """Pairwise agreement of the set's rankings (None with fewer than two)."""
    return pairwise_agreement(record.usable_tiers())


def set_consensus(
    record: SetRecord, method: ConsensusMethod, weights: Mapping[str, float] | None = None
) -> Consensus:
    """The set's aggregated ranking; a reviewer's adjudicated order replaces it."""
    if record.adjudicated:
        tiers = record.adjudicated
        scores = {cid: float(len(tiers) - i) for i, tier in enumerate(tiers) for cid in tier}
        return Consensus(tiers=tiers, scores=scores, method=ADJUDICATED_METHOD)
    usable = [r for r in record.rankings if not r.not_rankable and r.tiers]
    ranking_weights = [weights.get(r.annotator, 1.0) for r in usable] if weights else None
    return consensus(
        [r.tiers for r in usable], sorted(record.candidates), ranking_weights, method=method
    )


def rows_for_set(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    """The view's rows for one set. A set below ``min_agreement`` (or with fewer than two
    rankings when ``min_agreement`` is given) yields nothing."""
    if options.min_agreement is not None:
        agreement = set_agreement(record)
        if agreement is None or agreement < options.min_agreement:
            return
    yield from _BUILDERS[options.view](record, options)


def _ids(record: SetRecord) -> dict[str, int]:
    return {"prompt_id": record.prompt_id, "set_id": record.set_id}


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _pairs_with_annotator(record: SetRecord, options: ExportOptions) -> Iterator[tuple[Pair, str]]:
    if options.source == "consensus":
        tiers = set_consensus(record, options.method, options.weights).tiers
        pairs = [(p, record.consensus_annotator) for p in ranking_pairs(tiers, options.pairs)]
    else:
        pairs = [
            (p, r.annotator)
            for r in record.rankings
            if not r.not_rankable
            for p in ranking_pairs(r.tiers, options.pairs)
        ]
    if options.min_pair_agreement is None:
        yield from pairs
        return
    positions = [tier_index(t) for t in record.usable_tiers()]
    for pair, annotator in pairs:
        above = sum(pos[pair.chosen] < pos[pair.rejected] for pos in positions)
        if positions and above / len(positions) >= options.min_pair_agreement:
            yield pair, annotator


def _preference(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    text = record.candidates
    for pair, annotator in _pairs_with_annotator(record, options):
        yield {
            "prompt": record.messages,
            "chosen": _assistant(text[pair.chosen]),
            "rejected": _assistant(text[pair.rejected]),
            "margin": pair.margin,
            **_ids(record),
            "annotator": annotator,
        }


def prompt_text(messages: list[dict[str, str]]) -> str:
    """A conversation as one string for TRL's standard (non-chat) format: a ``Role: text``
    transcript ending in ``Assistant:``. Responses follow after one space (see
    ``_preference_text``), because TRL joins prompt and response by plain concatenation."""
    turns = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join([*turns, "Assistant:"])


def _preference_text(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    prompt, text = prompt_text(record.messages), record.candidates
    for pair, annotator in _pairs_with_annotator(record, options):
        yield {
            "prompt": prompt,
            "chosen": " " + text[pair.chosen],
            "rejected": " " + text[pair.rejected],
            "margin": pair.margin,
            **_ids(record),
            "annotator": annotator,
        }


def hh_transcript(messages: list[dict[str, str]], response: str) -> str:
    """Anthropic HH-RLHF format; a system message is folded into the next Human turn."""
    parts, system = [], ""
    for m in messages:
        if m["role"] == "system":
            system = m["content"] + "\n\n"
        elif m["role"] == "user":
            parts.append(f"\n\nHuman: {system}{m['content']}")
            system = ""
        else:
            parts.append(f"\n\nAssistant: {m['content']}")
    return "".join(parts) + f"\n\nAssistant: {response}"


def _hh_rlhf(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    text = record.candidates
    for pair, annotator in _pairs_with_annotator(record, options):
        yield {
            "chosen": hh_transcript(record.messages, text[pair.chosen]),
            "rejected": hh_transcript(record.messages, text[pair.rejected]),
            **_ids(record),
            "annotator": annotator,
        }


def _kto_labels(
    tiers: list[list[int]], not_rankable: bool, ids: list[int]
) -> list[tuple[int, bool]]:
    if not_rankable:
        return [(cid, False) for cid in ids]
    if len(tiers) < 2:
        return []  # all tied: nothing is better or worse than anything else
    return [(cid, True) for cid in tiers[0]] + [(cid, False) for cid in tiers[-1]]


def _kto(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    ids = list(record.candidates)
    if options.source == "consensus":
        tiers = set_consensus(record, options.method, options.weights).tiers
        all_bad = not tiers and any(r.not_rankable for r in record.rankings)
        labelled = [(_kto_labels(tiers, all_bad, ids), record.consensus_annotator)]
    else:
        labelled = [
            (_kto_labels(r.tiers, r.not_rankable, ids), r.annotator) for r in record.rankings
        ]
    for labels, annotator in labelled:
        for cid, label in labels:
            yield {
                "prompt": record.messages,
                "completion": _assistant(record.candidates[cid]),
                "label": label,
                **_ids(record),
                "annotator": annotator,
            }


def _as_indices(tiers: list[list[int]], ids: list[int]) -> list[list[int]]:
    index = {cid: i for i, cid in enumerate(ids)}
    return [[index[cid] for cid in tier] for tier in tiers]


def _ranked(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    ids = list(record.candidates)
    index = {cid: i for i, cid in enumerate(ids)}
    for r in record.rankings:
        yield {
            "prompt": record.messages,
            "responses": [record.candidates[cid] for cid in ids],
            "tiers": _as_indices(r.tiers, ids),
            "not_rankable": r.not_rankable,
            "flags": {str(index[int(cid)]): names for cid, names in sorted(r.flags.items())},
            **_ids(record),
            "annotator": r.annotator,
        }


def _consensus(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    ids = list(record.candidates)
    result = set_consensus(record, options.method, options.weights)
    yield {
        "prompt": record.messages,
        "responses": [record.candidates[cid] for cid in ids],
        "tiers": _as_indices(result.tiers, ids),
        "not_rankable": not result.tiers,
        "agreement": set_agreement(record),
        "annotators": len(record.rankings),
        "method": result.method,
        "adjudicated": record.adjudicated is not None,
        **_ids(record),
    }


def _sft(record: SetRecord, options: ExportOptions) -> Iterator[Row]:
    """The best response of each set: the consensus top tier, a tie broken by consensus score
    and then by the set's canonical order."""
    result = set_consensus(record, options.method, options.weights)
    if not result.tiers:
        return
    order = {cid: i for i, cid in enumerate(record.candidates)}
    best = max(result.tiers[0], key=lambda cid: (result.scores.get(cid, 0.0), -order[cid]))
    yield {
        "messages": [*record.messages, *_assistant(record.candidates[best])],
        **_ids(record),
    }


_BUILDERS = {
    "preference": _preference,
    "preference-text": _preference_text,
    "kto": _kto,
    "ranked": _ranked,
    "consensus": _consensus,
    "sft": _sft,
    "hh-rlhf": _hh_rlhf,
}
