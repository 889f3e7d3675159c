"""Pure checks of user input (no database): conversations, project criteria, import rows and
rankings. Each returns ``{field_path: [message]}`` (empty when the input is valid) and, where
useful, the normalised value, so the services can report every problem of a batch at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .enums import MessageRole
from .models import MAX_K, MIN_K

Errors = dict[str, list[str]]

MAX_TEXT_CHARS = 200_000  # one message or one response
MAX_RATIONALE_CHARS = 20_000
MAX_INTERACTION_KEYS = 200
# The workspace sends a few counters (moves, keys, suggestion shown…): well under 1 KiB.
MAX_INTERACTION_BYTES = 16 * 1024
MAX_TIME_SPENT_SECONDS = 24 * 3600
MAX_NAME_CHARS = 200

PROMPT_ROW_FIELDS = {"prompt", "messages", "external_id", "source", "metadata"}
CANDIDATE_SET_ROW_FIELDS = PROMPT_ROW_FIELDS | {"candidates", "round"}
CANDIDATE_FIELDS = {"text", "model"}


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _is_nonblank_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def check_messages(value: Any, path: str = "messages") -> tuple[list[dict[str, str]], Errors]:
    """A conversation: a non-empty list of ``{"role", "content"}`` ending in a user turn; a
    system message may only come first."""
    errors: Errors = {}
    if not isinstance(value, list) or not value:
        _add(errors, path, "Must be a non-empty list of {role, content} messages.")
        return [], errors
    roles = set(MessageRole.values)
    clean: list[dict[str, str]] = []
    for i, message in enumerate(value):
        item = f"{path}[{i}]"
        if not isinstance(message, dict):
            _add(errors, item, "Must be an object with 'role' and 'content'.")
            continue
        unknown = set(message) - {"role", "content"}
        if unknown:
            _add(errors, item, f"Unknown field(s): {', '.join(sorted(unknown))}.")
        role, content = message.get("role"), message.get("content")
        if role not in roles:
            _add(errors, f"{item}.role", f"Must be one of {', '.join(sorted(roles))}.")
        elif role == MessageRole.SYSTEM and i != 0:
            _add(errors, f"{item}.role", "A system message may only be the first message.")
        if not _is_nonblank_str(content):
            _add(errors, f"{item}.content", "Must be a non-empty string.")
        elif len(content) > MAX_TEXT_CHARS:
            _add(errors, f"{item}.content", f"Longer than {MAX_TEXT_CHARS} characters.")
        clean.append({"role": role, "content": content})
    if not errors and clean[-1]["role"] != MessageRole.USER:
        _add(errors, path, "The conversation must end with a user message.")
    return clean, errors


def check_criteria(value: Any) -> tuple[dict[str, Any], Errors]:
    """``{"flags": [str], "ratings": [{"name", "min", "max"}]}``, both optional."""
    errors: Errors = {}
    if value in (None, {}):
        return {"flags": [], "ratings": []}, errors
    if not isinstance(value, dict):
        _add(errors, "criteria", "Must be an object with optional 'flags' and 'ratings'.")
        return {}, errors
    unknown = set(value) - {"flags", "ratings"}
    if unknown:
        _add(errors, "criteria", f"Unknown field(s): {', '.join(sorted(unknown))}.")
    flags = value.get("flags", [])
    if not isinstance(flags, list) or not all(_is_nonblank_str(f) for f in flags):
        _add(errors, "criteria.flags", "Must be a list of non-empty names.")
        flags = []
    elif len(set(flags)) != len(flags):
        _add(errors, "criteria.flags", "Flag names must be unique.")
    ratings = value.get("ratings", [])
    clean_ratings: list[dict[str, Any]] = []
    if not isinstance(ratings, list):
        _add(errors, "criteria.ratings", "Must be a list of {name, min, max}.")
        ratings = []
    for i, dim in enumerate(ratings):
        item = f"criteria.ratings[{i}]"
        if not isinstance(dim, dict) or not _is_nonblank_str(dim.get("name")):
            _add(errors, item, "Must be an object with a non-empty 'name'.")
            continue
        low, high = dim.get("min", 1), dim.get("max", 5)
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (low, high)):
            _add(errors, item, "'min' and 'max' must be integers.")
        elif low >= high:
            _add(errors, item, "'min' must be less than 'max'.")
        clean_ratings.append({"name": dim["name"], "min": low, "max": high})
    names = [d["name"] for d in clean_ratings]
    if len(set(names)) != len(names):
        _add(errors, "criteria.ratings", "Dimension names must be unique.")
    return {"flags": list(flags), "ratings": clean_ratings}, errors


@dataclass
class PromptRow:
    messages: list[dict[str, str]]
    external_id: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class CandidateRow:
    text: str
    model: str = ""


@dataclass
class CandidateSetRow:
    prompt: PromptRow
    candidates: list[CandidateRow]
    round: int = 0


def check_prompt_row(row: Any, allowed: set[str] = PROMPT_ROW_FIELDS) -> tuple[PromptRow, Errors]:
    """An import row: ``{"prompt": str}`` or ``{"messages": [...]}`` plus optional
    ``external_id``, ``source``, ``metadata``. Unknown fields are refused (catches typos)."""
    errors: Errors = {}
    if not isinstance(row, dict):
        _add(errors, "", "Each row must be a JSON object.")
        return PromptRow(messages=[]), errors
    for name in sorted(set(row) - allowed):
        _add(errors, name, "Unknown field.")
    has_prompt, has_messages = "prompt" in row, "messages" in row
    messages: list[dict[str, str]] = []
    if has_prompt == has_messages:
        _add(errors, "prompt", "Give exactly one of 'prompt' (a string) or 'messages' (a list).")
    elif has_prompt:
        if not _is_nonblank_str(row["prompt"]):
            _add(errors, "prompt", "Must be a non-empty string.")
        elif len(row["prompt"]) > MAX_TEXT_CHARS:
            _add(errors, "prompt", f"Longer than {MAX_TEXT_CHARS} characters.")
        else:
            messages = [{"role": MessageRole.USER.value, "content": row["prompt"]}]
    else:
        messages, message_errors = check_messages(row["messages"])
        errors.update(message_errors)
    for name in ("external_id", "source"):
        value = row.get(name, "")
        if not isinstance(value, str) or len(value) > MAX_NAME_CHARS:
            _add(errors, name, f"Must be a string of at most {MAX_NAME_CHARS} characters.")
    metadata = row.get("metadata", {})
    if not isinstance(metadata, dict):
        _add(errors, "metadata", "Must be an object.")
    prompt = PromptRow(
        messages=messages,
        external_id=row.get("external_id", "") if isinstance(row.get("external_id"), str) else "",
        source=row.get("source", "") if isinstance(row.get("source"), str) else "",
        metadata=metadata if isinstance(metadata, dict) else {},
    )
    return prompt, errors


def check_candidate_set_row(row: Any, *, k: int) -> tuple[CandidateSetRow, Errors]:
    """A prompt row plus ``candidates: [{"text", "model"?}]`` of exactly K distinct texts and an
    optional ``round``."""
    prompt, errors = check_prompt_row(row, CANDIDATE_SET_ROW_FIELDS)
    result = CandidateSetRow(prompt=prompt, candidates=[])
    if not isinstance(row, dict):
        return result, errors
    candidates = row.get("candidates")
    if not isinstance(candidates, list):
        _add(errors, "candidates", f"Must be a list of {k} {{text, model?}} objects.")
        candidates = []
    elif len(candidates) != k:
        _add(errors, "candidates", f"This project ranks K={k} responses; got {len(candidates)}.")
    for i, cand in enumerate(candidates):
        item = f"candidates[{i}]"
        if not isinstance(cand, dict):
            _add(errors, item, "Must be an object with 'text'.")
            continue
        for name in sorted(set(cand) - CANDIDATE_FIELDS):
            _add(errors, f"{item}.{name}", "Unknown field.")
        text, model = cand.get("text"), cand.get("model", "")
        if not _is_nonblank_str(text):
            _add(errors, f"{item}.text", "Must be a non-empty string.")
            continue
        if len(text) > MAX_TEXT_CHARS:
            _add(errors, f"{item}.text", f"Longer than {MAX_TEXT_CHARS} characters.")
        if not isinstance(model, str) or len(model) > MAX_NAME_CHARS:
            _add(errors, f"{item}.model", f"Must be a string of at most {MAX_NAME_CHARS} chars.")
            model = ""
        result.candidates.append(CandidateRow(text=text, model=model))
    texts = [c.text for c in result.candidates]
    if len(set(texts)) != len(texts):
        _add(errors, "candidates", "Candidates of one set must have distinct texts.")
    round_ = row.get("round", 0)
    if not isinstance(round_, int) or isinstance(round_, bool) or round_ < 0:
        _add(errors, "round", "Must be a non-negative integer.")
    else:
        result.round = round_
    return result, errors


def check_k(k: Any) -> Errors:
    if not isinstance(k, int) or not MIN_K <= k <= MAX_K:
        return {"k": [f"Must be an integer from {MIN_K} to {MAX_K}."]}
    return {}


@dataclass
class RankingInput:
    tiers: list[list[int]]
    not_rankable: bool
    flags: dict[str, list[str]]
    ratings: dict[str, dict[str, int]]


def check_ranking(
    *,
    tiers: Any,
    not_rankable: bool,
    flags: Any,
    ratings: Any,
    candidate_ids: Iterable[int],
    allow_ties: bool,
    flag_names: Iterable[str],
    rating_dimensions: Mapping[str, tuple[int, int]],
) -> tuple[RankingInput, Errors]:
    """Tiers best → worst must hold every candidate of the set exactly once (ties only if the
    project allows them), unless ``not_rankable`` (then no tiers). Flags and ratings may only name
    candidates of the set and the project's criteria."""
    errors: Errors = {}
    expected = set(candidate_ids)
    tiers = tiers if tiers is not None else []
    clean_tiers: list[list[int]] = []
    if not isinstance(tiers, list) or not all(isinstance(t, list) for t in tiers):
        _add(errors, "ranking", "Must be a list of tiers, each a list of candidate ids.")
    elif not_rankable:
        if tiers:
            _add(errors, "ranking", "A set marked not_rankable must have no tiers.")
    else:
        seen: list[int] = []
        for i, tier in enumerate(tiers):
            if not tier:
                _add(errors, f"ranking[{i}]", "A tier must not be empty.")
            elif len(tier) > 1 and not allow_ties:
                _add(errors, f"ranking[{i}]", "This project does not allow ties.")
            ids = []
            for cid in tier:
                if not isinstance(cid, int) or isinstance(cid, bool):
                    _add(errors, f"ranking[{i}]", f"{cid!r} is not a candidate id.")
                else:
                    ids.append(cid)
            seen.extend(ids)
            clean_tiers.append(ids)
        foreign = sorted(set(seen) - expected)
        missing = sorted(expected - set(seen))
        repeated = sorted({c for c in seen if seen.count(c) > 1})
        if foreign:
            _add(errors, "ranking", f"Candidate(s) not in this set: {foreign}.")
        if repeated:
            _add(errors, "ranking", f"Candidate(s) ranked more than once: {repeated}.")
        if missing:
            _add(errors, "ranking", f"Every candidate must be ranked; missing: {missing}.")
    clean_flags = _check_flags(flags, expected, set(flag_names), errors)
    clean_ratings = _check_ratings(ratings, expected, rating_dimensions, errors)
    return RankingInput(clean_tiers, not_rankable, clean_flags, clean_ratings), errors


