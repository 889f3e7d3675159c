"""Liveness: a view that answers without touching the database or the session, for load
balancers, and as ``bench/load.py``'s baseline of what a request costs the stack alone
(gunicorn, Django's middleware, URL routing, DRF's dispatch and JSON rendering)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthOutput(serializers.Serializer):
    status = serializers.CharField()


class HealthApi(APIView):
    # No authentication: a token would cost a database query, and liveness is not a secret.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: HealthOutput}, auth=[])
    def get(self, request: Request) -> Response:
        """The web process is up and serving requests (does not check PostgreSQL or Redis)."""
        return Response({"status": "ok"})
