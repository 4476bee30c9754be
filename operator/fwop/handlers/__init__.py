"""kopf handlers: the only modules that import kopf's decorators.

They are thin glue: each handler gathers what it needs, calls the pure core and the kube
layer, and writes status. `register()` imports the handler modules so their decorators run.
"""

from __future__ import annotations

import importlib


def register() -> None:
    """Import every handler module (their decorators register them with kopf)."""
    for module in ("startup", "workload"):
        importlib.import_module(f"{__name__}.{module}")
