"""A project's members and their roles in it (admins manage them; reviewers of the project see
them)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.errors import found_or_404
from flywheel.ids import IdField

from ..enums import ProjectRole
from ..models import ProjectMembership
from ..permissions import IsAdmin, IsReviewerOrAdmin
from ..roles import user_role
from ..services.memberships import MAX_MEMBERS_PER_CALL, member_remove, member_update, members_add
from .projects import get_project_or_404


class MemberOutput(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    account_role = serializers.SerializerMethodField(help_text="The account's role.")
    added_by = serializers.CharField(source="added_by.username", default=None)

    class Meta:
        model = ProjectMembership
        fields = "user username role account_role added_by added_at".split()

    def get_account_role(self, membership) -> str | None:
        return user_role(membership.user)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]})
class UserRef(serializers.Field):
    """A user's id or username."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise serializers.ValidationError("Give a user id or a username.")
        if isinstance(data, int):
            return IdField().run_validation(data)
        if not data.strip() or len(data) > 150:
            raise serializers.ValidationError("Give a user id or a username.")
        return data.strip()

    def to_representation(self, value):
        return value


class MembersAddedOutput(serializers.Serializer):
    members = MemberOutput(many=True, help_text="The users named, as members now.")


class MembersAddInput(serializers.Serializer):
    users = serializers.ListField(
        child=UserRef(),
        min_length=1,
        max_length=MAX_MEMBERS_PER_CALL,
        help_text="User ids or usernames.",
    )
    role = serializers.ChoiceField(choices=ProjectRole.choices, default=ProjectRole.ANNOTATOR)


class MemberUpdateInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=ProjectRole.choices)


def _members(project):
    return (
        ProjectMembership.objects.filter(project=project)
        .select_related("user", "added_by")
        .prefetch_related("user__groups")
        .order_by("user__username")
    )


class MemberListAddApi(generics.ListAPIView):
    """GET: the project's members with their roles in it (admin, the project's reviewers).
    POST: add users (ids or usernames) with a role, all or none (admin); a member already
    there gets the role."""

    serializer_class = MemberOutput

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsReviewerOrAdmin()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation
            return ProjectMembership.objects.none()
        return _members(get_project_or_404(self.kwargs["project_id"]))

    @extend_schema(request=MembersAddInput, responses={201: MembersAddedOutput})
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_or_404(project_id)
        data = MembersAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = members_add(project=project, by=request.user, **data.validated_data)
        shown = _members(project).filter(pk__in=[m.pk for m in added])
        return Response(MembersAddedOutput({"members": shown}).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    """PATCH: change a member's role. DELETE: remove them; the sets they held go back to the
    queue (admin)."""

    permission_classes = [IsAdmin]

    def _membership(self, project_id: int, user_id: int) -> ProjectMembership:
        project = get_project_or_404(project_id)
        return found_or_404(_members(project).filter(user_id=user_id).first(), "member")

    @extend_schema(request=MemberUpdateInput, responses={200: MemberOutput})
    def patch(self, request: Request, project_id: int, user_id: int) -> Response:
        membership = self._membership(project_id, user_id)
        data = MemberUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        member_update(membership=membership, **data.validated_data)
        return Response(MemberOutput(self._membership(project_id, user_id)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, project_id: int, user_id: int) -> Response:
        member_remove(membership=self._membership(project_id, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
