"""The page a seller's sign-in link opens: confirm with one click, land on the dashboard."""

from axes.helpers import get_lockout_response
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orders import login_links


@require_http_methods(["GET", "POST"])
def login_link(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        # Throttled like the login page: a locked-out address cannot sign in with a link, and
        # each refused token counts as a failed sign-in (no guessing tokens at full speed).
        if not login_links.sign_in_allowed(request=request):
            return get_lockout_response(request)
        user = login_links.redeem_login_link(token=token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("dashboard")
        login_links.record_failed_sign_in(request=request)
    elif (link := login_links.usable_link(token=token)) is not None:
        return render(request, "registration/login_link.html", {"seller": link.seller})
    return render(request, "registration/login_link_invalid.html", status=400)
