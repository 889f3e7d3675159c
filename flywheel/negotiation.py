"""Content negotiation with a shortcut for what API clients send.

DRF parses the Accept header and every renderer's media type on each request (0.05 ms of a bare
API request, issue #7). API clients send ``*/*``, the first renderer's type or no Accept header
at all, and for those DRF's answer is always the first renderer: that answer is given directly.
Anything else (a browser asking for HTML, ``?format=``, media-type parameters) goes through
DRF's negotiation.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if renderers and not format_suffix:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT", "*/*")
            override = self.settings.URL_FORMAT_OVERRIDE
            if accept in ("*/*", first.media_type) and (
                not override or override not in request.query_params
            ):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
