"""Import of existing preference data (issue #3): ``POST …/preferences/?source=hh-rlhf|trl``
into a K=2 project. Each row becomes a prompt, a complete set of two and a ranking
``[[chosen], [rejected]]`` by an inactive import account; the export gives the pairs back."""

import json

import pytest
from django.contrib.auth import get_user_model

from annotation.enums import AssignmentState, CandidateSetState, Role
from annotation.models import Assignment, Candidate, CandidateSet, Prompt, Ranking

pytestmark = pytest.mark.django_db

HH_SINGLE = {
    "chosen": "\n\nHuman: What is the capital of France?\n\nAssistant: Paris.",
    "rejected": "\n\nHuman: What is the capital of France?\n\nAssistant: Lyon, I think.",
}
HH_MULTI = {
    "chosen": "\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?"
    "\n\nHuman: Name a prime.\n\nAssistant: 7 is prime.",
    "rejected": "\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?"
    "\n\nHuman: Name a prime.\n\nAssistant: 9 is prime.",
}
TRL_EXPLICIT_TEXT = {"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "Seven."}
TRL_EXPLICIT_MESSAGES = {
    "prompt": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is 2 + 2?"},
    ],
    "chosen": [{"role": "assistant", "content": "4"}],
    "rejected": [{"role": "assistant", "content": "5"}],
}
TRL_IMPLICIT = {
    "chosen": [
        {"role": "user", "content": "Is the sky blue?"},
        {"role": "assistant", "content": "Yes, on a clear day."},
    ],
    "rejected": [
        {"role": "user", "content": "Is the sky blue?"},
        {"role": "assistant", "content": "No."},
    ],
}


def import_preferences(client, project, rows, source: str | None):
    query = f"?source={source}" if source is not None else ""
    return client.post(f"/api/v1/projects/{project.pk}/preferences/{query}", rows, format="json")


