"""Preference datasets: streamed exports, immutable snapshots, quality statistics, gold sets and
imports of existing preference data."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.errors import ApplicationError, found_or_404
from flywheel.ids import IdField, query_id
from flywheel.serializers import ModelOutput

from ..access import reviewable
from ..exports.rows import SOURCES, VIEWS, ExportOptions
from ..exports.stream import ExportFilters, export_rows, filtered_rankings, snapshot_rankings
from ..exports.writers import file_chunks, jsonl_chunks, parquet_file
from ..models import CandidateSet, DatasetSnapshot, Project, Ranking
from ..permissions import IsAdmin, IsReviewerOrAdmin
from ..preference.consensus import DEFAULT_METHOD, METHODS
from ..preference.pairs import PAIR_MODES
from ..quality import (
    annotator_stats,
    candidate_set_detail,
    project_agreement,
    project_progress,
)
from ..services.gold import gold_sets_import, honeypots_create
from ..services.preference_imports import FORMATS, preferences_import
from ..services.snapshots import snapshot_create
from .projects import (
    IMPORT_PARSERS,
    CandidateSetRow,
    ImportResult,
    _import_rows,
    get_project_or_404,
    import_request,
)

FORMAT_TYPES = {"jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


class ExportQuery(serializers.Serializer):
    view = serializers.ChoiceField(choices=VIEWS, default="preference")
    pairs = serializers.ChoiceField(choices=PAIR_MODES, default="all")
    source = serializers.ChoiceField(
        choices=SOURCES, default="annotator", help_text="Per-annotator pairs or consensus pairs."
    )
    method = serializers.ChoiceField(
        choices=list(METHODS), default=DEFAULT_METHOD, help_text="Consensus method."
    )
    fmt = serializers.ChoiceField(choices=list(FORMAT_TYPES), default="jsonl")
    min_pair_agreement = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        help_text="Drop pairs fewer than this share of the set's annotators agree on.",
    )


class FilterInput(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Rankings submitted from…")
    until = serializers.DateTimeField(required=False, help_text="…until (exclusive).")
    min_agreement = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        help_text="Keep sets ranked by ≥ 2 annotators whose pairwise agreement is at least this.",
    )
    exclude_annotators = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text="Annotator pseudonyms (as in exports) to leave out.",
    )
    exclude_gold_failures = serializers.BooleanField(
        default=False, help_text="Leave out annotators whose gold accuracy is below the pass mark."
    )
    exclude_flagged = serializers.BooleanField(
        default=False, help_text="Leave out rankings with QC flags."
    )

    def filters(self) -> ExportFilters:
        names = set(FilterInput._declared_fields)
        return ExportFilters(**{k: v for k, v in self.validated_data.items() if k in names})


class ProjectExportQuery(ExportQuery, FilterInput):
    pass


class SnapshotExportQuery(ExportQuery):
    split = serializers.ChoiceField(choices=["train", "test"], required=False)


def _parse_query(serializer_class, request: Request, *, paged: bool = False):
    """Query parameters, strictly: an unknown parameter is an error, not silently ignored.
    ``paged``: ``limit`` and ``offset`` are the paginator's (which forgives bad values)."""
    params = {}
    for key in request.query_params:
        if paged and key in ("limit", "offset"):
            continue
        values = request.query_params.getlist(key)
        params[key] = ",".join(values).split(",") if key == "exclude_annotators" else values[-1]
    data = serializer_class(data=params)
    unknown = sorted(set(params) - set(data.fields))
    if unknown:
        raise ApplicationError(
            "Invalid input.", errors={name: ["Unknown query parameter."] for name in unknown}
        )
    data.is_valid(raise_exception=True)
    return data


