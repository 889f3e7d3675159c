from django.core.management.base import BaseCommand

from annotation.management.cli import (
    progress_bar,
    read_rows,
    refusals_as_command_errors,
    resolve_project,
)
from annotation.services.imports import candidate_sets_import


class Command(BaseCommand):
    help = (
        "Import externally generated candidate sets into a project from a JSON list or JSON "
        'Lines file of {"prompt"|"messages", "candidates": [{"text", "model"?}] x K} rows.'
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or slug.")
        parser.add_argument("file", help="Path to a .json or .jsonl file.")

    def handle(self, *args, project, file, **options):
        target = resolve_project(project)
        rows = read_rows(file)
        quiet = options["verbosity"] == 0
        with (
            refusals_as_command_errors(),
            progress_bar(len(rows), "set", stream=self.stderr, quiet=quiet) as advance,
        ):
            sets = candidate_sets_import(project=target, rows=rows, progress=advance)
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(sets)} candidate set(s) into {target}.")
        )
