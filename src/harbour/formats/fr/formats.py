"""Français (Canada) : « 12 fév. 2026 », tableaux « 2026-02-12 », heures sur 24 heures."""

DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "j N Y, H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
# the first input format is the one date inputs are filled with: ISO, as type=date needs
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
FIRST_DAY_OF_WEEK = 0  # dimanche, comme les calendriers au Canada
