"""Admin of the common app: the calendar, the clocks and the audit chain."""

from . import admin_audit  # noqa: F401  (registers the audit event admin)
