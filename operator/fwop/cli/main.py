"""Entry point of fwctl: parse the command line, run the command, map problems to exit codes.

Offline commands (``render``, ``check``, ``evidence verify|summary``) read files; live ones
(``report``, ``inspect``) read clusters through the kubeconfig and never write to them.
Exit codes: 0 success, 1 invalid input (violations, a broken evidence chain, workloads
outside the baseline), 2 usage errors (argparse, a malformed option, policy file or
kubeconfig, an unreadable input file, YAML that is not YAML, an unreachable cluster, an
unwritable output). ``render`` and ``check`` read files, directories and stdin alike
(fwop.cli.inputs); ``render`` writes problems to stderr and manifests to stdout only when
the whole input was valid; ``check`` writes its findings to stdout (text, json, sarif,
junit or policyreport; docs/cli.md) and a summary to stderr. Must not: let a traceback
reach the user, whatever the input.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import sys
from collections.abc import Sequence
from typing import IO, Any

import fwop
from fwop import errors
from fwop.api import group
from fwop.api import policy as policy_api
from fwop.cli import check, documents, findings, inputs, junit, live, policyreports, sarif
from fwop.compliance import fleet, html, period, report, trail
from fwop.render import meta, workload

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

RENDER_HELP = """\
Validate FinancialWorkload documents and print the manifests the operator would apply,
as multi-document YAML. Each FILE is a file, a directory (every *.yaml, *.yml and *.json
under it, sorted; hidden ones left out) or - for stdin; kind: List documents stand for
their items. Documents of other kinds (e.g. the Namespace) are skipped. Exit 0 when every
workload is valid (also when there is none), 1 on any violation (nothing is printed), 2
when an input cannot be read or is not YAML (duplicate keys included).
ownerReferences are rendered only for workloads whose metadata.uid is set (as in the output
of `kubectl get fw -o yaml`); without a uid the children are rendered without them.
With --policy, the namespace labels pin the policy's podSecurityVersion.
"""

CHECK_HELP = """\
Judge FinancialWorkload documents offline with the rules admission applies: the CRD's
rules, the cluster policy (IMG-2 registries, RES-1 regions, PRF-1 profiles, NET-2 DNS
egress) and the cross-field rules. Each FILE is a file, a directory (every *.yaml, *.yml
and *.json under it, sorted; hidden ones left out) or - for stdin; kind: List documents
stand for their items; documents of other kinds are skipped and counted. -o text (one
line per violation: FILE:LINE: NAME (document N): FIELD: MESSAGE (CONTROL)), json,
sarif (2.1.0), junit or policyreport (wgpolicyk8s.io/v1alpha2); the formats are in
docs/cli.md. Exit 0 when every workload passes (also when there is none), 1 on any
violation, 2 on usage errors and on an input that cannot be read or is not YAML
(duplicate keys included).

