from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


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


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("annotation.urls")),
    path("api/v1/", include("training.urls")),
    path("api/v1/", include("loop.urls")),
    path("", frontend, name="frontend"),
]
