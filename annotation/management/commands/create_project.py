import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation.management.cli import refusals_as_command_errors
from annotation.services.projects import DEFAULT_LEASE_SECONDS, project_create


class Command(BaseCommand):
    help = "Create a ranking project (same rules as POST /api/v1/projects/)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--k", type=int, required=True, help="Responses per prompt (2-9).")
        parser.add_argument("--overlap", type=int, default=1, help="Annotators per set.")
        parser.add_argument("--slug")
        parser.add_argument("--guidelines-file", help="Markdown file shown to annotators.")
        parser.add_argument(
            "--criteria",
            default="{}",
            help='JSON: {"flags": [..], "ratings": [{"name", "min", "max"}]}',
        )
        parser.add_argument("--no-ties", action="store_true", help="Forbid tied responses.")
        parser.add_argument("--lease-seconds", type=int, default=DEFAULT_LEASE_SECONDS)

    def handle(self, *args, **o):
        try:
            criteria = json.loads(o["criteria"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--criteria is not valid JSON: {exc.msg}") from exc
        guidelines = Path(o["guidelines_file"]).read_text() if o["guidelines_file"] else ""
        with refusals_as_command_errors():
            project = project_create(
                name=o["name"],
                k=o["k"],
                annotations_per_set=o["overlap"],
                slug=o["slug"],
                guidelines=guidelines,
                criteria=criteria,
                allow_ties=not o["no_ties"],
                lease_seconds=o["lease_seconds"],
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created project {project.name!r} (id {project.pk}, slug {project.slug})."
            )
        )
