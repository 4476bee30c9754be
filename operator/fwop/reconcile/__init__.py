"""The pure decisions of a reconcile: compare desired with live, merge conditions, plan writes.

Nothing here does I/O or reads a clock; the controller gathers, calls these, then writes.
"""

__all__: list[str] = []
