#!/usr/bin/env python
"""Development shortcut; the installed ``harbour`` command does the same."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from harbour.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