def _candidate_key(key: Any, expected: set[int]) -> int | None:
    try:
        cid = int(key)
    except (TypeError, ValueError):
        return None
    return cid if cid in expected else None


def _check_flags(value: Any, expected: set[int], names: set[str], errors: Errors) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        _add(errors, "flags", "Must be an object {candidate_id: [flag, …]}.")
        return {}
    clean: dict[str, list[str]] = {}
    for key, given in value.items():
        cid = _candidate_key(key, expected)
        if cid is None:
            _add(errors, f"flags.{key}", "Not a candidate of this set.")
            continue
        if not isinstance(given, list) or not all(isinstance(f, str) for f in given):
            _add(errors, f"flags.{key}", "Must be a list of flag names.")
            continue
        unknown = sorted(set(given) - names)
        if unknown:
            allowed = ", ".join(sorted(names)) or "none"
            _add(errors, f"flags.{key}", f"Unknown flag(s) {unknown}; allowed: {allowed}.")
            continue
        if given:
            clean[str(cid)] = sorted(set(given))
    return clean


def _check_ratings(
    value: Any, expected: set[int], dims: Mapping[str, tuple[int, int]], errors: Errors
) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        _add(errors, "ratings", "Must be an object {candidate_id: {dimension: int}}.")
        return {}
    clean: dict[str, dict[str, int]] = {}
    for key, given in value.items():
        cid = _candidate_key(key, expected)
        if cid is None:
            _add(errors, f"ratings.{key}", "Not a candidate of this set.")
            continue
        if not isinstance(given, dict):
            _add(errors, f"ratings.{key}", "Must be an object {dimension: int}.")
            continue
        for dim, score in given.items():
            if dim not in dims:
                _add(errors, f"ratings.{key}.{dim}", "Not a rating dimension of this project.")
                continue
            low, high = dims[dim]
            if not isinstance(score, int) or isinstance(score, bool) or not low <= score <= high:
                _add(errors, f"ratings.{key}.{dim}", f"Must be an integer from {low} to {high}.")
                continue
            clean.setdefault(str(cid), {})[dim] = score
    return clean


def check_gold_ranking(value: Any, *, k: int) -> tuple[list[list[int]], Errors]:
    """A gold row's ``gold_ranking``: tiers of 0-based indices into its ``candidates``, every
    index once, at least two tiers (a gold set must say which answer is better)."""
    errors: Errors = {}
    path = "gold_ranking"
    if not isinstance(value, list) or not all(isinstance(t, list) and t for t in value):
        _add(errors, path, "Must be a list of non-empty tiers of candidate indices (0-based).")
        return [], errors
    flat = [i for tier in value for i in tier]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in flat):
        _add(errors, path, "Indices must be integers.")
    elif sorted(flat) != list(range(k)):
        _add(errors, path, f"Must name each of the {k} candidates (0 to {k - 1}) exactly once.")
    elif len(value) < 2:
        _add(errors, path, "Needs at least two tiers: a gold set must have a better answer.")
    return value, errors
