"""The staff dashboard: agencies' results, scoped to the signed-in staff member's agency."""

from gateway.dashboard.views import bp, init_app

__all__ = ["bp", "init_app"]
