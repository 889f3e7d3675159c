"""Bulk import of prompts and of externally generated candidate sets.

All rows are validated before anything is written; one bad row refuses the whole batch with
every problem named by row number and field (``rows[3].messages[1].role``). Rows are numbered
from 1: the line number of a JSONL upload, the position in a JSON list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from flywheel.errors import ApplicationError

from ..models import Candidate, CandidateSet, CandidateSetMember, Project, Prompt
from ..validation import (
    Errors,
    PromptRow,
    check_candidate_set_row,
    check_prompt_row,
)

Progress = Callable[[int], None]
NumberedRows = Sequence[tuple[int, Any]]
WRITE_CHUNK = 1000
MAX_REPORTED_ERRORS = 200


def _row_path(number: int, field: str) -> str:
    return f"rows[{number}]" + (f".{field}" if field else "")


def raise_row_errors(errors: Errors, rows: int) -> None:
    if not errors:
        return
    bad_rows = len({path.split("]")[0] for path in errors})
    shown = dict(list(errors.items())[:MAX_REPORTED_ERRORS])
    first_path, first_messages = next(iter(errors.items()))
    raise ApplicationError(
        f"{bad_rows} of {rows} row(s) are invalid; nothing was imported. "
        f"First: {first_path}: {first_messages[0]}",
        errors=shown,
    )


def check_row_count(rows: NumberedRows) -> None:
    if not rows:
        raise ApplicationError("The upload contains no rows.", field="rows")
    if len(rows) > settings.FLYWHEEL_MAX_IMPORT_ROWS:
        raise ApplicationError(
            f"At most {settings.FLYWHEEL_MAX_IMPORT_ROWS} rows per import; got {len(rows)}. "
            "Split the file.",
            field="rows",
        )


def _check_external_ids(
    project: Project, numbered: list[tuple[int, PromptRow]], errors: Errors, *, reuse: bool
) -> dict[str, Prompt]:
    """External ids are unique per project. With ``reuse`` (candidate sets), a row may name an
    existing prompt by external id if its conversation is the same; returns those prompts."""
    wanted = {row.external_id for _, row in numbered if row.external_id}
    existing = {
        p.external_id: p for p in Prompt.objects.filter(project=project, external_id__in=wanted)
    }
    first_in_batch: dict[str, PromptRow] = {}
    for number, row in numbered:
        ext = row.external_id
        if not ext:
            continue
        path = _row_path(number, "external_id")
        if ext in existing and not reuse:
            errors.setdefault(path, []).append(f"A prompt with external_id {ext!r} exists.")
        elif ext in existing and existing[ext].messages != row.messages:
            errors.setdefault(path, []).append(
                f"Prompt {ext!r} exists with a different conversation."
            )
        elif ext in first_in_batch and (not reuse or first_in_batch[ext].messages != row.messages):
            errors.setdefault(path, []).append(f"external_id {ext!r} repeats an earlier row.")
        first_in_batch.setdefault(ext, row)
    return existing


def _new_prompt(project: Project, row: PromptRow) -> Prompt:
    return Prompt(
        project=project,
        messages=row.messages,
        external_id=row.external_id,
        source=row.source,
        metadata=row.metadata,
    )


def _bulk_create(model, objs: list, progress: Progress | None) -> list:
    created = []
    for start in range(0, len(objs), WRITE_CHUNK):
        chunk = model.objects.bulk_create(objs[start : start + WRITE_CHUNK])
        created.extend(chunk)
        if progress:
            progress(len(chunk))
    return created


def _model_version_ids(names: set[str]) -> dict[str, int]:
    """The ids of the model versions (training's table) that imported candidates name, so that
    a candidate whose ``model`` is a registered version links to it. Reached through
    ``Candidate``'s foreign key rather than imported: annotation is the layer below training."""
    model_version = Candidate._meta.get_field("model_version").related_model
    return dict(model_version.objects.filter(name__in=names).values_list("name", "pk"))


def _checked_rows(rows: NumberedRows, check) -> tuple[list[tuple[int, Any]], Errors]:
    """Each row through ``check`` (raw row → (row, its errors)), numbered, with every error
    under the row's path; refuses too many rows before reading any."""
    check_row_count(rows)
    errors: Errors = {}
    numbered = []
    for number, raw in rows:
        row, row_errors = check(raw)
        for field, messages in row_errors.items():
            errors.setdefault(_row_path(number, field), []).extend(messages)
        numbered.append((number, row))
    return numbered, errors


def prompts_import(
    *, project: Project, rows: NumberedRows, progress: Progress | None = None
) -> list[Prompt]:
    numbered, errors = _checked_rows(rows, check_prompt_row)
    _check_external_ids(project, numbered, errors, reuse=False)
    raise_row_errors(errors, len(rows))
    with transaction.atomic():
        return _bulk_create(Prompt, [_new_prompt(project, row) for _, row in numbered], progress)


def candidate_sets_import(
    *, project: Project, rows: NumberedRows, progress: Progress | None = None
) -> list[CandidateSet]:
    numbered, errors = _checked_rows(rows, lambda raw: check_candidate_set_row(raw, k=project.k))
    existing = _check_external_ids(
        project, [(n, r.prompt) for n, r in numbered], errors, reuse=True
    )
    raise_row_errors(errors, len(rows))

    model_names = {c.model for _, r in numbered for c in r.candidates if c.model}
    model_version_ids = _model_version_ids(model_names)
    with transaction.atomic():
        prompts_by_ext = dict(existing)
        new_prompts: list[Prompt] = []
        row_prompts: list[Prompt] = []
        for _, row in numbered:
            ext = row.prompt.external_id
            prompt = prompts_by_ext.get(ext) if ext else None
            if prompt is None:
                prompt = _new_prompt(project, row.prompt)
                new_prompts.append(prompt)
                if ext:
                    prompts_by_ext[ext] = prompt
            row_prompts.append(prompt)
        Prompt.objects.bulk_create(new_prompts)

        sets = CandidateSet.objects.bulk_create(
            [
                CandidateSet(project=project, prompt=prompt, round=row.round)
                for prompt, (_, row) in zip(row_prompts, numbered, strict=True)
            ]
        )
        candidates = [
            Candidate(
                prompt=prompt,
                text=cand.text,
                model_name=cand.model,
                model_version_id=model_version_ids.get(cand.model),
            )
            for prompt, (_, row) in zip(row_prompts, numbered, strict=True)
            for cand in row.candidates
        ]
        Candidate.objects.bulk_create(candidates, batch_size=WRITE_CHUNK)
        members = [
            CandidateSetMember(
                candidate_set=candidate_set,
                candidate=candidates[i * project.k + position],
                position=position,
            )
            for i, candidate_set in enumerate(sets)
            for position in range(project.k)
        ]
        # Progress counts sets; members are written k per set.
        for start in range(0, len(sets), WRITE_CHUNK):
            chunk = members[start * project.k : (start + WRITE_CHUNK) * project.k]
            CandidateSetMember.objects.bulk_create(chunk)
            if progress:
                progress(len(chunk) // project.k)
    return sets
