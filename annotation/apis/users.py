from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.serializers import ModelOutput

from ..enums import Role
from ..permissions import IsAdmin
from ..roles import user_role
from ..selectors import user_list
from ..services.users import user_create, user_update


class UserOutput(ModelOutput):
    email = serializers.CharField(help_text="An email address, or empty when none was given.")
    role = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = "id username email role is_active date_joined".split()

    def get_role(self, user) -> str | None:
        return user_role(user)


class UserInput(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True)


class UserListCreateApi(generics.ListAPIView):
    """GET: users (paginated). POST: create a user with a role."""

    permission_classes = [IsAdmin]
    serializer_class = UserOutput

    def get_queryset(self):
        return user_list()

    @extend_schema(request=UserInput, responses={201: UserOutput})
    def post(self, request: Request) -> Response:
        data = UserInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_create(**data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserUpdateInput(serializers.Serializer):
    is_active = serializers.BooleanField(
        required=False, help_text="False deactivates: every token and session is revoked."
    )
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        required=False,
        help_text="A new password: every token and session is revoked.",
    )


class UserDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=UserUpdateInput, responses={200: UserOutput})
    def patch(self, request: Request, user_id: int) -> Response:
        """Deactivate or reactivate an account, or set its password (admins)."""
        data = UserUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(user_list(), pk=user_id)
        user = user_update(user=user, by=request.user, **data.validated_data)
        return Response(UserOutput(user).data)
