from django.conf import settings
from django.http import HttpRequest


def harbour(request: HttpRequest) -> dict[str, object]:
    return {
        "QUICK_EXIT_URL": settings.HARBOUR_QUICK_EXIT_URL,
        "DEMO_MODE": settings.DEMO_MODE,
    }