def _stream(rows, fmt: str, view: str, filename: str) -> StreamingHttpResponse:
    body = jsonl_chunks(rows) if fmt == "jsonl" else file_chunks(parquet_file(rows, view))
    response = StreamingHttpResponse(body, content_type=FORMAT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _options(query: ExportQuery, min_agreement: float | None = None) -> ExportOptions:
    v = query.validated_data
    return ExportOptions(
        view=v["view"],
        pairs=v["pairs"],
        source=v["source"],
        method=v["method"],
        min_pair_agreement=v.get("min_pair_agreement"),
        min_agreement=min_agreement,
    )


EXPORT_RESPONSES = {
    (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="JSON Lines"),
    (200, "application/vnd.apache.parquet"): OpenApiResponse(
        OpenApiTypes.BINARY, description="Parquet"
    ),
}


class ProjectExportApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(parameters=[ProjectExportQuery], responses=EXPORT_RESPONSES)
    def get(self, request: Request, project_id: int) -> StreamingHttpResponse:
        """Stream the project's current rankings as a TRL-ready dataset (views in DESIGN.md).
        Gold sets are never exported. For a frozen, reproducible dataset, make a snapshot."""
        project = get_project_or_404(project_id)
        query = _parse_query(ProjectExportQuery, request)
        filters = query.filters()
        rankings = filtered_rankings(project=project, filters=filters)
        rows = export_rows(
            project=project, rankings=rankings, options=_options(query, filters.min_agreement)
        )
        view = query.validated_data["view"]
        return _stream(rows, query.validated_data["fmt"], view, f"{project.slug}-{view}")


class SnapshotOutput(ModelOutput):
    class Meta:
        model = DatasetSnapshot
        fields = (
            "id project name filters test_fraction seed content_hash counts card created_at"
        ).split()


class SnapshotInput(serializers.Serializer):
    project = IdField()
    name = serializers.CharField(max_length=200, required=False)
    filters = FilterInput(required=False)
    test_fraction = serializers.FloatField(min_value=0, max_value=0.99, default=0.1)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)


class SnapshotListCreateApi(generics.ListAPIView):
    """GET: snapshots (admin, reviewer; ``?project=`` filters). POST: freeze the project's
    rankings matching ``filters`` into an immutable snapshot with a prompt-grouped split."""

    serializer_class = SnapshotOutput

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsReviewerOrAdmin()]

    def get_queryset(self):
        qs = DatasetSnapshot.objects.filter(reviewable(self.request.user)).order_by("-id")
        project = query_id(self.request.query_params, "project")
        return qs if project is None else qs.filter(project_id=project)

    @extend_schema(request=SnapshotInput, responses={201: SnapshotOutput})
    def post(self, request: Request) -> Response:
        data = SnapshotInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = Project.objects.filter(pk=v["project"]).first()
        if project is None:
            raise ApplicationError("No such project.", field="project")
        snapshot = snapshot_create(
            project=project,
            name=v.get("name") or f"{project.slug} preferences",
            filters=ExportFilters(**v.get("filters", {})),
            test_fraction=v["test_fraction"],
            seed=v["seed"],
            created_by=request.user,
        )
        return Response(SnapshotOutput(snapshot).data, status=status.HTTP_201_CREATED)


def get_snapshot_or_404(snapshot_id: int, user) -> DatasetSnapshot:
    """The snapshot, if it belongs to a project ``user`` reviews (any, for admins)."""
    snapshot = (
        DatasetSnapshot.objects.select_related("project")
        .filter(reviewable(user), pk=snapshot_id)
        .first()
    )
    return found_or_404(snapshot, "dataset snapshot")


class SnapshotDetailApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: SnapshotOutput})
    def get(self, request: Request, snapshot_id: int) -> Response:
        return Response(SnapshotOutput(get_snapshot_or_404(snapshot_id, request.user)).data)


class SnapshotExportApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(parameters=[SnapshotExportQuery], responses=EXPORT_RESPONSES)
    def get(self, request: Request, snapshot_id: int) -> StreamingHttpResponse:
        """Export exactly the snapshot's rankings (one split with ``split=``); the same query
        always returns the same bytes."""
        snapshot = get_snapshot_or_404(snapshot_id, request.user)
        query = _parse_query(SnapshotExportQuery, request)
        split = query.validated_data.get("split")
        rows = export_rows(
            project=snapshot.project,
            rankings=snapshot_rankings(snapshot=snapshot, split=split),
            options=_options(query),
        )
        view = query.validated_data["view"]
        name = f"snapshot-{snapshot.pk}-{view}" + (f"-{split}" if split else "")
        return _stream(rows, query.validated_data["fmt"], view, name)


class ProgressApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, project_id: int) -> Response:
        """Progress (sets by state, rankings, throughput per day) and agreement (Krippendorff's
        α ordinal, mean pairwise agreement)."""
        project = get_project_or_404(project_id)
        return Response(
            project_progress(project=project) | {"agreement": project_agreement(project=project)}
        )


class AnnotatorStatsApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, project_id: int) -> Response:
        """Per annotator: rankings, skips, median seconds, Kendall τ against the others'
        consensus, gold accuracy and τ, QC flag counts, position bias."""
        project = get_project_or_404(project_id)
        stats = annotator_stats(project=project)
        return Response({"results": [stats[uid].as_dict() for uid in sorted(stats)]})


class HoneypotInput(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=1000)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)


class GoldSetRow(CandidateSetRow):
    gold_ranking = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(min_value=0)),
        help_text="Tiers of 0-based indices into `candidates`, best first.",
    )


class PreferenceRow(serializers.Serializer):
    prompt = serializers.JSONField(
        required=False, help_text="trl explicit prompt: a string or a conversation."
    )
    chosen = serializers.JSONField(
        help_text="hh-rlhf: a transcript; trl: a response or a conversation ending in it."
    )
    rejected = serializers.JSONField()


class GoldSetImportApi(APIView):
    permission_classes = [IsAdmin]
    parser_classes = IMPORT_PARSERS

    @extend_schema(request=import_request(GoldSetRow), responses={201: ImportResult})
    def post(self, request: Request, project_id: int) -> Response:
        """Import expert gold sets: candidate-set rows plus ``gold_ranking`` (tiers of 0-based
        indices into ``candidates``, best first)."""
        project = get_project_or_404(project_id)
        sets = gold_sets_import(project=project, rows=_import_rows(request))
        return Response({"created": len(sets), "ids": [s.pk for s in sets]}, status=201)


class HoneypotCreateApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=HoneypotInput, responses={201: ImportResult})
    def post(self, request: Request, project_id: int) -> Response:
        """Make synthetic gold sets by degrading the consensus-best responses of ranked sets."""
        project = get_project_or_404(project_id)
        data = HoneypotInput(data=request.data)
        data.is_valid(raise_exception=True)
        sets = honeypots_create(project=project, **data.validated_data)
        return Response({"created": len(sets), "ids": [s.pk for s in sets]}, status=201)


class PreferenceImportApi(APIView):
    permission_classes = [IsAdmin]
    parser_classes = IMPORT_PARSERS

    @extend_schema(
        request=import_request(PreferenceRow),
        responses={201: ImportResult},
        parameters=[OpenApiParameter("source", enum=list(FORMATS), required=True)],
    )
    def post(self, request: Request, project_id: int) -> Response:
        """Import existing preference pairs (``?source=hh-rlhf`` or ``?source=trl``) into a K=2
        project, as rankings by an import account."""
        project = get_project_or_404(project_id)
        fmt = request.query_params.get("source", "")
        if fmt not in FORMATS:
            raise ApplicationError(f"Must be one of {', '.join(FORMATS)}.", field="source")
        sets = preferences_import(project=project, fmt=fmt, rows=_import_rows(request))
        return Response(
            {"created": len(sets), "ids": [s.pk for s in sets]}, status=status.HTTP_201_CREATED
        )


class SetRankingOutput(ModelOutput):
    annotator = serializers.CharField(source="annotator.username")

    class Meta:
        model = Ranking
        fields = (
            "id annotator tiers not_rankable flags ratings rationale time_spent_seconds qc_flags "
            "review_state review_comment created_at"
        ).split()


class SetDetailOutput(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    prompt = serializers.JSONField(source="prompt.messages")
    round = serializers.IntegerField()
    state = serializers.CharField()
    gold_tiers = serializers.JSONField(allow_null=True)
    candidates = serializers.JSONField()
    rankings = SetRankingOutput(many=True)
    consensus = serializers.JSONField(
        help_text="{method, tiers, agreement, adjudicated}: of the rankings that count, or the "
        "reviewer's adjudicated order"
    )


class CandidateSetDetailApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: SetDetailOutput})
    def get(self, request: Request, set_id: int) -> Response:
        """One set with every annotator's ranking side by side (usernames: reviewers manage
        annotators) and the consensus."""
        if not CandidateSet.objects.filter(reviewable(request.user), pk=set_id).exists():
            raise Http404("No such candidate set.")
        detail = found_or_404(candidate_set_detail(set_id=set_id), "candidate set")
        return Response(SetDetailOutput(detail).data)
