"""Registering a model served by an OpenAI-compatible endpoint (a vLLM or TGI server, a hosted
API): ``POST /api/v1/models/endpoints/``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.permissions import IsAdmin
from flywheel.ids import IdField

from ..models import ModelKind, ModelVersion
from ..services.endpoints import model_version_register_endpoint
from . import related_or_400
from .models import ModelVersionOutput, model_list


class EndpointInput(serializers.Serializer):
    base_url = serializers.CharField(
        max_length=1000,
        help_text="The server's OpenAI API root, e.g. http://vllm:8000/v1; requests go to "
        "{base_url}/chat/completions.",
    )
    model = serializers.CharField(max_length=200, help_text="The model name the server serves.")
    api_key_env = serializers.CharField(
        max_length=128,
        required=False,
        default="",
        allow_blank=True,
        help_text="The environment variable that holds the API key on the generation workers "
        "(sent as a bearer token); empty: the server needs no key. The key itself is never "
        "sent to Flywheel.",
    )


class EndpointRegisterInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    endpoint = EndpointInput()
    kind = serializers.ChoiceField(
        choices=ModelKind.choices, default=ModelKind.BASE, help_text="Not reward."
    )
    parent = IdField(required=False)


class EndpointRegisterApi(APIView):
    """Register a model that an OpenAI-compatible server serves. Generation jobs can use it;
    training runs cannot start from it."""

    permission_classes = [IsAdmin]

    @extend_schema(request=EndpointRegisterInput, responses={201: ModelVersionOutput})
    def post(self, request: Request) -> Response:
        data = EndpointRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        model = model_version_register_endpoint(
            name=v["name"],
            kind=v["kind"],
            parent=related_or_400(ModelVersion, v.get("parent"), "parent"),
            **v["endpoint"],
        )
        return Response(ModelVersionOutput(model_list().get(pk=model.pk)).data, status=201)
