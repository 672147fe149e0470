from .audit import AuditEvent, AuditHead
from .calendar import CalendarDay, CalendarYear
from .clock import Clock, ClockExtension, ClockPause

__all__ = [
    "AuditEvent",
    "AuditHead",
    "CalendarDay",
    "CalendarYear",
    "Clock",
    "ClockExtension",
    "ClockPause",
]
