"""kopf handlers: the only modules that import kopf's decorators.

They are thin glue: each handler gathers what it needs, calls the pure core and the kube
layer, and writes status. `register()` imports the handler modules so their decorators run.
"""

from __future__ import annotations

import importlib

from fwop import options
from fwop.handlers import runtime


def register(opts: options.Options) -> None:
    """Keep the options for start-up and import every handler module (decorators register)."""
    runtime.OPTIONS = opts
    modules = ["startup", "policy"]
    if opts.webhook_enabled:  # kopf refuses admission handlers without a webhook server
        modules.append("admission")
    for module in modules:
        importlib.import_module(f"{__name__}.{module}")
