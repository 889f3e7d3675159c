"""Sign-in: tokens for API clients, sessions (with CSRF) for the browser app. Both go through
``authenticate``, so django-axes counts their failures and locks out a username + address pair
after too many (429 with Retry-After, see flywheel.settings)."""

from django.contrib.auth import authenticate, login, logout, user_logged_in
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.errors import ApplicationError

from ..roles import user_role
from ..services.users import token_for, token_revoke


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
        return Response({"token": token_for(user=user)})


class TokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        """Revoke the caller's API token; a new one is issued at the next token request."""
        token_revoke(user=request.user)
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
