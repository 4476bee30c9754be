"""The inputs of fwctl check and render: files, directories and ``-`` (stdin), in order.

A directory stands for every ``*.yaml``, ``*.yml`` and ``*.json`` file under it, at any
depth, sorted by path; hidden files and directories (``.git``, ``.github``) are left out,
and symbolic links to directories are not followed. A file named on the command line is
read whatever its name. A file named twice (or again through its directory) is read once.
Text must be UTF-8 (a byte-order mark is allowed). Must not: print, judge or render.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import IO

from fwop.cli import documents

STDIN = "-"
EXTENSIONS = (".yaml", ".yml", ".json")


def _walk(top: str, problems: list[documents.InputError]) -> list[str]:
    """The YAML and JSON files under a directory, sorted by path."""

    def refused(exc: OSError) -> None:
        where = str(exc.filename or top)
        problems.append(documents.InputError(where, f"cannot read: {exc.strerror or exc}"))

    found: list[str] = []
    for folder, dirs, files in os.walk(top, onerror=refused):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(folder, name)
            for name in files
            if not name.startswith(".") and name.lower().endswith(EXTENSIONS)
        )
    return sorted(found, key=lambda path: pathlib.PurePath(path).parts)


def expand(paths: Sequence[str]) -> tuple[list[str], list[documents.InputError]]:
    """The files the arguments name, in order, each once; and the paths that do not exist."""
    found: list[str] = []
    problems: list[documents.InputError] = []
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            found.extend(_walk(path, problems))
        elif path == STDIN or os.path.lexists(path):
            found.append(path)
        else:
            problems.append(documents.InputError(path, "cannot read: No such file or directory"))
    seen: set[str] = set()
    unique = []
    for path in found:
        key = path if path == STDIN else os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique, problems


def decode(data: bytes, source: str) -> str:
    """UTF-8 text of ``data``; raise InputError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        msg = f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise documents.InputError(source, msg, line) from None


def text(path: str, stdin: IO[str]) -> str:
    """The text of a file, or of stdin for ``-``; raise InputError."""
    if path == STDIN:
        buffer = getattr(stdin, "buffer", None)
        if buffer is None:  # a text stream without bytes under it (tests, embedding)
            return stdin.read()
        return decode(buffer.read(), path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise documents.InputError(path, f"cannot read: {exc.strerror or exc}") from None
    return decode(data, path)


def gather(
    paths: Sequence[str], stdin: IO[str]
) -> tuple[list[documents.Read], list[documents.InputError]]:
    """Read and split every input; the inputs that cannot be read are returned apart."""
    files, problems = expand(paths)
    found: list[documents.Read] = []
    for path in files:
        try:
            json_first = path.lower().endswith(".json")
            found.append(documents.read(text(path, stdin), path, json_first=json_first))
        except documents.InputError as exc:
            problems.append(exc)
    return found, problems
