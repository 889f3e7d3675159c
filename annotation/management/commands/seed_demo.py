"""Demo data for `make demo`: an admin, a reviewer, two annotators and a demo project with
candidate sets ready to rank. Idempotent: a second run changes nothing."""

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.enums import Role
from annotation.management.cli import read_rows
from annotation.models import Project
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create

DEMO_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo_candidate_sets.jsonl"
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("reviewer", Role.REVIEWER),
    ("annotator1", Role.ANNOTATOR),
    ("annotator2", Role.ANNOTATOR),
]
GUIDELINES = """\
Rank the responses from **best** to **worst** for the user who asked.

1. Correct beats fluent: a wrong answer ranks below a short right one.
2. Then helpfulness: does it answer what was asked, at the right length?
3. Put two responses in the same tier only if you truly cannot choose.
4. If every response is unusable, mark the set **all bad**.
"""


class Command(BaseCommand):
    help = "Create demo users and a demo project with candidate sets (idempotent)."

    def handle(self, *args, **options):
        password = os.environ.get("FLYWHEEL_DEMO_PASSWORD", "flywheel-demo")
        User = get_user_model()
        with transaction.atomic():
            for username, role in DEMO_USERS:
                if not User.objects.filter(username=username).exists():
                    user_create(username=username, password=password, role=role)
            project = Project.objects.filter(slug="demo").first()
            if project is None:
                project = project_create(
                    name="Demo: helpful answers",
                    slug="demo",
                    k=4,
                    annotations_per_set=2,
                    guidelines=GUIDELINES,
                    criteria={
                        "flags": ["factually_wrong", "unsafe", "off_topic"],
                        "ratings": [{"name": "helpfulness", "min": 1, "max": 7}],
                    },
                )
            if not project.candidate_sets.exists():
                candidate_sets_import(project=project, rows=read_rows(str(DEMO_FILE)))
        self.stdout.write(f"Demo project: {project.name} (id {project.pk})")
        self.stdout.write("Logins (password for all: " + password + "):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role}")
