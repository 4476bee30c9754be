"""Compare a desired manifest with the live object: which managed fields differ.

Only the fields the operator renders are compared, so server defaults (a Deployment's
strategy, a container's terminationMessagePath) never count. Lists of objects are matched
by their merge key (name, mountPath, containerPort...) rather than position, so an element
that another controller adds next to ours is not a difference. Below a *closed* path the
live object must hold exactly what is desired: an extra capability, an extra ingress rule or
an extra Role verb there is a difference, because on those paths anything added weakens a
control. Must not: do I/O, or know which kind of object it compares beyond the paths given.
"""

from __future__ import annotations

import dataclasses
import decimal
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

# Keys that identify an element of a list of objects, tried in order.
_MERGE_KEYS = ("name", "mountPath", "containerPort", "devicePath", "type", "topologyKey")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|Ki)?$")
_SUFFIX = {
    "n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"), "m": decimal.Decimal("1e-3"),
    "": decimal.Decimal(1), "k": decimal.Decimal(10**3), "M": decimal.Decimal(10**6),
    "G": decimal.Decimal(10**9), "T": decimal.Decimal(10**12), "P": decimal.Decimal(10**15),
    "E": decimal.Decimal(10**18), "Ki": decimal.Decimal(2**10), "Mi": decimal.Decimal(2**20),
    "Gi": decimal.Decimal(2**30), "Ti": decimal.Decimal(2**40), "Pi": decimal.Decimal(2**50),
    "Ei": decimal.Decimal(2**60),
}  # fmt: skip
_MISSING = object()


@dataclasses.dataclass(frozen=True)
class Difference:
    """One managed field whose live value is not the desired one."""

    path: str
    expected: Any
    actual: Any


def differences(
    desired: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    closed: Collection[str] = (),
) -> list[Difference]:
    """Every managed field of `desired` that `live` does not hold; [] means in sync.

    `closed` lists dotted paths (list indices and keys dropped, e.g.
    "spec.template.spec.containers.securityContext") below which extra live content
    counts as a difference too.
    """
    if live is None:
        return [Difference("", "present", None)]
    found: list[Difference] = []
    _walk(desired, live, "", "", frozenset(closed), found)
    return found


def _walk(  # noqa: PLR0917 - recursion state
    want: Any, have: Any, path: str, shape: str, closed: frozenset[str], out: list[Difference]
) -> None:
    is_closed = any(shape == c or shape.startswith(c + ".") for c in closed)
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            out.append(Difference(path, want, None if have is _MISSING else have))
            return
        for key, value in want.items():
            _walk(value, have.get(key, _MISSING), _join(path, key), _join(shape, key), closed, out)
        if is_closed:
            out.extend(
                Difference(_join(path, key), None, extra)
                for key, extra in have.items()
                if key not in want
            )
    elif isinstance(want, list):
        _walk_list(want, have, path, shape, closed, is_closed, out)
    elif not _same_scalar(want, have):
        out.append(Difference(path, want, None if have is _MISSING else have))


def _walk_list(  # noqa: PLR0917 - recursion state
    want: list[Any],
    have: Any,
    path: str,
    shape: str,
    closed: frozenset[str],
    is_closed: bool,
    out: list[Difference],
) -> None:
    if not isinstance(have, list):
        out.append(Difference(path, want, None if have is _MISSING else have))
        return
    key = _merge_key(want)
    if key is None:  # scalars or anonymous objects: the list is atomic, compare it whole
        if len(want) != len(have) or any(
            _differs(w, h, shape, closed) for w, h in zip(want, have, strict=True)
        ):
            out.append(Difference(path, want, have))
        return
    by_key = {item.get(key): item for item in have if isinstance(item, Mapping)}
    for item in want:
        ident = item[key]
        _walk(item, by_key.get(ident, _MISSING), f"{path}[{key}={ident}]", shape, closed, out)
    if is_closed:
        wanted = {item[key] for item in want}
        out.extend(
            Difference(f"{path}[{key}={ident}]", None, extra)
            for ident, extra in by_key.items()
            if ident not in wanted
        )


def _differs(want: Any, have: Any, shape: str, closed: frozenset[str]) -> bool:
    probe: list[Difference] = []
    _walk(want, have, "", shape, closed | {shape}, probe)
    return bool(probe)


def _merge_key(items: Sequence[Any]) -> str | None:
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in _MERGE_KEYS:
        values = [item.get(key) for item in items]
        if all(v is not None for v in values) and len(set(map(str, values))) == len(values):
            return key
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _same_scalar(want: Any, have: Any) -> bool:
    if want == have and type(want) is type(have):
        return True
    if have is _MISSING and type(want) is int and want == 0:
        return True  # the API server drops zero-valued optional integers (omitempty)
    if isinstance(want, str) and isinstance(have, str):
        a, b = quantity(want), quantity(have)
        return a is not None and a == b
    return False


def quantity(text: str) -> decimal.Decimal | None:
    """The value of a Kubernetes quantity ("500m", "1Gi", "2"), or None if it is not one."""
    match = _QUANTITY.match(text)
    if not match:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        value = decimal.Decimal(number)
    except decimal.InvalidOperation:
        return None
    if suffix[:1] in ("e", "E"):
        return value * decimal.Decimal(10) ** int(suffix[1:])
    return value * _SUFFIX[suffix]
