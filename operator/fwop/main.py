"""Operator entry point (`fwop-operator`): read options, configure logging, run kopf.

It only wires things together: the handlers live in fwop.handlers, and kopf imports
them for their decorators' side effects.
"""

from __future__ import annotations

from collections.abc import Sequence

import kopf

from fwop import handlers, logs, options


def main(argv: Sequence[str] | None = None) -> None:
    """Run the operator in the foreground until interrupted."""
    opts = options.parse(argv)
    logs.configure(opts.log_level)
    handlers.register(opts)
    # Every replica watches and serves admission; leader election (fwop.leader), not kopf
    # peering, decides which one writes: a standby's store stays fresh for a fast takeover.
    kopf.run(
        clusterwide=not opts.namespaces,
        namespaces=list(opts.namespaces),
        standalone=True,
    )
