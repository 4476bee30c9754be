"""Entry point of fwctl: parse the command line, run the command, map problems to exit codes.

Exit codes: 0 success, 1 invalid input (each problem on its own line on stderr), 2 usage
errors (argparse). Must not: let a traceback reach the user for bad input, or write
anything to stdout unless the whole input was valid.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fwop.cli import documents
from fwop.render import meta, workload

EXIT_OK = 0
EXIT_INVALID = 1

RENDER_HELP = """\
Validate FinancialWorkload documents and print the manifests the operator would apply,
as multi-document YAML. Documents of other kinds in FILE (e.g. the Namespace) are skipped.
ownerReferences are rendered only for workloads whose metadata.uid is set (as in the output
of `kubectl get fw -o yaml`); without a uid the children are rendered without them.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fwctl", description="Offline tools for FinancialWorkloads."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render",
        help="print the manifests rendered from FinancialWorkload YAML",
        description=RENDER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument(
        "file", metavar="FILE", help="YAML file with one or more documents; - reads stdin"
    )
    render.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for workloads without metadata.namespace (default: %(default)s)",
    )
    return parser


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _render(path: str, namespace: str) -> int:
    try:
        text = _read(path)
    except OSError as exc:
        sys.stderr.write(f"fwctl: {path}: cannot read: {exc.strerror or exc}\n")
        return EXIT_INVALID
    loaded = documents.load(text, path, namespace)
    if loaded.problems:
        sys.stderr.writelines(f"{line}\n" for line in loaded.problems)
        return EXIT_INVALID
    manifests = []
    for item in loaded.workloads:
        owner = meta.OwnerRef(name=item.name, uid=item.uid) if item.uid else None
        manifests.extend(workload.render_all(item.namespace, item.name, item.spec, owner))
    sys.stdout.write(documents.dump(manifests))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run fwctl with ``argv`` (default: the process arguments); return the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "render":
        return _render(args.file, args.namespace)
    return EXIT_INVALID  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
