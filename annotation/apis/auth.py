"""Sign-in: tokens for API clients, sessions (with CSRF) for the browser app. Both go through
``authenticate``, so django-axes counts their failures and locks out a username + address pair
after too many (429 with Retry-After, see flywheel.settings).

API tokens (issue 18): a user lists, creates and revokes their own; an admin lists and revokes
anyone's. A key is in a response once, when its token is created, and every response that
carries one is sent with ``Cache-Control: no-store``."""

from django.contrib.auth import (
    authenticate,
    login,
    logout,
    update_session_auth_hash,
    user_logged_in,
)
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.accounts.models import ApiToken
from flywheel.accounts.selectors import token_list
from flywheel.accounts.services import token_create, token_revoke
from flywheel.errors import ApplicationError
from flywheel.serializers import ModelOutput

from ..enums import Role
from ..roles import user_role
from ..services.users import token_for, user_password_change


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)


def _authenticate(request: Request):
    data = CredentialsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = authenticate(request._request, **data.validated_data)
    if user is None:
        raise ApplicationError(
            "Unable to sign in with these credentials.", code="invalid_credentials"
        )
    return user


def _me(user) -> dict:
    return {"id": user.pk, "username": user.username, "role": user_role(user)}


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        user = _authenticate(request)
        # A token sign-in is a sign-in: last_login is kept and axes clears earlier failures.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return _no_store(Response({"token": token_for(user=user)}))


class TokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        """Revoke the API token this request is made with (a session request revokes none:
        revoke a token by its id instead)."""
        if isinstance(request.auth, ApiToken):
            token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _no_store(response: Response) -> Response:
    """A response that carries a key: no cache, shared or private, may keep it."""
    add_never_cache_headers(response)  # Cache-Control: max-age=0, no-cache, no-store, …
    return response


def _is_admin(user) -> bool:
    return user_role(user) == Role.ADMIN


class TokenOutput(ModelOutput):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = ApiToken
        fields = "id name prefix username created_at expires_at last_used_at".split()


class NewTokenOutput(TokenOutput):
    key = serializers.CharField(help_text="The secret: shown in this response only.")

    class Meta(TokenOutput.Meta):
        fields = [*TokenOutput.Meta.fields, "key"]


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=36500,
        help_text="Lifetime in days; the server's default when left out, and bounded by its "
        "maximum (FLYWHEEL_API_TOKEN_MAX_DAYS).",
    )


class TokenListCreateApi(generics.ListAPIView):
    """GET: live API tokens, newest first: the caller's own; an admin may ask for one user's
    (``?user=<id>``) or everyone's (``?all=true``). POST: a new token of the caller's, with
    its key (shown this once)."""

    permission_classes = [IsAuthenticated]
    serializer_class = TokenOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return ApiToken.objects.none()
        wanted_user = self.request.query_params.get("user")
        everyone = self.request.query_params.get("all") == "true"
        if (wanted_user is not None or everyone) and not _is_admin(self.request.user):
            raise ApplicationError(
                "Only admins may list other users' tokens.", status=403, code="permission_denied"
            )
        if everyone:
            return token_list()
        if wanted_user is not None:
            user_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1).run_validation(
                wanted_user
            )
            return token_list().filter(user_id=user_id)
        return token_list(user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("user", OpenApiTypes.INT, description="Admins: this user's tokens"),
            OpenApiParameter("all", OpenApiTypes.BOOL, description="Admins: everyone's tokens"),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=TokenInput, responses={201: NewTokenOutput})
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = token_create(user=request.user, **data.validated_data)
        token.key = key  # type: ignore[attr-defined]
        return _no_store(Response(NewTokenOutput(token).data, status=status.HTTP_201_CREATED))


class TokenDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        """Revoke a token: the caller's own, or anyone's for an admin (404 otherwise)."""
        tokens = token_list() if _is_admin(request.user) else token_list(user=request.user)
        token_revoke(token=get_object_or_404(tokens, pk=token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class PasswordChangeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeInput, responses={204: None})
    def post(self, request: Request) -> Response:
        """Change the caller's password. Every API token and every session of theirs is revoked,
        except the browser session this request is made in, which stays signed in."""
        data = PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user_password_change(user=request.user, **data.validated_data)
        if request.auth is None:  # a session: keep it, under a new key
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={204: None}, auth=[])
    def get(self, request: Request) -> Response:
        """Sets the ``csrftoken`` cookie the browser app echoes in ``X-CSRFToken``."""
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(csrf_protect, name="dispatch")
class SessionLoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=CredentialsSerializer, responses={200: MeSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        user = _authenticate(request)
        login(request._request, user)
        return Response(_me(user))


class SessionLogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(_me(request.user))
