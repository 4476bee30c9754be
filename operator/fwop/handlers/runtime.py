"""What the handlers share while the operator runs: options, the controller, health.

Set once at start-up (`startup.start`) and read by every handler. Must not: hold logic.
"""

from __future__ import annotations

from fwop import controller, health, options

OPTIONS = options.Options()
HEALTH = health.Health()
_CONTROLLER: list[controller.Controller] = []


def set_controller(ctl: controller.Controller | None) -> None:
    """Install (or, with None, drop) the running controller."""
    _CONTROLLER[:] = [ctl] if ctl else []


def current() -> controller.Controller:
    """The running controller; raises LookupError before start-up finished."""
    if not _CONTROLLER:
        raise LookupError("the controller is not started yet")
    return _CONTROLLER[0]


def started() -> bool:
    """Whether start-up finished."""
    return bool(_CONTROLLER)
