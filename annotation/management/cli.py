"""What the management commands share: finding a project, reading an import file, turning a
refusal into a readable command error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ParseError
from tqdm import tqdm

from flywheel.errors import ApplicationError
from flywheel.ids import MAX_ID

from ..models import Project
from ..parsers import parse_upload


def resolve_project(ref: str) -> Project:
    """A project by id or slug."""
    is_id = ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID  # not "²", not past bigint
    project = Project.objects.filter(pk=int(ref)).first() if is_id else None
    project = project or Project.objects.filter(slug=ref).first()
    if project is None:
        raise CommandError(f"No project with id or slug {ref!r}.")
    return project


def read_rows(path: str) -> list[tuple[int, Any]]:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"No such file: {path}")
    try:
        return parse_upload(file.read_bytes())
    except ParseError as exc:
        raise CommandError(str(exc.detail)) from exc
    except ApplicationError as exc:  # a value PostgreSQL cannot store, too deep a document
        raise CommandError(exc.message) from exc


@contextmanager
def refusals_as_command_errors() -> Iterator[None]:
    try:
        yield
    except ApplicationError as exc:
        lines = [exc.message] + [f"  {path}: {'; '.join(m)}" for path, m in exc.errors.items()]
        raise CommandError("\n".join(lines)) from exc


@contextmanager
def progress_bar(
    total: int, unit: str, *, stream: Any, quiet: bool
) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on the command's stderr; yields the function that advances it."""
    with tqdm(total=total, unit=unit, desc="Importing", disable=quiet, file=stream) as bar:
        yield bar.update


class ImportCommand(BaseCommand):
    """A bulk import from a JSON list or JSON Lines file into a project, with a progress bar
    and the REST import's rules: ``noun`` names what a row becomes, ``unit`` counts rows on
    the bar, ``import_rows`` is the service."""

    noun: str
    unit: str
    import_rows: Callable[..., list]

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or slug.")
        parser.add_argument("file", help="Path to a .json or .jsonl file.")

    def handle(self, *args, project, file, **options):
        target = resolve_project(project)
        rows = read_rows(file)
        quiet = options["verbosity"] == 0
        with (
            refusals_as_command_errors(),
            progress_bar(len(rows), self.unit, stream=self.stderr, quiet=quiet) as advance,
        ):
            imported = type(self).import_rows(project=target, rows=rows, progress=advance)
        message = f"Imported {len(imported)} {self.noun}(s) into {target}."
        self.stdout.write(self.style.SUCCESS(message))