def export(client, project, view: str) -> list[dict]:
    response = client.get(f"/api/v1/projects/{project.pk}/export/?view={view}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines() if line]


def assert_nothing_written():
    assert Prompt.objects.count() == 0
    assert Candidate.objects.count() == 0
    assert CandidateSet.objects.count() == 0
    assert Ranking.objects.count() == 0
    assert not get_user_model().objects.filter(username__startswith="import-").exists()


@pytest.fixture
def pair_project(make_project):
    return make_project(k=2)


def imported(response) -> list[CandidateSet]:
    assert response.status_code == 201, response.content
    return list(CandidateSet.objects.filter(pk__in=response.json()["ids"]).order_by("id"))


def chosen_and_rejected(candidate_set: CandidateSet) -> tuple[str, str]:
    ranking = Ranking.objects.get(candidate_set=candidate_set)
    (chosen,), (rejected,) = ranking.tiers
    return Candidate.objects.get(pk=chosen).text, Candidate.objects.get(pk=rejected).text


@pytest.mark.parametrize(
    ("source", "row", "messages", "chosen", "rejected"),
    [
        (
            "hh-rlhf",
            HH_SINGLE,
            [{"role": "user", "content": "What is the capital of France?"}],
            "Paris.",
            "Lyon, I think.",
        ),
        (
            "hh-rlhf",
            HH_MULTI,
            [
                {"role": "user", "content": "Hi!"},
                {"role": "assistant", "content": "Hello, how can I help?"},
                {"role": "user", "content": "Name a prime."},
            ],
            "7 is prime.",
            "9 is prime.",
        ),
        (
            "trl",
            TRL_EXPLICIT_TEXT,
            [{"role": "user", "content": "Name a colour."}],
            "Blue.",
            "Seven.",
        ),
        ("trl", TRL_EXPLICIT_MESSAGES, TRL_EXPLICIT_MESSAGES["prompt"], "4", "5"),
        (
            "trl",
            TRL_IMPLICIT,
            [{"role": "user", "content": "Is the sky blue?"}],
            "Yes, on a clear day.",
            "No.",
        ),
    ],
    ids=[
        "hh-single-turn",
        "hh-multi-turn",
        "trl-explicit-text",
        "trl-explicit-messages",
        "trl-implicit",
    ],
)
def test_a_preference_row_becomes_a_prompt_a_complete_pair_and_a_ranking(
    admin_client, pair_project, source, row, messages, chosen, rejected
):
    (candidate_set,) = imported(import_preferences(admin_client, pair_project, [row], source))
    assert candidate_set.state == CandidateSetState.COMPLETE
    assert candidate_set.completed_at is not None
    assert candidate_set.gold_tiers is None
    assert candidate_set.prompt.messages == messages
    assert candidate_set.prompt.source == f"import:{source}"
    assert candidate_set.candidates.count() == 2
    assert chosen_and_rejected(candidate_set) == (chosen, rejected)
    ranking = Ranking.objects.get(candidate_set=candidate_set)
    assert ranking.annotator.username == f"import-{source}"
    assert ranking.annotator.is_active is False
    assert ranking.not_rankable is False
    assert ranking.assignment.state == AssignmentState.SUBMITTED


def test_imported_pairs_export_with_the_same_chosen_and_rejected(admin_client, pair_project):
    imported(import_preferences(admin_client, pair_project, [HH_SINGLE, HH_MULTI], "hh-rlhf"))
    imported(
        import_preferences(
            admin_client,
            pair_project,
            [TRL_EXPLICIT_TEXT, TRL_EXPLICIT_MESSAGES, TRL_IMPLICIT],
            "trl",
        )
    )
    rows = export(admin_client, pair_project, "preference")
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [
        (
            [{"role": "user", "content": "What is the capital of France?"}],
            [{"role": "assistant", "content": "Paris."}],
            [{"role": "assistant", "content": "Lyon, I think."}],
        ),
        (
            [
                {"role": "user", "content": "Hi!"},
                {"role": "assistant", "content": "Hello, how can I help?"},
                {"role": "user", "content": "Name a prime."},
            ],
            [{"role": "assistant", "content": "7 is prime."}],
            [{"role": "assistant", "content": "9 is prime."}],
        ),
        (
            [{"role": "user", "content": "Name a colour."}],
            [{"role": "assistant", "content": "Blue."}],
            [{"role": "assistant", "content": "Seven."}],
        ),
        (
            TRL_EXPLICIT_MESSAGES["prompt"],
            TRL_EXPLICIT_MESSAGES["chosen"],
            TRL_EXPLICIT_MESSAGES["rejected"],
        ),
        (
            TRL_IMPLICIT["chosen"][:1],
            TRL_IMPLICIT["chosen"][1:],
            TRL_IMPLICIT["rejected"][1:],
        ),
    ]
    assert all(r["margin"] == 1.0 for r in rows)


def test_hh_rlhf_import_round_trips_through_the_hh_rlhf_export(admin_client, pair_project):
    imported(import_preferences(admin_client, pair_project, [HH_SINGLE, HH_MULTI], "hh-rlhf"))
    rows = export(admin_client, pair_project, "hh-rlhf")
    assert [{"chosen": r["chosen"], "rejected": r["rejected"]} for r in rows] == [
        HH_SINGLE,
        HH_MULTI,
    ]


def test_preference_import_accepts_json_lines(admin_client, pair_project):
    body = "\n".join(json.dumps(row) for row in (TRL_EXPLICIT_TEXT, TRL_IMPLICIT)) + "\n"
    response = admin_client.post(
        f"/api/v1/projects/{pair_project.pk}/preferences/?source=trl",
        body,
        content_type="application/x-ndjson",
    )
    assert len(imported(response)) == 2


def test_the_import_account_shows_no_position_bias(admin_client, client_for, pair_project):
    """Imported pairs were never displayed; an invented order (chosen first) would make the
    import account look like it always tops the first-shown response."""
    rows = [
        {"prompt": f"Question {i}?", "chosen": f"Good answer {i}.", "rejected": f"Bad answer {i}."}
        for i in range(12)
    ]
    imported(import_preferences(admin_client, pair_project, rows, "trl"))
    response = client_for(Role.REVIEWER).get(f"/api/v1/projects/{pair_project.pk}/annotators/")
    (stats,) = response.json()["results"]
    assert stats["username"] == "import-trl"
    assert stats["rankings"] == 12
    assert stats["position_bias"]["first_shown_top_rate"] == 0.0
    assert stats["position_bias"]["p_value"] == 1.0
    assert stats["flags"] == {}


def test_a_second_import_reuses_the_import_account(admin_client, pair_project):
    imported(import_preferences(admin_client, pair_project, [TRL_EXPLICIT_TEXT], "trl"))
    imported(import_preferences(admin_client, pair_project, [TRL_IMPLICIT], "trl"))
    assert get_user_model().objects.filter(username="import-trl").count() == 1
    assert Ranking.objects.values("annotator").distinct().count() == 1


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [3, 4])
def test_preference_import_needs_a_k2_project(admin_client, make_project, k):
    project = make_project(k=k)
    response = import_preferences(admin_client, project, [TRL_EXPLICIT_TEXT], "trl")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "project": [f"Preference pairs need a project with K=2; this project ranks K={k}."]
    }
    assert_nothing_written()


@pytest.mark.parametrize("source", ["ultrafeedback", "", None])
def test_unknown_or_missing_source_is_refused(admin_client, pair_project, source):
    response = import_preferences(admin_client, pair_project, [TRL_EXPLICIT_TEXT], source)
    assert response.status_code == 400
    assert response.json()["errors"] == {"source": ["Must be one of hh-rlhf, trl."]}
    assert_nothing_written()


