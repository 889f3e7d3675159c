"""next-task in one database call (issue #7): creates ``flywheel_next_task`` and
``flywheel_lease`` from ``annotation/sql/next_task.sql``, where their SQL and what they do are
written.

The file holds the functions' current text. A later change to them edits the file and adds a
migration that runs it again (``CREATE OR REPLACE``), so existing databases get it; on a new
database this migration already creates the new text, which is harmless because PL/pgSQL looks up
tables and columns only when a statement runs. A change of a function's arguments also drops the
old signature in that migration (the ``DROP`` below reverses this one and stays as it is).
"""

from django.db import migrations

from annotation.sql import sql_text

DROP = """
DROP FUNCTION IF EXISTS flywheel_next_task(
    bigint, integer, timestamptz, double precision, bigint[], integer, integer);
DROP FUNCTION IF EXISTS flywheel_lease(bigint, integer, timestamptz, timestamptz, integer);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0004_ai_suggestion"),
    ]

    operations = [migrations.RunSQL(sql_text("next_task"), reverse_sql=DROP)]
