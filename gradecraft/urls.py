from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from metrics.web.health import healthz
from orders.views import login_link


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str | None = None) -> JsonResponse:
    """Any other path under /api/ answers like the API's own 404s (JSON), never a page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/link/<str:token>/", login_link, name="login-link"),
    # The language switch (Django's set_language: POST, then back to the page).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    # Swagger UI injects a <style> element, so that page alone admits inline styles.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("api/v1/", include("orders.urls")),
    path("api/v1/", include("reviews.urls")),
    path("api/v1/", include("metrics.web.urls")),
    path("api/v1/", include("notifications.urls")),
    re_path(r"^api(?P<rest>/[\s\S]*)?$", api_not_found),
    path("", include("metrics.web.page_urls")),
]