SAME = "\n\nHuman: Hi\n\nAssistant: Hello."
REFUSALS = [
    (
        "hh-rlhf",
        {"chosen": SAME, "rejected": SAME},
        "rejected",
        "Chosen and rejected are the same text.",
    ),
    (
        "trl",
        {"prompt": "Q?", "chosen": "A.", "rejected": "A."},
        "rejected",
        "Chosen and rejected are the same text.",
    ),
    (
        "hh-rlhf",
        {"chosen": SAME, "rejected": "\n\nHuman: Hey\n\nAssistant: Bye."},
        "rejected",
        "Chosen and rejected must share the conversation.",
    ),
    (
        "trl",
        {
            "chosen": TRL_IMPLICIT["chosen"],
            "rejected": [{"role": "user", "content": "Other?"}, TRL_IMPLICIT["rejected"][1]],
        },
        "rejected",
        "Chosen and rejected must share the conversation.",
    ),
    (
        "hh-rlhf",
        {"chosen": "Paris.", "rejected": SAME},
        "chosen",
        'Must be a transcript starting with "\\n\\nHuman: ".',
    ),
    (
        "hh-rlhf",
        {"chosen": "\n\nAssistant: Paris.\n\nHuman: Hi\n\nAssistant: Hello.", "rejected": SAME},
        "chosen",
        'Must be a transcript starting with "\\n\\nHuman: ".',
    ),
    (
        "hh-rlhf",
        {"chosen": "\n\nHuman: Hi", "rejected": SAME},
        "chosen",
        "Must be a conversation ending in the assistant's response.",
    ),
    (
        "hh-rlhf",
        {"chosen": SAME},
        "rejected",
        'Must be a transcript starting with "\\n\\nHuman: ".',
    ),
    (
        "trl",
        {"prompt": "Q?", "chosen": "A."},
        "rejected",
        "Must be a string or a single assistant message.",
    ),
    (
        "trl",
        {"prompt": "Q?", "chosen": "A.", "rejected": "  "},
        "rejected",
        "The response must be a non-empty string.",
    ),
    (
        "trl",
        {"chosen": TRL_IMPLICIT["chosen"]},
        "rejected",
        "Must be a conversation ending in the assistant's response.",
    ),
    (
        "trl",
        {"chosen": TRL_IMPLICIT["chosen"][:1], "rejected": TRL_IMPLICIT["rejected"]},
        "chosen",
        "Must be a conversation ending in the assistant's response.",
    ),
    (
        "trl",
        {"prompt": [{"role": "assistant", "content": "Hi"}], "chosen": "A.", "rejected": "B."},
        "prompt",
        "The conversation must end with a user message.",
    ),
]


@pytest.mark.parametrize(
    ("source", "bad", "field", "message"),
    REFUSALS,
    ids=[
        "hh-same-text",
        "trl-same-text",
        "hh-conversations-differ",
        "trl-implicit-conversations-differ",
        "hh-not-a-transcript",
        "hh-starts-with-assistant",
        "hh-no-assistant-response",
        "hh-missing-rejected",
        "trl-missing-rejected",
        "trl-blank-rejected",
        "trl-implicit-missing-rejected",
        "trl-implicit-no-response",
        "trl-prompt-ends-with-assistant",
    ],
)
def test_an_invalid_row_refuses_the_whole_batch_and_nothing_is_written(
    admin_client, pair_project, source, bad, field, message
):
    good = HH_SINGLE if source == "hh-rlhf" else TRL_EXPLICIT_TEXT
    response = import_preferences(admin_client, pair_project, [good, bad], source)
    assert response.status_code == 400
    assert response.json()["errors"] == {f"rows[2].{field}": [message]}
    assert response.json()["detail"].startswith("1 of 2 row(s) are invalid; nothing was imported.")
    assert_nothing_written()


@pytest.mark.parametrize(
    ("rows", "errors"),
    [
        (["not an object"], {"rows[1]": ["Each row must be a JSON object."]}),
        ([], {"rows": ["The upload contains no rows."]}),
    ],
)
def test_non_object_rows_and_empty_uploads_are_refused(admin_client, pair_project, rows, errors):
    response = import_preferences(admin_client, pair_project, rows, "trl")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert_nothing_written()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR])
def test_only_admins_import_preferences(client_for, pair_project, role):
    response = import_preferences(client_for(role), pair_project, [TRL_EXPLICIT_TEXT], "trl")
    assert response.status_code == 403
    assert_nothing_written()


def test_imported_sets_are_never_handed_out_to_annotators(admin_client, client_for, pair_project):
    imported(import_preferences(admin_client, pair_project, [TRL_EXPLICIT_TEXT], "trl"))
    annotator = client_for(Role.ANNOTATOR)
    assert annotator.post(f"/api/v1/projects/{pair_project.pk}/next-task/").status_code == 204
    assert not Assignment.objects.filter(annotator=annotator.user).exists()
