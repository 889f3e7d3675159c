"""``flywheel.sql``: hot-path statements prepared once per database connection, sent together in
one round trip, with the same answers as the plain statements. ``annotation/sql``: the database
functions the migrations create are the text of its files."""

from __future__ import annotations

import re
import threading
import time

import psycopg2
import pytest
from django.db import DataError, ProgrammingError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from annotation.models import Project
from annotation.selectors import project_by_id
from annotation.sql import sql_text
from flywheel.sql import Statements, fetch_one

pytestmark = pytest.mark.django_db


def connection_url() -> str:
    params = connection.get_connection_params()
    return psycopg2.extensions.make_dsn(
        **{k: v for k, v in params.items() if k in {"dbname", "user", "password", "host", "port"}}
    )


def lock_then_read() -> Statements:
    """A new pair of statements (new names), so no earlier test on this connection prepared
    them."""
    return Statements(
        "SELECT 1 FROM annotation_project WHERE id = %(project)s FOR UPDATE",
        "SELECT name, k, criteria FROM annotation_project WHERE id = %(project)s",
    )


def prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_statements_are_prepared_once_and_answer_as_the_plain_ones(make_project, settings):
    project = make_project(k=3, criteria={"flags": ["unsafe"]})
    statements = lock_then_read()
    settings.FLYWHEEL_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as plain:
        expected = fetch_one(statements, {"project": project.pk})
    assert len(plain) == 1 and "PREPARE" not in plain[0]["sql"]
    assert "EXECUTE" not in plain[0]["sql"]

    settings.FLYWHEEL_PREPARED_STATEMENTS = True
    with CaptureQueriesContext(connection) as first:
        assert fetch_one(statements, {"project": project.pk}) == expected
    with CaptureQueriesContext(connection) as second:
        assert fetch_one(statements, {"project": project.pk}) == expected
    # First use on a connection: each PREPARE on its own, then both EXECUTEs in one round trip.
    assert [q["sql"].split()[0] for q in first] == ["PREPARE", "PREPARE", "EXECUTE"]
    assert first[-1]["sql"].count("EXECUTE ") == 2
    assert len(second) == 1 and second[0]["sql"].count("EXECUTE ") == 2
    assert "PREPARE" not in second[0]["sql"]
    assert {name for name, _, _ in statements._parts} <= prepared_here()
    assert expected[:2] == (project.name, 3)


def test_a_statement_whose_first_run_fails_still_runs_afterwards(settings):
    """The first run of a statement on a connection errors after its PREPARE (here a division
    by zero; in production a unique violation or a deadlock): the statement is prepared all
    the same, and the next run must not try to prepare it again ("already exists")."""
    settings.FLYWHEEL_PREPARED_STATEMENTS = True
    statements = Statements("SELECT 10 / %(divisor)s::int")
    with pytest.raises(DataError), transaction.atomic():
        fetch_one(statements, {"divisor": 0})
    assert fetch_one(statements, {"divisor": 5}) == (2,)


@pytest.mark.django_db(transaction=True)
def test_a_read_after_a_lock_in_the_same_round_trip_sees_what_committed_while_it_waited(
    make_project,
):
    """What next-task and submit rely on: PostgreSQL runs the statements of one round trip one
    after the other, each with its own snapshot under READ COMMITTED, so a read sent after a
    lock sees what the lock holder committed, even in another row."""
    locked, other = make_project(name="locked", k=2), make_project(name="before", k=2)
    lock_then_read_other = Statements(
        "SELECT 1 FROM annotation_project WHERE id = %(locked)s FOR UPDATE",
        "SELECT name FROM annotation_project WHERE id = %(other)s",
    )
    holder = psycopg2.connect(connection_url())
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT 1 FROM annotation_project WHERE id = %s FOR UPDATE", [locked.pk])
            seen = []

            def read():
                try:
                    seen.append(
                        fetch_one(lock_then_read_other, {"locked": locked.pk, "other": other.pk})
                    )
                finally:
                    connections.close_all()

            reader = threading.Thread(target=read)
            reader.start()
            time.sleep(0.5)  # the reader is now waiting for the lock
            assert reader.is_alive()
            cursor.execute("UPDATE annotation_project SET name = 'after' WHERE id = %s", [other.pk])
        holder.commit()
        reader.join(10)
    finally:
        holder.close()
    assert seen == [("after",)]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(make_project, settings):
    settings.FLYWHEEL_PREPARED_STATEMENTS = True
    project = make_project(k=2)
    statements = lock_then_read()
    assert fetch_one(statements, {"project": project.pk})[1] == 2
    connection.close()
    with CaptureQueriesContext(connection) as again:
        assert fetch_one(statements, {"project": project.pk})[1] == 2
    assert [q["sql"].split()[0] for q in again] == ["PREPARE", "PREPARE", "EXECUTE"]


def test_a_parameter_the_statement_leaves_untyped_needs_a_declared_type(settings):
    settings.FLYWHEEL_PREPARED_STATEMENTS = True
    untyped = Statements("SELECT %(limit)s IS NULL OR %(limit)s > 1")
    typed = Statements("SELECT %(limit)s IS NULL OR %(limit)s > 1", types={"limit": "bigint"})
    assert fetch_one(typed, {"limit": None}) == (True,)
    assert fetch_one(typed, {"limit": 5}) == (True,)
    assert fetch_one(typed, {"limit": 0}) == (False,)
    with (
        pytest.raises(ProgrammingError, match="could not determine data type"),
        transaction.atomic(),
    ):
        fetch_one(untyped, {"limit": 5})


def test_project_by_id_reads_the_model_as_the_orm_does(make_project):
    project = make_project(k=4, criteria={"flags": ["unsafe"], "ratings": []})
    read = project_by_id(project_id=project.pk)
    orm = Project.objects.get(pk=project.pk)
    for field in Project._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
    assert read.flag_names == ["unsafe"]
    assert project_by_id(project_id=project.pk + 1000) is None


NEXT_TASK_FUNCTIONS = {"flywheel_lease", "flywheel_next_task"}


def function_bodies(script: str) -> dict[str, str]:
    """The body (between its dollar quotes) of each ``CREATE … FUNCTION`` in a script."""
    found = re.finditer(
        r"CREATE OR REPLACE FUNCTION (?P<name>\w+)\(.*?"
        r"AS \$(?P<tag>\w*)\$(?P<body>.*?)\$(?P=tag)\$",
        script,
        re.DOTALL,
    )
    return {match["name"]: match["body"] for match in found}


def functions_in_database() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)",
            [list(NEXT_TASK_FUNCTIONS)],
        )
        return dict(cursor.fetchall())


def test_the_next_task_functions_in_the_database_are_the_text_of_next_task_sql():
    in_file = function_bodies(sql_text("next_task"))
    assert set(in_file) == NEXT_TASK_FUNCTIONS
    assert functions_in_database() == in_file


def test_the_next_task_migration_reverses_and_applies_again():
    """Inside the test's transaction: PostgreSQL rolls the DROP and CREATE back with it."""
    executor = MigrationExecutor(connection)
    executor.migrate([("annotation", "0004_ai_suggestion")])
    assert functions_in_database() == {}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert functions_in_database() == function_bodies(sql_text("next_task"))
