"""The page a seller's sign-in link opens: confirm with one click, land on the dashboard."""

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orders import login_links


@require_http_methods(["GET", "POST"])
def login_link(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        user = login_links.redeem_login_link(token=token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("dashboard")
    elif (link := login_links.usable_link(token=token)) is not None:
        return render(request, "registration/login_link.html", {"seller": link.seller})
    return render(request, "registration/login_link_invalid.html", status=400)
