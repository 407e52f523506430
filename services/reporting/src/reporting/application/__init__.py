"""Reporting's use cases: the reports, computed from the projected facts."""