Without --policy the defaults apply: they trust no registry and no region, so every
workload fails; pass the cluster's policy file. A workload's namespace labels are
kubernetes.io/metadata.name, then --namespace-labels, then the labels of a Namespace
document of that name in any FILE.
"""


VERIFY_HELP = """\
Check the evidence trail's hash chain in FILE (the operator's --evidence-file, or its whole
log: other lines are skipped). Each record names the previous record's hash; a removed,
reordered or edited record breaks the chain, and each break is printed with its line and
sequence number. A restart without a trail file opens a new chain: printed as a notice.
Exit 0 when the chain is intact, 1 on any break, 2 when FILE cannot be read.
"""


SUMMARY_HELP = """\
Sum up the evidence trail in FILE over a period (--since, --until; RFC 3339): drift
incidents (opened by drift-detected or drift-healed, closed by drift-healed), time to heal
(p50, p90, max), incidents still open at the end, admission refusals by control, policy
changes, verdict changes, and the workloads failing a control at the end. The chain is
verified first; its verdict is part of the summary. -o json gives the shape documented in
docs/compliance.md. Exit 0 with an intact chain, 1 with breaks, 2 on unreadable input.
"""


REPORT_HELP = """\
Write the compliance report of one or more live clusters (the current kubeconfig context, or
each --context): per framework and per namespace, every control of every FinancialWorkload
with its evidence (from the operator's PolicyReports), drift incidents with detected and
healed times and time-to-heal statistics, and every pod controller judged (as in fwctl
inspect; --no-inspect leaves that out). With --evidence, the trail's summary of the period
--since .. --until is added. -o json (the shape in docs/compliance.md), csv (one row per
control per workload) or html (one self-contained page). Reads only; never writes to a
cluster. Exit 0 when written, 1 when the evidence trail's chain is broken (written all the
same), 2 when a cluster or a file cannot be read.
"""

INSPECT_HELP = """\
Judge every Deployment, StatefulSet and DaemonSet of the live cluster(s), managed by the
operator or not, against the controls (docs/controls.md), from the cluster's objects: the
pod template, its namespace's Pod Security labels, its ServiceAccount and the Roles bound to
it, and the NetworkPolicies selecting its pods. Prints each workload's failing controls and
a score (controls passed over controls judged) per namespace and for the cluster.
Exit 0 when no workload fails a control, 1 when some do, 2 when a cluster cannot be read.
"""


def _audit(path: str, since: str | None, until: str | None) -> tuple[dict[str, Any], bool]:
    """The trail's summary of a period, with its chain verdict; and whether it is intact.

    Raises OSError, UnicodeDecodeError or ValueError for an unreadable trail or time.
    """
    lines = _read(path).splitlines()
    found = period.summarise(
        (r for _, r in trail.records(lines) if "unreadable" not in r), since, until
    )
    _, findings = trail.verify(lines)
    breaks = [str(f) for f in findings if f.broken]
    return found.as_json() | {"chain": {"intact": not breaks, "breaks": breaks}}, not breaks


def _report(args: argparse.Namespace) -> int:
    audit: dict[str, Any] | None = None
    intact = True
    try:
        if args.evidence:
            audit, intact = _audit(args.evidence, args.since, args.until)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        sys.stderr.write(f"fwctl report: {args.evidence}: {exc}\n")
        return EXIT_USAGE
    try:
        reads = live.read(args.context, inspect=args.inspect)
    except errors.FwopError as exc:
        sys.stderr.write(f"fwctl report: {exc}\n")
        return EXIT_USAGE
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    built = report.build(reads, now, audit)
    if args.output == "json":
        text = json.dumps(built, indent=2) + "\n"
    elif args.output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=report.CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report.rows(built))
        text = buffer.getvalue()
    else:
        text = html.render(built)
    try:
        _write(args.out, text)
    except OSError as exc:
        sys.stderr.write(f"fwctl report: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    totals = built["totals"]
    sys.stderr.write(
        f"fwctl report: {len(reads)} cluster(s), {totals['workloads']} {group.KIND}(s):"
        f" {totals['compliant']} compliant, {totals['nonCompliant']} non-compliant,"
        f" {totals['incomplete']} incomplete, {totals['notJudged']} not judged\n"
    )
    for one in reads:
        if not one.workloads_served:
            sys.stderr.write(
                f"fwctl report: context {one.context!r} serves no {group.KIND}s:"
                " the operator is not installed there\n"
            )
    return EXIT_OK if intact else EXIT_INVALID


def _write(path: str | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _inspect(args: argparse.Namespace) -> int:
    try:
        reads = live.read(args.context, inspect=True, financial=False)
    except errors.FwopError as exc:
        sys.stderr.write(f"fwctl inspect: {exc}\n")
        return EXIT_USAGE
    shapes = []
    for one in reads:
        judged = list(one.fleet or ())
        shapes.append({"context": one.context, **fleet.scores(judged),
                       "judged": [j.manifest() for j in judged]})  # fmt: skip
    if args.output == "json":
        sys.stdout.write(json.dumps({"clusters": shapes}, indent=2) + "\n")
    else:
        sys.stdout.write(_inspect_table(shapes))
    outside = sum(s["outside"] for s in shapes)
    return EXIT_INVALID if outside else EXIT_OK


def _inspect_table(shapes: list[dict[str, Any]]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    rows = [("CONTEXT", "NAMESPACE", "KIND", "NAME", "MANAGED-BY", "SCORE", "FAILING")]
    for shape in shapes:
        rows += [
            (shape["context"], j["namespace"], j["kind"], j["name"], j["managedBy"] or "-",
             pct(j["score"]), ",".join(j["failing"]) or "-")
            for j in shape["judged"]
        ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
             for r in rows]  # fmt: skip
    for shape in shapes:
        lines.append("")
        lines += [
            f"{shape['context']} namespace {n['name']}: {n['workloads']} workload(s),"
            f" {n['outside']} outside the baseline, score {pct(n['score'])}"
            for n in shape["namespaces"]
        ]
        lines.append(
            f"{shape['context']}: {shape['workloads']} workload(s), {shape['managed']} managed,"
            f" {shape['outside']} outside the baseline, score {pct(shape['score'])}"
        )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _summary(args: argparse.Namespace) -> int:
    try:
        shape, intact = _audit(args.file, args.since, args.until)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        sys.stderr.write(f"fwctl evidence summary: {exc}\n")
        return EXIT_USAGE
    if args.output == "json":
        sys.stdout.write(json.dumps(shape, indent=2) + "\n")
    else:
        sys.stdout.write(_summary_text(shape))
    return EXIT_OK if intact else EXIT_INVALID


def _summary_text(shape: dict[str, Any]) -> str:
    drift, heal = shape["drift"], shape["drift"]["timeToHealSeconds"]
    when = shape["period"]
    lines = [
        f"period: {when['since'] or 'start'} .. {when['until'] or 'end'} ({shape['records']}"
        f" records; chain {'intact' if shape['chain']['intact'] else 'BROKEN'})",
        f"drift incidents: {drift['incidents']}, healed {drift['healed']},"
        f" open {len(drift['open'])}",
        f"time to heal: p50 {heal['p50']} s, p90 {heal['p90']} s, max {heal['max']} s",
        f"admission refusals: {shape['admission']['refused']}"
        + "".join(f"; {c} {n}" for c, n in shape["admission"]["byControl"].items()),
        f"policy changes: {len(shape['policyChanges'])};"
        f" verdict changes: {shape['verdictChanges']}",
    ]
    lines += [f"open: {o['namespace']}/{o['workload']} {o['kind']} {o['name']} {o['field']}"
              f" since {o['detectedAt']}" for o in drift["open"]]  # fmt: skip
    lines += [f"failing at the end: {w}: {', '.join(c)}" for w, c in shape["failingAtEnd"].items()]
    lines += [f"chain break: {b}" for b in shape["chain"]["breaks"]]
    return "\n".join(lines) + "\n"


def _verify(path: str) -> int:
    try:
        lines = _read(path).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"fwctl evidence verify: cannot read {path}: {exc}\n")
        return EXIT_USAGE
    count, findings = trail.verify(lines)
    for finding in findings:
        label = "BROKEN" if finding.broken else "notice"
        sys.stdout.write(f"{path}: {finding} [{label}]\n")
    breaks = sum(1 for f in findings if f.broken)
    verdict = "intact" if not breaks else f"{breaks} break(s)"
    sys.stderr.write(f"fwctl evidence verify: {count} record(s), chain {verdict}\n")
    return EXIT_INVALID if breaks else EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fwctl",
        description="Check, render and report on FinancialWorkloads: offline from files,"
        " live from clusters.",
    )
    parser.add_argument("--version", action="version", version=f"fwctl {fwop.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render",
        help="print the manifests rendered from FinancialWorkload YAML",
        description=RENDER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _files_argument(render)
    _namespace_option(render)
    render.add_argument("--policy", metavar="POLICY", help="FinancialWorkloadPolicy YAML file")
    checker = commands.add_parser(
        "check",
        help="judge FinancialWorkload YAML as admission would",
        description=CHECK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _files_argument(checker)
    checker.add_argument(
        "-o",
        "--output",
        choices=("text", "json", "sarif", "junit", "policyreport"),
        default="text",
        help="format of the findings on stdout (default: %(default)s)",
    )
    checker.add_argument(
        "--policy", metavar="POLICY", help="FinancialWorkloadPolicy YAML (default: the defaults)"
    )
    checker.add_argument(
        "--cluster",
        action="store_true",
        help="read the cluster policy and the namespaces' labels from the current kubeconfig"
        " context (or --context): judge as that cluster's admission would",
    )
    checker.add_argument(
        "--context",
        metavar="NAME",
        help="kubeconfig context for --cluster (default: the current context)",
    )
    checker.add_argument(
        "--namespace-labels",
        metavar="K=V,...",
        default="",
        help="labels of the workloads' namespaces, for the profiles the policy requires",
    )
    _namespace_option(checker)
    proof = commands.add_parser("evidence", help="the operator's evidence trail")
    proof_commands = proof.add_subparsers(dest="evidence_command", required=True)
    verify = proof_commands.add_parser(
        "verify",
        help="check the hash chain of an evidence trail",
        description=VERIFY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("file", metavar="FILE", help="the trail or a whole log; - reads stdin")
    period = proof_commands.add_parser(
        "summary",
        help="what happened in a period: drift incidents, time to heal, refusals, changes",
        description=SUMMARY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    period.add_argument("file", metavar="FILE", help="the trail or a whole log; - reads stdin")
    period.add_argument("--since", metavar="TIME", help="RFC 3339 start (inclusive)")
    period.add_argument("--until", metavar="TIME", help="RFC 3339 end (exclusive)")
    period.add_argument("-o", "--output", choices=("text", "json"), default="text")
    _live_commands(commands)
    return parser


def _live_commands(commands: Any) -> None:
    """Add the commands that read live clusters: report and inspect."""
    reporter = commands.add_parser(
        "report",
        help="the compliance report of live cluster(s): JSON, CSV or HTML",
        description=REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _context_option(reporter)
    reporter.add_argument("-o", "--output", choices=("json", "csv", "html"), default="json")
    reporter.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    reporter.add_argument(
        "--no-inspect", dest="inspect", action="store_false",
        help="leave out the judgement of every pod controller (fewer reads)",
    )  # fmt: skip
    reporter.add_argument("--evidence", metavar="FILE", help="the evidence trail to summarise")
    reporter.add_argument("--since", metavar="TIME", help="RFC 3339 start of the audit period")
    reporter.add_argument("--until", metavar="TIME", help="RFC 3339 end (exclusive)")
    inspector = commands.add_parser(
        "inspect",
        help="judge every Deployment, StatefulSet and DaemonSet of live cluster(s)",
        description=INSPECT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _context_option(inspector)
    inspector.add_argument("-o", "--output", choices=("table", "json"), default="table")


def _context_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--context",
        metavar="NAME",
        action="append",
        default=[],
        help="kubeconfig context to read (repeat for a fleet; default: the current context)",
    )


def _files_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="YAML or JSON file, directory (recursive), or - for stdin",
    )


def _namespace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for workloads without metadata.namespace (default: %(default)s)",
    )


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _policy(path: str | None) -> policy_api.FinancialWorkloadPolicySpec:
    """Return the policy of a file, or the defaults; raise check.UsageError."""
    if path is None:
        return policy_api.DEFAULTS
    try:
        text = _read(path)
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise check.UsageError(msg) from None
    return check.load_policy(text, path)


def _usage(exc: check.UsageError) -> int:
    sys.stderr.writelines(f"fwctl: {line}\n" for line in str(exc).splitlines())
    return EXIT_USAGE


def _out(stream: IO[str], text: str) -> None:
    """Write text that may hold lone surrogates (YAML escapes allow them) without failing."""
    stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def _inputs(command: str, paths: Sequence[str]) -> list[documents.Read] | None:
    """The documents of every input; None (and one line per problem on stderr) otherwise."""
    reads, problems = inputs.gather(paths, sys.stdin)
    for problem in problems:
        _out(sys.stderr, f"fwctl {command}: {problem}\n")
    return None if problems else reads


def _render(args: argparse.Namespace) -> int:
    try:
        policy = _policy(args.policy)
    except check.UsageError as exc:
        return _usage(exc)
    reads = _inputs("render", args.files)
    if reads is None:
        return EXIT_USAGE
    loaded = documents.load([doc for one in reads for doc in one.documents], args.namespace)
    if loaded.problems:
        _out(sys.stderr, "".join(f"{line}\n" for line in loaded.problems))
        return EXIT_INVALID
    if not loaded.workloads:
        sys.stderr.write(f"fwctl render: no {group.KIND} in the input: nothing to render\n")
    manifests = []
    for item in loaded.workloads:
        owner = meta.OwnerRef(name=item.name, uid=item.uid) if item.uid else None
        manifests.extend(
            workload.render_all(
                item.namespace,
                item.name,
                item.spec,
                owner,
                pod_security_version=policy.pod_security_version,
                endpoints=policy.endpoints,
            )
        )
    _out(sys.stdout, documents.dump(manifests))
    return EXIT_OK


def _check_output(args: argparse.Namespace, judged: list[findings.Judged], summary: Any) -> str:
    if args.output == "json":
        return findings.as_json(judged, summary)
    if args.output == "sarif":
        return sarif.dumps(judged)
    if args.output == "junit":
        return junit.dumps(judged)
    if args.output == "policyreport":
        return policyreports.dumps(judged, args.namespace)
    return findings.text(judged)


def _live(args: argparse.Namespace, reads: list[documents.Read]) -> live.Admission | None:
    """With --cluster, the cluster's policy and namespace labels (None without it)."""
    if not args.cluster:
        return None
    docs = [doc for one in reads for doc in one.documents]
    found = live.admission(args.context, check.namespaces_of(docs, args.namespace))
    if found.policy is None:
        sys.stderr.write(
            f"fwctl: context {found.context!r} has no {group.POLICY_KIND}: checking against"
            " the defaults, as its admission would refuse everything\n"
        )
    return found


