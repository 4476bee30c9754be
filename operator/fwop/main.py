"""Operator entry point (`fwop-operator`): configure logging, then hand control to kopf.

It only wires things together: the handlers live in fwop.handlers, and kopf imports
them for their decorators' side effects.
"""

from __future__ import annotations

import argparse
import os

import kopf

from fwop import handlers, logs


def main(argv: list[str] | None = None) -> None:
    """Run the operator in the foreground until interrupted."""
    parser = argparse.ArgumentParser(prog="fwop-operator", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("FWOP_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        help="watch only these namespaces (repeatable); default: the whole cluster",
    )
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    handlers.register()
    kopf.run(
        clusterwide=not args.namespace,
        namespaces=args.namespace,
        standalone=True,
    )
