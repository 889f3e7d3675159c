"""Projects, and bulk import of prompts and candidate sets into a project."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.errors import ApplicationError, found_or_404
from flywheel.serializers import ModelOutput

from ..enums import MessageRole, Role
from ..models import CandidateSet, Project, Prompt
from ..parsers import ImportJSONParser, JSONLinesParser, JSONLParser, number_rows, parse_upload
from ..permissions import HasAnyRole, IsAdmin, IsReviewerOrAdmin
from ..roles import user_role
from ..selectors import (
    candidate_set_list,
    project_by_id,
    project_get,
    project_list,
    prompt_list,
)
from ..services.imports import candidate_sets_import, prompts_import
from ..services.projects import project_create, project_update
from ..validation import MAX_K, MAX_TEXT_CHARS, MIN_K


class ProjectOutput(ModelOutput):
    gold_rate = serializers.FloatField(required=False, help_text="Not shown to annotators.")
    prompt_count = serializers.IntegerField()
    set_count = serializers.IntegerField()
    complete_set_count = serializers.IntegerField()
    my_ranking_count = serializers.IntegerField(
        required=False, help_text="Sets the caller ranked (annotators only)."
    )
    my_role = serializers.ChoiceField(
        choices=[r.value for r in Role],
        read_only=True,
        help_text="The caller's role in this project (admins: admin in every project).",
    )

    class Meta:
        model = Project
        fields = (
            "id name slug k annotations_per_set guidelines criteria allow_ties show_ai_suggestion "
            "lease_seconds gold_rate current_policy created_at prompt_count set_count "
            "complete_set_count my_ranking_count my_role"
        ).split()

    def to_representation(self, project):
        if not hasattr(project, "my_role"):
            project.my_role = Role.ADMIN.value
        data = super().to_representation(project)
        if data["my_role"] == Role.ANNOTATOR:  # an annotator's view
            data.pop("gold_rate")  # gold sets are hidden among their tasks
        else:
            data.pop("my_ranking_count", None)
        return data


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=200, required=False)
    k = serializers.IntegerField(min_value=MIN_K, max_value=MAX_K)
    annotations_per_set = serializers.IntegerField(min_value=1, max_value=100, default=1)
    guidelines = serializers.CharField(allow_blank=True, max_length=100_000, default="")
    criteria = serializers.JSONField(
        required=False, help_text='{"flags": [str], "ratings": [{"name", "min", "max"}]}'
    )
    allow_ties = serializers.BooleanField(default=True)
    show_ai_suggestion = serializers.BooleanField(
        default=False, help_text="Show annotators the reward model's ranking (AI feedback)."
    )
    lease_seconds = serializers.IntegerField(min_value=30, max_value=7 * 24 * 3600, default=1800)
    gold_rate = serializers.FloatField(
        min_value=0,
        max_value=0.5,
        default=0.0,
        help_text="Share of tasks that are (hidden) gold sets, when the project has any.",
    )


class ProjectUpdateInput(ProjectInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        for name in ("slug", "k"):
            self.fields.pop(name)


def _member_or_none(request: Request):
    """The caller, when their projects are those they are members of (everyone but admins)."""
    return None if user_role(request.user) == Role.ADMIN else request.user


def get_project_or_404(project_id: int) -> Project:
    return found_or_404(project_by_id(project_id=project_id), "project")


class ProjectListCreateApi(generics.ListAPIView):
    """GET: projects with progress (any role). POST: create a project (admin)."""

    serializer_class = ProjectOutput

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [HasAnyRole()]

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):  # the schema's generation
            return Project.objects.none()
        member = _member_or_none(self.request)
        return project_list(annotator=member, member=member)

    @extend_schema(request=ProjectInput, responses={201: ProjectOutput})
    def post(self, request: Request) -> Response:
        data = ProjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(created_by=request.user, **data.validated_data)
        return Response(
            ProjectOutput(project_get(project_id=project.pk)).data, status=status.HTTP_201_CREATED
        )


class ProjectDetailApi(APIView):
    """GET: one project (any role). PATCH: change it (admin); K is fixed once created."""

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "PATCH" else [HasAnyRole()]

    @extend_schema(responses={200: ProjectOutput})
    def get(self, request: Request, project_id: int) -> Response:
        member = _member_or_none(request)
        project = project_get(project_id=project_id, annotator=member, member=member)
        return Response(ProjectOutput(found_or_404(project, "project")).data)

    @extend_schema(request=ProjectUpdateInput, responses={200: ProjectOutput})
    def patch(self, request: Request, project_id: int) -> Response:
        project = get_project_or_404(project_id)
        data = ProjectUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fixed = (
            sorted(set(request.data) - set(data.fields)) if isinstance(request.data, dict) else []
        )
        if fixed:
            raise ApplicationError(
                "Invalid input.", errors={name: ["Cannot be changed."] for name in fixed}
            )
        project_update(project=project, **data.validated_data)
        return Response(ProjectOutput(project_get(project_id=project_id)).data)


def _import_rows(request: Request) -> list:
    """Rows from a JSON list body, a JSON Lines body, or a multipart ``file`` of either."""
    if "file" in request.FILES:
        upload = request.FILES["file"]
        return parse_upload(upload.read())
    data = request.data
    if isinstance(data, list) and data and isinstance(data[0], tuple):
        return data  # JSON Lines, already numbered by line
    if hasattr(data, "getlist"):  # multipart without a file
        raise ParseError("Upload the rows as a 'file' field, or send JSON / JSON Lines.")
    return number_rows(data)


# Bulk imports take a JSON list, JSON Lines, or a file of either; other views take JSON only.
IMPORT_PARSERS = [ImportJSONParser, JSONLinesParser, JSONLParser, MultiPartParser]


class ImportResult(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


# Import rows, for the schema only: the import services validate every row themselves and
# report all problems of a batch at once (annotation.validation).
class MessageRow(serializers.Serializer):
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = serializers.CharField(max_length=MAX_TEXT_CHARS, trim_whitespace=False)


class PromptRow(serializers.Serializer):
    prompt = serializers.CharField(
        required=False, max_length=MAX_TEXT_CHARS, help_text="A plain prompt: one user turn."
    )
    messages = MessageRow(many=True, required=False, help_text="Or a conversation.")
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    source = serializers.CharField(required=False, allow_blank=True, max_length=200)
    metadata = serializers.DictField(required=False)


class CandidateRow(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT_CHARS, trim_whitespace=False)
    model = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CandidateSetRow(PromptRow):
    candidates = CandidateRow(many=True, help_text="Exactly the project's K responses.")
    round = serializers.IntegerField(required=False, min_value=0)


def import_request(row: type[serializers.Serializer]) -> dict:
    """A bulk import's request body: a JSON list of rows, JSON Lines, or a file of either."""
    return {
        "application/json": row(many=True),
        "application/x-ndjson": OpenApiTypes.STR,
        "multipart/form-data": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        },
    }


