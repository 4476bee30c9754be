"""Every field of a child, as drift sees it: what may differ, what the heal writes back.

A child belongs to the operator whole: any change by anyone else to any field is drift,
except this short list (``normalize`` drops them before comparing):

- what the server keeps for itself: uid, resourceVersion, generation, creationTimestamp,
  managedFields, status;
- labels and annotations on the object itself (not on the pod template) that the operator
  does not render: they select nothing (Services and NetworkPolicies select pods);
- addresses the server allocated and that cannot change (a Service's clusterIP(s) and IP
  families);
- fields a workload hands to another controller (``externallyManaged: [replicas]``), and
  the restart stamp ``kubectl rollout restart`` puts on the pod template.

The reference a live object is compared with is the object as the API server returned it
after the operator's own write (server defaults included), kept as a digest; the heal is a
replacement (PUT) of the rendering plus the fields above taken from the live object, so
added content goes in the same single write as changed content. Must not: do I/O.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from fwop.reconcile import compare

SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
ALLOCATED: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "Service": (
        ("spec", "clusterIP"),
        ("spec", "clusterIPs"),
        ("spec", "ipFamilies"),
        ("spec", "ipFamilyPolicy"),
    ),
}
"""Fields the server fills at creation that cannot be changed afterwards: carried over."""
RESTARTED_AT = (
    "spec",
    "template",
    "metadata",
    "annotations",
    "kubectl.kubernetes.io/restartedAt",
)
REPLICAS = ("spec", "replicas")
OPERATOR_MANAGER = "fwop"
# Field managers of the cluster's own controllers, and the only fields they may hold.
SYSTEM_MANAGERS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "kube-controller-manager": (("metadata", "annotations"),),
}


@dataclasses.dataclass(frozen=True)
class Exceptions:
    """The documented fields of one child that are not drift (besides server metadata)."""

    kind: str
    desired_labels: frozenset[str] = frozenset()
    desired_annotations: frozenset[str] = frozenset()
    replicas_elsewhere: bool = False

    @classmethod
    def of(cls, desired: Mapping[str, Any], replicas_elsewhere: bool = False) -> Exceptions:
        """The exceptions for a rendered child: one shared instance per distinct value.

        Every child of a kind renders the same label and annotation keys, and the store
        keeps one per child reference: interned, ten thousand workloads share a handful.
        """
        meta = desired.get("metadata", {})
        made = cls(
            kind=str(desired["kind"]),
            desired_labels=frozenset(meta.get("labels", {})),
            desired_annotations=frozenset(meta.get("annotations", {})),
            replicas_elsewhere=replicas_elsewhere and desired["kind"] == "Deployment",
        )
        shared = _INTERNED.get(made)
        if shared is not None:
            return shared
        if len(_INTERNED) < _INTERNED_LIMIT:  # bounded: past it, instances are not shared
            _INTERNED[made] = made
        return made

    def carried(self) -> list[tuple[str, ...]]:
        """Paths taken from the live object into a replacement."""
        paths = [*ALLOCATED.get(self.kind, ()), RESTARTED_AT]
        if self.replicas_elsewhere:
            paths.append(REPLICAS)
        return paths


_INTERNED: dict[Exceptions, Exceptions] = {}
_INTERNED_LIMIT = 4096


def _pop(obj: dict[str, Any], path: Sequence[str]) -> None:
    node: Any = obj
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _get(obj: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return compare.MISSING
        node = node[key]
    return node


def _set(obj: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def normalize(obj: Mapping[str, Any], exceptions: Exceptions) -> dict[str, Any]:
    """The part of an object that must equal the reference: everything but the exceptions."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    for field, ours in (
        ("labels", exceptions.desired_labels),
        ("annotations", exceptions.desired_annotations),
    ):
        kept = {k: v for k, v in (meta.get(field) or {}).items() if k in ours}
        if kept:
            meta[field] = kept
        else:
            meta.pop(field, None)
    for path in exceptions.carried():
        _pop(out, path)
    return out


