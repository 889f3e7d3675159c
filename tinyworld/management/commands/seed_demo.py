"""Demo data for `make demo`: an admin, a reviewer, two annotators; the tiny world (built once,
cached under var/) with its base and SFT models registered; a tiny-world project whose loop is
set up and whose first round of candidates the SFT model generated; and a showcase project of
hand-written sets (markdown, code, multi-turn). Idempotent: a second run changes nothing.

``--rule`` picks the tiny world's hidden rule (`tinyworld.scorer.RULES`) the project is about:
its loop's oracle and its guidelines; ``--seed`` the loop's seed; ``--sets-per-prompt`` how many
independent sets of K each prompt gets per round. They apply when the project is created; an
existing demo project keeps its settings. Each prompt's metadata holds its topic and template."""

import os
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.enums import ProjectRole, Role
from annotation.management.cli import read_rows
from annotation.models import CandidateSet, Project
from annotation.services.imports import candidate_sets_import, prompts_import
from annotation.services.memberships import members_add
from annotation.services.projects import project_create
from annotation.services.users import user_create
from loop.services.settings import loop_for, loop_update
from tinyworld.presets import TINYWORLD_SETS_PER_PROMPT, tinyworld_loop_settings
from tinyworld.scorer import DEFAULT_RULE, RULES
from tinyworld.world import prompt_metadata

SHOWCASE_FILE = (
    Path(__file__).resolve().parents[3] / "annotation" / "fixtures" / "demo_candidate_sets.jsonl"
)
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("reviewer", Role.REVIEWER),
    ("annotator1", Role.ANNOTATOR),
    ("annotator2", Role.ANNOTATOR),
]
SHOWCASE_GUIDELINES = """\
Rank the responses from **best** to **worst** for the user who asked.

1. Correct beats fluent: a wrong answer ranks below a short right one.
2. Then helpfulness: does it answer what was asked, at the right length?
3. Put two responses in the same tier only if you truly cannot choose.
4. If every response is unusable, mark the set **all bad**.
"""
TINYWORLD_GUIDELINES = """\
The responses come from a tiny language model trained on this machine. Rank them for the user
who asked:

1. **On topic first**: an answer about the asked topic beats one about something else.
{closing}3. Responses equal on both counts go in the same tier.

Each round, the loop trains a reward model and a new policy on your rankings and generates the
next round's candidates; watch the leaderboard rise on the project's *Loop* page.
"""
POLITE_GUIDELINE = """\
2. **Then a friendly closing**: an answer that ends with a polite closing such as
   *"Hope this helps!"* beats one that ends flatly (*"That covers it."*).
"""
RULE_GUIDELINE = """\
2. **Then the closing this prompt calls for**: {description}
"""


def tinyworld_guidelines(rule: str) -> str:
    """The tiny-world project's guidelines under the hidden rule ``rule``."""
    closing = (
        POLITE_GUIDELINE
        if rule == DEFAULT_RULE
        else RULE_GUIDELINE.format(description=RULES[rule].description)
    )
    return TINYWORLD_GUIDELINES.format(closing=closing)


def tinyworld_root() -> Path:
    """Where the tiny world is built and cached (the tests share the same layout)."""
    return Path(settings.VAR_DIR) / "tinyworld"


