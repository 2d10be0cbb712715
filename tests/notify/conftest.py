"""Fixtures for messages live in tests/conftest.py (alerts and check-ins use them too)."""