def _check_options(args: argparse.Namespace) -> None:
    """Raise check.UsageError for options that do not go together."""
    if args.cluster and args.policy is not None:
        raise check.UsageError("--cluster reads the cluster's policy: drop --policy")
    if args.context and not args.cluster:
        raise check.UsageError("--context needs --cluster")


def _check(args: argparse.Namespace) -> int:
    try:
        _check_options(args)
    except check.UsageError as exc:
        return _usage(exc)
    reads = _inputs("check", args.files)
    if reads is None:
        return EXIT_USAGE
    try:
        cluster = _live(args, reads)
    except errors.FwopError as exc:
        _out(sys.stderr, f"fwctl check: {exc}\n")
        return EXIT_USAGE
    try:
        checker = check.Checker(
            policy=(cluster.policy if cluster else None) or _policy(args.policy),
            labels=check.parse_labels(args.namespace_labels),
            default_namespace=args.namespace,
            live_labels=cluster.labels if cluster else {},
        )
    except check.UsageError as exc:
        return _usage(exc)
    if args.policy is None and cluster is None:
        sys.stderr.write(
            "fwctl: no --policy: checking against the defaults, which trust no registry "
            "and no region\n"
        )
    try:
        judged = checker.run(reads)
    except documents.InputError as exc:
        _out(sys.stderr, f"fwctl check: {exc}\n")
        return EXIT_USAGE
    summary = findings.summarise(reads, judged)
    _out(sys.stdout, _check_output(args, judged, summary))
    sys.stderr.write(f"fwctl check: {summary.line(group.KIND)}\n")
    return EXIT_INVALID if summary.violations else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if args.command == "render":
        return _render(args)
    if args.command == "check":
        return _check(args)
    if args.command == "report":
        return _report(args)
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "evidence":
        return _verify(args.file) if args.evidence_command == "verify" else _summary(args)
    return EXIT_INVALID  # pragma: no cover - argparse refuses unknown commands


def main(argv: Sequence[str] | None = None) -> int:
    """Run fwctl with ``argv`` (default: the process arguments); return the exit code."""
    args = _parser().parse_args(argv)
    if args.command not in ("render", "check"):
        return _run(args)
    try:
        return _run(args)
    except Exception as exc:  # a bug must not pass for a verdict (exit 1) or a traceback
        detail = " ".join(str(exc).split())[:300]
        _out(
            sys.stderr,
            f"fwctl {args.command}: internal error: {type(exc).__name__}: {detail}"
            " (please report it, with the input)\n",
        )
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
