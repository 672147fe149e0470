"""Who may do what with accounts and applicants."""

from yimen.org.choices import Role
from yimen.org.roles import has_role, is_system_admin


def can_look_up_applicants(user) -> bool:
    """Window staff find walk-in applicants by their full number (and register them)."""
    return is_system_admin(user) or has_role(user, Role.WINDOW_CLERK)
