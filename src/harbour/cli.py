"""The ``harbour`` console script: Django's ``manage.py`` with Harbour's settings.

Harbour's own commands (``serve``, ``worker``, ``demo``, ``createorg``, ``backup``,
``restore``) sit beside all of Django's; ``harbour help`` lists them.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv if argv is not None else sys.argv)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"harbour: configuration error: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
