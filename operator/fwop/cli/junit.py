"""fwctl check's verdicts as JUnit XML, the test report every CI server displays.

One ``testsuite`` per input file that holds a workload, one ``testcase`` per workload
(``namespace/name``, with the file and line), and one ``failure`` per violation (its
control as the type, ``field: message`` as the message). A workload without violations
is a passing test case. Must not: judge, read files, or print.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from fwop.cli import findings

SUITES = "fwctl check"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold (control characters a YAML string may carry)."""


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def build(judged: Sequence[findings.Judged]) -> ET.Element:
    """The ``testsuites`` element of ``judged``."""
    failures = sum(len(one.findings) for one in judged)
    root = ET.Element(
        "testsuites", name=SUITES, tests=str(len(judged)), failures=str(failures), errors="0"
    )
    for file, group in itertools.groupby(judged, key=lambda one: one.file):
        cases = list(group)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(file),
            tests=str(len(cases)),
            failures=str(sum(len(one.findings) for one in cases)),
            errors="0",
            skipped="0",
        )
        for one in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                name=_xml(one.id),
                classname=_xml(file),
                file=_xml(file),
                line=str(one.line),
            )
            for finding in one.findings:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=_xml(f"{finding.field}: {finding.message}"),
                    type=_xml(finding.rule),
                )
                failure.text = _xml(finding.text())
    return root


def dumps(judged: Sequence[findings.Judged]) -> str:
    """The JUnit XML document as text."""
    root = build(judged)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
