"""Harbour's date formats (``FORMAT_MODULE_PATH``): unambiguous in both languages.

"12/02/2026" is 12 February to one reader and 2 December to another, so no format here puts
the day and the month side by side as numbers: text uses the month's name ("12 Feb 2026",
"12 févr. 2026") and tables use ISO dates ("2026-02-12"). Date inputs (``type=date``) always
get ISO values, which is what browsers require whatever the page's language."""
