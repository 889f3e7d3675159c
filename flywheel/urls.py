from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, Http404, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


def frontend(request):
    """The browser app's entry page (built by ``make frontend`` into frontend/dist)."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(
            "<!doctype html><title>Flywheel</title><h1>Flywheel</h1>"
            "<p>The browser app is not built yet: run <code>make frontend</code>. "
            'Meanwhile see the <a href="/api/v1/docs/">API docs</a> and the '
            '<a href="/admin/">admin</a>.</p>',
            status=503,
        )
    return FileResponse(index.open("rb"), content_type="text/html")


def favicon(request):
    """/favicon.ico, which browsers ask for on every page without a <link rel="icon"> (the API
    docs, the admin, JSON); the app's pages name /static/favicon.svg."""
    icon = settings.FRONTEND_DIST / "favicon.ico"
    if not icon.exists():
        raise Http404("The browser app is not built yet: run `make frontend`.")
    response = FileResponse(icon.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file, so the page runs under a CSP
    # without inline script; only its one inline <style> block is allowed, on this page alone.
    path(
        "api/v1/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="docs",
    ),
    path("api/v1/", include("annotation.urls")),
    path("api/v1/", include("training.urls")),
    path("api/v1/", include("loop.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("", frontend, name="frontend"),
]

handler400 = "flywheel.errors.bad_request"
handler404 = "flywheel.errors.page_not_found"
handler500 = "flywheel.errors.server_error"
