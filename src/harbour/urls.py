from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse
from django.views.i18n import JavaScriptCatalog

from harbour.api import api
from harbour.core import views as core_views
from harbour.directory.hsds_api import api as hsds_api


def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin site signs in through allauth, like every page: rate-limited, and with the
    second factor (Django's own admin login form checks a password only). Someone already
    signed in without admin rights is told so, not sent to sign in again (that would loop)."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("account_login")
    )


admin.site.login = admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("org/<slug:slug>/directory/", include("harbour.directory.staff_urls")),
    path("org/<slug:slug>/drugcheck/", include("harbour.drugcheck.staff_urls")),
    path("org/<slug:slug>/alerts/", include("harbour.alerts.staff_urls")),
    path("org/<slug:slug>/checkins/", include("harbour.checkins.staff_urls")),
    path("org/<slug:slug>/referrals/", include("harbour.referrals.staff_urls")),
    path("org/<slug:slug>/surveillance/", include("harbour.surveillance.staff_urls")),
    path("org/<slug:slug>/meetings/", include("harbour.meetings.staff_urls")),
    path("org/<slug:slug>/mentoring/", include("harbour.mentoring.staff_urls")),
    path("org/<slug:slug>/outreach/", include("harbour.outreach.staff_urls")),
    path("org/", include("harbour.accounts.urls")),
    path("find/", include("harbour.directory.urls")),
    path("drugcheck/", include("harbour.drugcheck.urls")),
    path("notify/", include("harbour.notify.urls")),
    path("alerts/", include("harbour.alerts.urls")),
    path("checkin/", include("harbour.checkins.urls")),
    path("referrals/", include("harbour.referrals.urls")),
    path("trends/", include("harbour.surveillance.urls")),
    path("meetings/", include("harbour.meetings.urls")),
    path("mentoring/", include("harbour.mentoring.urls")),
    path("naloxone/", include("harbour.outreach.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/hsds/", hsds_api.urls),
]

handler400 = "harbour.core.views.bad_request"
handler403 = "harbour.core.views.permission_denied"
handler404 = "harbour.core.views.not_found"
handler500 = "harbour.core.views.server_error"
