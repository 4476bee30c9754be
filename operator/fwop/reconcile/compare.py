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
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from fwop.api import quantity

# Keys that identify an element of a list of objects, tried in order.
MERGE_KEYS = ("name", "mountPath", "containerPort", "devicePath", "type", "topologyKey")
# Quantities compare by value only where the API server canonicalises them (500m and 0.5
# are the same CPU); anywhere else (an environment variable "1k") the text is the value.
_QUANTITY_PATHS = (".resources.requests.", ".resources.limits.", ".emptyDir.sizeLimit")
MISSING: Any = object()
"""A field that is not there (distinct from null)."""


@dataclasses.dataclass(frozen=True)
class Difference:
    """One managed field whose live value is not the desired one."""

    path: str
    """Readable path: spec.template.spec.containers[name=app].image."""
    expected: Any
    """Desired value; None when the live object holds something extra (closed paths)."""
    actual: Any
    """Live value; None when the field (or the object) is missing."""
    pointer: tuple[str | int, ...] = ()
    """Where the live value sits, as JSON Pointer parts (for removing extra content)."""

    @property
    def extra(self) -> bool:
        """Live content that is not desired at all (only found below closed paths)."""
        return self.expected is None


@dataclasses.dataclass(frozen=True)
class _At:
    """Where the walk is: readable path, shape (no list keys) and live pointer."""

    path: str = ""
    shape: str = ""
    pointer: tuple[str | int, ...] = ()

    def key(self, key: str) -> _At:
        return _At(_join(self.path, key), _join(self.shape, key), (*self.pointer, key))

    def item(self, label: str, index: int | None) -> _At:
        pointer = self.pointer if index is None else (*self.pointer, index)
        return _At(f"{self.path}[{label}]", self.shape, pointer)


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
    _walk(desired, live, _At(), frozenset(closed), found)
    return found


def _walk(want: Any, have: Any, at: _At, closed: frozenset[str], out: list[Difference]) -> None:
    is_closed = any(at.shape == c or at.shape.startswith(c + ".") for c in closed)
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            out.append(Difference(at.path, want, _value(have), at.pointer))
            return
        for key, value in want.items():
            _walk(value, have.get(key, MISSING), at.key(key), closed, out)
        if is_closed:
            out.extend(
                Difference(at.key(key).path, None, extra, at.key(key).pointer)
                for key, extra in have.items()
                if key not in want
            )
    elif isinstance(want, list):
        _walk_list(want, have, at, closed, is_closed, out)
    elif not _same_scalar(want, have, at.shape):
        out.append(Difference(at.path, want, _value(have), at.pointer))


def _walk_list(  # noqa: PLR0917 - recursion state
    want: list[Any],
    have: Any,
    at: _At,
    closed: frozenset[str],
    is_closed: bool,
    out: list[Difference],
) -> None:
    if not isinstance(have, list):
        out.append(Difference(at.path, want, _value(have), at.pointer))
        return
    key = merge_key(want)
    if key is None:  # scalars or anonymous objects: the list is atomic, compare it whole
        if len(want) != len(have) or any(
            _differs(w, h, at.shape, closed) for w, h in zip(want, have, strict=True)
        ):
            out.append(Difference(at.path, want, have, at.pointer))
        return
    index = {item.get(key): i for i, item in enumerate(have) if isinstance(item, Mapping)}
    for item in want:
        ident = item[key]
        i = index.get(ident)
        found = have[i] if i is not None else MISSING
        _walk(item, found, at.item(f"{key}={ident}", i), closed, out)
    if is_closed:
        wanted = {item[key] for item in want}
        out.extend(
            Difference(at.item(f"{key}={ident}", i).path, None, have[i], (*at.pointer, i))
            for ident, i in index.items()
            if ident not in wanted
        )


def _differs(want: Any, have: Any, shape: str, closed: frozenset[str]) -> bool:
    probe: list[Difference] = []
    _walk(want, have, _At(shape=shape), closed | {shape}, probe)
    return bool(probe)


def _value(have: Any) -> Any:
    return None if have is MISSING else have


def keyed(items: Sequence[Any], key: str) -> bool:
    """Whether every item is a mapping with a distinct value under ``key``."""
    if not all(isinstance(item, Mapping) for item in items):
        return False
    values = [item.get(key) for item in items]
    return all(v is not None for v in values) and len(set(map(str, values))) == len(values)


def merge_key(*lists: Sequence[Any]) -> str | None:
    """The first merge key that identifies the items of every list given (None: atomic)."""
    if not any(lists):
        return None
    return next((key for key in MERGE_KEYS if all(keyed(items, key) for items in lists)), None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _same_scalar(want: Any, have: Any, shape: str = "") -> bool:
    if want == have and type(want) is type(have):
        return True
    if have is MISSING and type(want) is int and want == 0:
        return True  # the API server drops zero-valued optional integers (omitempty)
    if isinstance(want, str) and isinstance(have, str) and is_quantity_path(shape):
        a, b = quantity.parse(want), quantity.parse(have)
        return a is not None and a == b
    return False


def is_quantity_path(shape: str) -> bool:
    """Whether a dotted path holds a resource quantity (the API server canonicalises it)."""
    dotted = f".{shape}."
    return any(marker in dotted for marker in _QUANTITY_PATHS)
