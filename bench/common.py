"""What the benchmarks share: a scratch database on DATABASE_URL's server, and the SQL that
seeds a project with K-candidate sets fast (benchmarks need tens of thousands of rows; the
services' validation would dominate the set-up time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent


def in_process_django() -> None:
    """For a benchmark that runs the product's code in its own process: the repository on
    sys.path, the hub offline, the settings, the development key and the default database
    (each unless the environment says otherwise)."""
    import os

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
    os.environ.setdefault("FLYWHEEL_ALLOW_INSECURE_KEY", "1")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flywheel")


class NoHooks:
    """RunHooks that record nothing and never stop the run."""

    def on_log(self, step, metrics) -> None:
        pass

    def on_progress(self, step, total_steps) -> None:
        pass

    def on_checkpoint(self, step) -> None:
        pass

    def should_stop(self) -> bool:
        return False


# Prompts, K candidates per prompt and one set per prompt in `%(state)s` ('open' for next-task,
# 'complete' for exports), for project `%(project)s`.
SETS_SQL = """
INSERT INTO annotation_prompt (project_id, messages, source, external_id, metadata, created_at)
SELECT %(project)s,
       jsonb_build_array(jsonb_build_object('role', 'user', 'content',
           'Question ' || g || ': explain how a transformer model attends to its context, '
           || 'in a few sentences, for a curious student.')),
       'bench', '', '{}', now()
FROM generate_series(1, %(sets)s) g;

INSERT INTO annotation_candidate (prompt_id, text, model_name, sampling_params, created_at)
SELECT p.id,
       'Response ' || j || ' to prompt ' || p.id || '. ' || repeat('Attention weighs every '
       || 'token against every other token, so each position can draw on the whole context. ', 3),
       'bench-model', '{}', now()
FROM annotation_prompt p CROSS JOIN generate_series(0, %(k)s - 1) j
WHERE p.project_id = %(project)s;

INSERT INTO annotation_candidateset (project_id, prompt_id, round, state, gold_source,
                                     created_at)
SELECT %(project)s, p.id, 0, %(state)s, '', now()
FROM annotation_prompt p WHERE p.project_id = %(project)s ORDER BY p.id;

INSERT INTO annotation_candidatesetmember (candidate_set_id, candidate_id, position)
SELECT s.id, c.id, row_number() OVER (PARTITION BY s.id ORDER BY c.id) - 1
FROM annotation_candidateset s JOIN annotation_candidate c ON c.prompt_id = s.prompt_id
WHERE s.project_id = %(project)s;
"""


def admin_sql(admin_url: str, statement: str) -> None:
    """Run one statement on the server's maintenance database, outside a transaction."""
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py *args`` with ``env``; its standard output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