class Command(BaseCommand):
    help = "Create demo users, the tiny-world loop project and a showcase project (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-tinyworld",
            action="store_true",
            help="Skip the tiny world (no model build, no generated candidates).",
        )
        parser.add_argument(
            "--rule",
            choices=list(RULES),
            default=DEFAULT_RULE,
            help="The hidden rule of the tiny-world project: its oracle and guidelines "
            f"(default {DEFAULT_RULE}; applies when the project is created).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="The tiny-world loop's seed: its round-0 candidates and every round's draws "
            "(applies when the project is created).",
        )
        parser.add_argument(
            "--sets-per-prompt",
            type=int,
            choices=range(1, 9),
            default=TINYWORLD_SETS_PER_PROMPT,
            help="Independent candidate sets of K per prompt, in round 0 and every round "
            f"(default {TINYWORLD_SETS_PER_PROMPT}; applies when the project is created).",
        )

    def handle(
        self,
        *args,
        no_tinyworld=False,
        rule=DEFAULT_RULE,
        seed=0,
        sets_per_prompt=TINYWORLD_SETS_PER_PROMPT,
        **options,
    ):
        password = os.environ.get("FLYWHEEL_DEMO_PASSWORD", "flywheel-demo")
        User = get_user_model()
        with transaction.atomic():
            for username, role in DEMO_USERS:
                if not User.objects.filter(username=username).exists():
                    user_create(username=username, password=password, role=role)
        showcase = self.showcase()
        self.members(showcase)
        lines = [f"Showcase project: {showcase.name} (id {showcase.pk})"]
        if not no_tinyworld:
            project, generated = self.tinyworld_project(rule, seed, sets_per_prompt)
            self.members(project)
            lines.insert(0, f"Loop project: {project.name} (id {project.pk}); {generated}")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write("Logins (password for all: " + password + "):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role}")

    def members(self, project: Project) -> None:
        """The demo's annotators and reviewer work in each demo project."""
        for role in (ProjectRole.ANNOTATOR, ProjectRole.REVIEWER):
            names = [name for name, account in DEMO_USERS if account.value == role.value]
            members_add(project=project, users=names, role=role, by=None)

    def showcase(self) -> Project:
        with transaction.atomic():
            project = Project.objects.filter(slug="showcase").first()
            if project is None:
                project = project_create(
                    name="Showcase: helpful answers",
                    slug="showcase",
                    k=4,
                    annotations_per_set=2,
                    guidelines=SHOWCASE_GUIDELINES,
                    criteria={
                        "flags": ["factually_wrong", "unsafe", "off_topic"],
                        "ratings": [{"name": "helpfulness", "min": 1, "max": 7}],
                    },
                )
            if not project.candidate_sets.exists():
                candidate_sets_import(project=project, rows=read_rows(str(SHOWCASE_FILE)))
        return project

    def tinyworld_project(self, rule: str, seed: int, sets_per_prompt: int) -> tuple[Project, str]:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        from tinyworld.build import build_tinyworld
        from tinyworld.management.commands.build_tinyworld import register_tinyworld
        from training.services.generation import generation_job_create, generation_job_execute

        root = tinyworld_root()
        if not (root / "tinyworld.json").exists():
            self.stderr.write("Building the tiny world once (about a minute)…")
        world = build_tinyworld(root, seed=0)
        _, sft = register_tinyworld(world)
        with transaction.atomic():
            project = Project.objects.filter(slug="demo").first()
            if project is None:
                project = project_create(
                    name="Tiny world: polite answers"
                    if rule == DEFAULT_RULE
                    else f"Tiny world: the {rule} rule",
                    slug="demo",
                    k=4,
                    annotations_per_set=1,
                    guidelines=tinyworld_guidelines(rule),
                    criteria={"flags": ["off_topic", "broken_text"]},
                )
                prompts_import(
                    project=project,
                    rows=[
                        (i, {"messages": p, "metadata": prompt_metadata(p)})
                        for i, p in enumerate(world.train_prompts(), start=1)
                    ],
                )
                project.current_policy = sft
                project.save(update_fields=["current_policy"])
                loop_update(
                    loop=loop_for(project),
                    changes=tinyworld_loop_settings(
                        eval_prompts=world.heldout_prompts(),
                        rule=rule,
                        sets_per_prompt=sets_per_prompt,
                    )
                    | {"auto": True, "seed": seed},
                )
        if CandidateSet.objects.filter(project=project).exists():
            return project, "candidates ready"
        started = time.perf_counter()
        loop = loop_for(project)
        job = generation_job_create(
            project=project,
            model_version=sft,
            prompts="pending",
            sampling=loop.sampling,
            seed=loop.seed,
            round=0,
            sets_per_prompt=loop.sets_per_prompt,
        )
        generation_job_execute(job_id=job.pk)  # now, so the first round is ready to rank
        job.refresh_from_db()
        return project, (
            f"round 0: {job.sets_created} candidate sets from {sft.name} "
            f"in {time.perf_counter() - started:.1f}s"
        )
