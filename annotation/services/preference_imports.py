"""Import of existing preference data, so a team can start from a public dataset:

* ``hh-rlhf`` — Anthropic HH-RLHF rows ``{"chosen": transcript, "rejected": transcript}`` where a
  transcript is ``"\\n\\nHuman: …\\n\\nAssistant: …"``; both share the conversation and differ in
  the last Assistant turn.
* ``trl`` — TRL preference rows: explicit prompt ``{"prompt", "chosen", "rejected"}`` (strings or
  conversational messages) or implicit-prompt conversational ``{"chosen": [msgs],
  "rejected": [msgs]}`` sharing all but the last assistant message.

Each row becomes a prompt, a candidate set of two, and a submitted ranking ``[[chosen],
[rejected]]`` by an inactive per-source import account (pseudonymous in exports like any
annotator). The project must rank K = 2. All rows are validated before anything is written.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..enums import AssignmentState, CandidateSetState
from ..models import (
    Assignment,
    Candidate,
    CandidateSet,
    CandidateSetMember,
    Project,
    Prompt,
    Ranking,
)
from ..validation import Errors, check_messages
from .imports import NumberedRows, check_row_count, raise_row_errors

PreferenceFormat = Literal["hh-rlhf", "trl"]
FORMATS: tuple[PreferenceFormat, ...] = ("hh-rlhf", "trl")
HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def parse_hh_transcript(text: str) -> list[dict[str, str]]:
    """``"\\n\\nHuman: a\\n\\nAssistant: b"`` → messages; raises ValueError if not a transcript."""
    if not isinstance(text, str) or not text.startswith("\n\nHuman: "):
        raise ValueError('Must be a transcript starting with "\\n\\nHuman: ".')
    parts = HH_TURN.split(text)[1:]  # [speaker, content, speaker, content, …]
    return [
        {"role": "user" if speaker == "Human" else "assistant", "content": content}
        for speaker, content in zip(parts[::2], parts[1::2], strict=True)
    ]


def _split_last_assistant(messages: Any, field: str, errors: Errors):
    if (
        not isinstance(messages, list)
        or len(messages) < 2
        or not isinstance(messages[-1], dict)
        or messages[-1].get("role") != "assistant"
    ):
        errors.setdefault(field, []).append(
            "Must be a conversation ending in the assistant's response."
        )
        return None, None
    return messages[:-1], messages[-1].get("content")


def _row(fmt: PreferenceFormat, row: Any) -> tuple[list[dict[str, str]], str, str, Errors]:
    errors: Errors = {}
    if not isinstance(row, dict):
        return [], "", "", {"": ["Each row must be a JSON object."]}
    if fmt == "hh-rlhf":
        conversations = {}
        for field in ("chosen", "rejected"):
            try:
                conversations[field] = parse_hh_transcript(row.get(field))
            except ValueError as exc:
                errors.setdefault(field, []).append(str(exc))
        if errors:
            return [], "", "", errors
        prompt_c, chosen = _split_last_assistant(conversations["chosen"], "chosen", errors)
        prompt_r, rejected = _split_last_assistant(conversations["rejected"], "rejected", errors)
    elif "prompt" in row:
        prompt = row["prompt"]
        prompt_c = prompt_r = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        )
        chosen, rejected = (
            row.get(f) if isinstance(row.get(f), str) else _last_content(row.get(f), f, errors)
            for f in ("chosen", "rejected")
        )
    else:
        prompt_c, chosen = _split_last_assistant(row.get("chosen"), "chosen", errors)
        prompt_r, rejected = _split_last_assistant(row.get("rejected"), "rejected", errors)
    if errors:
        return [], "", "", errors
    if prompt_c != prompt_r:
        errors.setdefault("rejected", []).append("Chosen and rejected must share the conversation.")
    messages, message_errors = check_messages(prompt_c, "prompt")
    errors.update(message_errors)
    for field, text in (("chosen", chosen), ("rejected", rejected)):
        if not isinstance(text, str) or not text.strip():
            errors.setdefault(field, []).append("The response must be a non-empty string.")
    if not errors and chosen == rejected:
        errors.setdefault("rejected", []).append("Chosen and rejected are the same text.")
    return messages, chosen, rejected, errors


def _last_content(value: Any, field: str, errors: Errors) -> str | None:
    if (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], dict)
        and value[0].get("role") == "assistant"
    ):
        return value[0].get("content")
    errors.setdefault(field, []).append("Must be a string or a single assistant message.")
    return None


def import_account(fmt: PreferenceFormat):
    user, _ = get_user_model().objects.get_or_create(
        username=f"import-{fmt}", defaults={"is_active": False}
    )
    return user


@transaction.atomic
def preferences_import(
    *, project: Project, fmt: PreferenceFormat, rows: NumberedRows
) -> list[CandidateSet]:
    if fmt not in FORMATS:
        raise ApplicationError(f"Must be one of {', '.join(FORMATS)}.", field="format")
    if project.k != 2:
        raise ApplicationError(
            f"Preference pairs need a project with K=2; this project ranks K={project.k}.",
            field="project",
        )
    check_row_count(rows)
    errors: Errors = {}
    parsed = []
    for number, raw in rows:
        messages, chosen, rejected, row_errors = _row(fmt, raw)
        for field, messages_ in row_errors.items():
            path = f"rows[{number}]" + (f".{field}" if field else "")
            errors.setdefault(path, []).extend(messages_)
        parsed.append((messages, chosen, rejected))
    raise_row_errors(errors, len(rows))

    annotator, now, source = import_account(fmt), timezone.now(), f"import:{fmt}"
    prompts = Prompt.objects.bulk_create(
        Prompt(project=project, messages=m, source=source) for m, _, _ in parsed
    )
    candidates = Candidate.objects.bulk_create(
        Candidate(prompt=p, text=text, model_name=source)
        for p, (_, chosen, rejected) in zip(prompts, parsed, strict=True)
        for text in (chosen, rejected)
    )
    sets = CandidateSet.objects.bulk_create(
        CandidateSet(project=project, prompt=p, state=CandidateSetState.COMPLETE, completed_at=now)
        for p in prompts
    )
    CandidateSetMember.objects.bulk_create(
        CandidateSetMember(candidate_set=s, candidate=candidates[2 * i + j], position=j)
        for i, s in enumerate(sets)
        for j in range(2)
    )
    assignments = Assignment.objects.bulk_create(
        Assignment(
            candidate_set=s,
            annotator=annotator,
            state=AssignmentState.SUBMITTED,
            # Never shown to anyone: an invented order (chosen first) would read as primacy
            # bias in the annotator statistics, which skip an empty order.
            display_order=[],
            leased_at=now,
            lease_expires_at=now,
            finished_at=now,
        )
        for i, s in enumerate(sets)
    )
    Ranking.objects.bulk_create(
        Ranking(
            assignment=a,
            candidate_set=s,
            annotator=annotator,
            tiers=[[candidates[2 * i].pk], [candidates[2 * i + 1].pk]],
        )
        for i, (a, s) in enumerate(zip(assignments, sets, strict=True))
    )
    return sets