def digest(normalized: Mapping[str, Any]) -> str:
    """A short fingerprint of a normalized object (what the store keeps per child)."""
    text = json.dumps(normalized, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_LIVE_DIGESTS: collections.OrderedDict[tuple[str, str, Exceptions], str] = collections.OrderedDict()
_LIVE_DIGESTS_LIMIT = 65536


def live_digest(live: Mapping[str, Any], exceptions: Exceptions) -> str:
    """``digest(normalize(live))``, computed once per object version.

    A bounded memo: the same version is judged on every pass until it changes.
    """
    meta = live.get("metadata", {})
    key = (str(meta.get("uid", "")), str(meta.get("resourceVersion", "")), exceptions)
    if not key[0] or not key[1]:
        return digest(normalize(live, exceptions))
    found = _LIVE_DIGESTS.get(key)
    if found is None:
        found = _LIVE_DIGESTS[key] = digest(normalize(live, exceptions))
        if len(_LIVE_DIGESTS) > _LIVE_DIGESTS_LIMIT:
            _LIVE_DIGESTS.popitem(last=False)
    return found


def desired_digest(desired: Mapping[str, Any]) -> str:
    """A fingerprint of a rendering: the reference is stale once the rendering changes."""
    return digest(desired)


def replacement(
    desired: Mapping[str, Any], live: Mapping[str, Any], exceptions: Exceptions
) -> dict[str, Any]:
    """The body of the PUT that restores a child: the rendering plus the carried fields.

    The live object's foreign labels and annotations stay (they are not drift), and its
    resourceVersion makes the write fail rather than undo a change made in between.
    """
    body = copy.deepcopy(dict(desired))
    meta = body.setdefault("metadata", {})
    live_meta = live.get("metadata", {})
    meta["resourceVersion"] = live_meta.get("resourceVersion")
    for field in ("labels", "annotations"):
        foreign = {
            k: v for k, v in (live_meta.get(field) or {}).items() if k not in meta.get(field, {})
        }
        if foreign:
            meta[field] = {**foreign, **meta.get(field, {})}
    for path in exceptions.carried():
        value = _get(live, path)
        if value is not compare.MISSING:
            _set(body, path, copy.deepcopy(value))
    return body


# ---- who wrote what: managedFields --------------------------------------------------------


def _leaves(fields: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of a fieldsV1 set (``f:spec`` -> ``spec``; list keys kept as written)."""
    children = [(k, v) for k, v in fields.items() if k != "."]
    if not children:
        yield prefix
        return
    for key, sub in children:
        name = key[2:] if key.startswith("f:") else key
        yield from _leaves(sub if isinstance(sub, Mapping) else {}, (*prefix, name))


def _allowed(path: tuple[str, ...], exceptions: Exceptions, manager: str) -> bool:
    if path[:1] == ("status",):
        return True
    if path[:2] in (("metadata", "labels"), ("metadata", "annotations")) and len(path) > 2:
        ours = exceptions.desired_labels if path[1] == "labels" else exceptions.desired_annotations
        return path[2] not in ours
    # The autoscaler (kube-controller-manager, through the scale subresource) may hold the
    # replicas it was handed, like any other manager.
    allowed = (*SYSTEM_MANAGERS.get(manager, ()), *exceptions.carried())
    return any(path[: len(p)] == p for p in allowed)


def foreign_fields(live: Mapping[str, Any], exceptions: Exceptions) -> list[str]:
    """Fields another manager set that are not on the list of exceptions (dotted paths)."""
    found = []
    for entry in live.get("metadata", {}).get("managedFields") or ():
        manager = str(entry.get("manager", ""))
        if manager == OPERATOR_MANAGER or entry.get("subresource") == "status":
            continue
        for path in _leaves(entry.get("fieldsV1") or {}):
            if path and not _allowed(path, exceptions, manager):
                found.append(".".join(path))
    return found


def adoptable(desired: Mapping[str, Any], live: Mapping[str, Any], exceptions: Exceptions) -> bool:
    """Whether a live object seen for the first time can serve as its own reference.

    True when every field another manager holds is an exception and every rendered field
    has its rendered value: the object is what the operator last wrote. (Someone who
    forges the operator's field manager name while no replica watches is not caught
    here; the next write of the child replaces whatever they added.)
    """
    return not foreign_fields(live, exceptions) and not compare.differences(desired, live)


# ---- what differs, for humans ------------------------------------------------------------


def differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[compare.Difference]:
    """Every difference between two normalized objects, both ways (changed, added, gone)."""
    found: list[compare.Difference] = []
    _diff(expected, actual, "", found)
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff(want: Any, have: Any, path: str, out: list[compare.Difference]) -> None:
    if isinstance(want, Mapping) and isinstance(have, Mapping):
        for key in sorted(set(want) | set(have)):
            _diff(want.get(key, compare.MISSING), have.get(key, compare.MISSING),
                  _join(path, key), out)  # fmt: skip
        return
    if isinstance(want, list) and isinstance(have, list):
        _diff_list(want, have, path, out)
        return
    if want == have and type(want) is type(have):
        return
    expected = None if want is compare.MISSING else want
    actual = None if have is compare.MISSING else have
    out.append(compare.Difference(path, expected, actual))


def _diff_list(want: list[Any], have: list[Any], path: str, out: list[compare.Difference]) -> None:
    key = compare.merge_key(want, have)
    if key is None:
        if want != have:
            out.append(compare.Difference(path, want, have))
        return
    theirs = {item.get(key): item for item in have}
    ours = {item.get(key): item for item in want}
    for ident in [*ours, *(i for i in theirs if i not in ours)]:
        _diff(ours.get(ident, compare.MISSING), theirs.get(ident, compare.MISSING),
              f"{path}[{key}={ident}]", out)  # fmt: skip


def drifted_paths(diffs: Collection[compare.Difference]) -> list[str]:
    """The changed paths, for logs and metrics."""
    return sorted({d.path for d in diffs})
