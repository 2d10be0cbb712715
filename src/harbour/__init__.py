"""Harbour: community-led responses to the toxic drug crisis and recovery support."""

__version__ = "0.1.0"
