from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("orders.urls")),
    path("api/v1/", include("reviews.urls")),
    path("api/v1/", include("metrics.web.urls")),
    re_path(r"^api(?P<rest>/[\s\S]*)?$", api_not_found),
    path("", include("metrics.web.page_urls")),
]
