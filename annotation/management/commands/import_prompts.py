from django.core.management.base import BaseCommand

from annotation.management.cli import (
    progress_bar,
    read_rows,
    refusals_as_command_errors,
    resolve_project,
)
from annotation.services.imports import prompts_import


class Command(BaseCommand):
    help = (
        "Import prompts into a project from a JSON list or JSON Lines file of "
        '{"prompt": str} or {"messages": [...]} rows (same rules as the REST import).'
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
            progress_bar(len(rows), "prompt", stream=self.stderr, quiet=quiet) as advance,
        ):
            prompts = prompts_import(project=target, rows=rows, progress=advance)
        self.stdout.write(self.style.SUCCESS(f"Imported {len(prompts)} prompt(s) into {target}."))