class PromptOutput(ModelOutput):
    class Meta:
        model = Prompt
        fields = "id messages source external_id metadata created_at".split()


class PromptListImportApi(generics.ListAPIView):
    """GET: the project's prompts (admin, reviewer). POST: bulk import (admin): a JSON list,
    JSON Lines, or a file, of ``{"prompt": str}`` or ``{"messages": [...]}`` rows with optional
    ``external_id``, ``source``, ``metadata``. One bad row refuses the batch."""

    serializer_class = PromptOutput
    parser_classes = IMPORT_PARSERS

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsReviewerOrAdmin()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Prompt.objects.none()
        return prompt_list(project=get_project_or_404(self.kwargs["project_id"]))

    @extend_schema(
        request=import_request(PromptRow),
        responses={201: ImportResult},
        examples=[
            OpenApiExample(
                "Two prompts",
                value=[
                    {"prompt": "Write a haiku about rain."},
                    {
                        "messages": [
                            {"role": "system", "content": "Be brief."},
                            {"role": "user", "content": "Name a prime."},
                        ],
                        "external_id": "q-17",
                    },
                ],
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_or_404(project_id)
        prompts = prompts_import(project=project, rows=_import_rows(request))
        return Response(
            {"created": len(prompts), "ids": [p.pk for p in prompts]},
            status=status.HTTP_201_CREATED,
        )


class CandidateOutput(serializers.Serializer):
    id = serializers.IntegerField(source="candidate.id")
    text = serializers.CharField(source="candidate.text")
    model = serializers.CharField(source="candidate.model_name")
    model_version = serializers.IntegerField(source="candidate.model_version_id", allow_null=True)


class CandidateSetOutput(ModelOutput):
    messages = serializers.JSONField(source="prompt.messages")
    ranking_count = serializers.IntegerField()
    candidates = CandidateOutput(source="members.all", many=True)

    class Meta:
        model = CandidateSet
        fields = "id prompt messages round state ranking_count candidates created_at".split()


class CandidateSetListImportApi(generics.ListAPIView):
    """GET: the project's candidate sets (admin, reviewer). POST: bulk import of externally
    generated candidates (admin): rows of ``{"prompt"|"messages", "candidates": [{"text",
    "model"?}] × K, "round"?, "external_id"?}``. A row whose ``external_id`` names an existing
    prompt with the same conversation adds a set to that prompt."""

    serializer_class = CandidateSetOutput
    parser_classes = IMPORT_PARSERS

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsReviewerOrAdmin()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CandidateSet.objects.none()
        return candidate_set_list(project=get_project_or_404(self.kwargs["project_id"]))

    @extend_schema(request=import_request(CandidateSetRow), responses={201: ImportResult})
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_or_404(project_id)
        sets = candidate_sets_import(project=project, rows=_import_rows(request))
        return Response(
            {"created": len(sets), "ids": [s.pk for s in sets]}, status=status.HTTP_201_CREATED
        )
