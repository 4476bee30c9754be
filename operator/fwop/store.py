"""The one store of live objects: workloads, their children, namespaces, and references.

Watch handlers and the operator's own writes feed it through one path each, and the newest
resourceVersion always wins (a late watch event never hides the operator's own write, and
a late write response never hides a later change). Children are found by their owner's
uid, read from the controller ownerReference, never from a label a tamper could strip; a
child stays routed to the workload that owned it even after someone removes its
ownerReference, so the tamper is seen and healed. For each child the store also keeps a
*reference*: the digest of the object as the API server returned it after the operator's
last write (see ``fwop.reconcile.fields``). Must not: do I/O, or decide what to write.
"""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Container, Iterator, Mapping, MutableMapping
from typing import Any, Generic, TypeVar

from fwop.api import group

Key = tuple[str, str]
"""A workload: (namespace, name)."""
TOMBSTONES = 65536
"""Children remembered after they left the store (bounded)."""
ChildKey = tuple[str, str, str]
"""A child: (kind, namespace, name)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    """What a child looked like right after the operator's last write of it.

    One per child: slotted, and its exceptions shared (``fields.Exceptions.of`` interns).
    """

    object_uid: str
    """The child object this is about (a recreated object gets a new uid)."""
    desired: str
    """Digest of the rendering written; a new rendering makes the reference stale."""
    digest: str
    """Digest of the normalized object the server returned."""
    exceptions: object = None
    """The fields.Exceptions the digest was computed with (to judge watch echoes)."""


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, plain-dict copy (kopf bodies are live views)."""
    copied: dict[str, Any] = json.loads(json.dumps(body, default=dict))
    return copied


def newer(metadata: Mapping[str, Any], cached: Mapping[str, Any] | None) -> bool:
    """Whether an object version (metadata) is at least as new as the cached copy."""
    if cached is None:
        return True
    return _at_least(
        metadata.get("resourceVersion"), cached.get("metadata", {}).get("resourceVersion")
    )


def _at_least(version: object, kept: object) -> bool:
    """Whether a resourceVersion is at least ``kept`` (etcd's are increasing integers).

    Anything not an integer is taken as newer.
    """
    try:
        return int(str(version)) >= int(str(kept))
    except ValueError:
        return True


OPERATOR_MANAGER = "fwop"


def slim_child(body: Mapping[str, Any]) -> dict[str, Any]:
    """A child as drift needs it: everything but what only costs memory.

    Kept: the whole object (the reference digest covers every field), the Deployment's
    status (readiness), and the managedFields entries of other managers (first-sight
    adoption). Dropped: the operator's own managedFields entries, status subresource
    entries, and the status of every other kind.
    """
    # Objects from the operator's own watch, lists and reads are fresh dicts nobody else
    # holds: a shallow copy is enough (only metadata and status are changed below).
    obj = dict(body) if isinstance(body, dict) else plain(body)
    meta = obj["metadata"] = dict(obj.get("metadata", {}))
    entries = [
        e
        for e in meta.get("managedFields") or ()
        if e.get("manager") != OPERATOR_MANAGER and e.get("subresource") != "status"
    ]
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)
    if obj.get("kind") != "Deployment":
        obj.pop("status", None)
    return obj


def workload_owner(obj: Mapping[str, Any]) -> str | None:
    """The uid of the FinancialWorkload that controls an object, if one does."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if (
            isinstance(ref, Mapping)
            and ref.get("controller")
            and ref.get("kind") == group.KIND
            and str(ref.get("apiVersion", "")).startswith(f"{group.GROUP}/")
        ):
            return str(ref.get("uid"))
    return None


LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "fwop"
LABEL_WORKLOAD = f"{group.GROUP}/workload"
_POD_META = ("name", "namespace", "uid", "resourceVersion", "labels", "ownerReferences",
             "deletionTimestamp")  # fmt: skip


def _label_managers(meta: Mapping[str, Any]) -> dict[str, list[str]]:
    """Which field managers set each label (from managedFields), main resource only."""
    found: dict[str, list[str]] = {}
    for entry in meta.get("managedFields") or ():
        if entry.get("subresource"):
            continue
        labels = (entry.get("fieldsV1") or {}).get("f:metadata", {}).get("f:labels", {})
        for key in labels:
            if key.startswith("f:"):
                found.setdefault(key[2:], []).append(str(entry.get("manager", "")))
    return found


# Bounds on what is kept of a pod or a Job. The operator's pods have a few containers with
# digest-pinned images and a handful of labels, so anything past these is not one of its
# own, and a pod or Job made to be large (anyone can label one as the operator's) costs no
# more than any other.
POD_CONTAINERS, POD_IMAGE_CHARS, POD_LABELS = 32, 512, 64


def _images(pod_spec: Mapping[str, Any], field: str) -> list[dict[str, str]]:
    return [
        {"name": str(c.get("name"))[:POD_IMAGE_CHARS],
         "image": str(c.get("image"))[:POD_IMAGE_CHARS]}
        for c in (pod_spec.get(field) or ())[:POD_CONTAINERS]
    ]  # fmt: skip


def slim_pod(body: Mapping[str, Any]) -> dict[str, Any]:
    """What pod drift reads of a pod: identity, labels, owners, containers' names and images.

    Bounded: at most POD_LABELS labels (the rest are counted in `labelsDropped`, which is
    drift in itself), POD_CONTAINERS containers per list, images cut at POD_IMAGE_CHARS.
    """
    meta = body.get("metadata", {})
    spec = body.get("spec", {})
    kept = {k: meta[k] for k in _POD_META if k in meta}
    labels = meta.get("labels") or {}
    if len(labels) > POD_LABELS:
        kept["labels"] = {k: labels[k] for k in sorted(labels)[:POD_LABELS]}
        kept["labelsDropped"] = len(labels) - POD_LABELS
    managers = _label_managers(meta)
    return plain({
        "metadata": {**kept,
                     "labelManagers": {k: managers[k] for k in kept.get("labels", {})
                                       if k in managers}},
        "spec": {f: _images(spec, f) for f in ("containers", "initContainers",
                                                "ephemeralContainers")},
    })  # fmt: skip


def slim_job(body: Mapping[str, Any]) -> dict[str, Any]:
    """What pod drift reads of a Job: uid, controller, its template's images (bounded)."""
    meta = body.get("metadata", {})
    pod_spec = body.get("spec", {}).get("template", {}).get("spec", {})
    owners = [
        {k: str(ref.get(k))[:POD_IMAGE_CHARS] for k in ("kind", "name", "uid")}
        for ref in meta.get("ownerReferences") or ()
        if isinstance(ref, Mapping) and ref.get("controller")
    ]
    return plain({
        "metadata": {"uid": meta.get("uid"), "controller": owners[0] if owners else None},
        "spec": {"template": {"spec": {f: _images(pod_spec, f)
                                       for f in ("containers", "initContainers")}}},
    })  # fmt: skip


def job_reference(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name, uid) of the Job that controls `pod`, if a Job does."""
    for ref in pod.get("metadata", {}).get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("controller") and ref.get("kind") == "Job":
            return str(ref.get("name")), str(ref.get("uid"))
    return None


def _same_pod(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    def strip(pod: Mapping[str, Any]) -> Any:
        meta = {k: v for k, v in pod.get("metadata", {}).items() if k != "resourceVersion"}
        return meta, pod.get("spec")

    return bool(strip(one) == strip(other))


def child_key(obj: Mapping[str, Any]) -> ChildKey:
    """The store key of a child object."""
    meta = obj["metadata"]
    return (str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"]))


K = TypeVar("K", Key, ChildKey)


class Packed(MutableMapping[K, dict[str, Any]], Generic[K]):
    """Objects kept as compact JSON text, with their resourceVersion beside it.

    A fifth of the memory of the decoded dicts (workloads and children were the store's
    largest holders: docs/scale.md); each read decodes a fresh copy (tens of microseconds),
    so no caller can change the store by changing what it read: writes go through
    the store's methods.
    """

    def __init__(self) -> None:
        self._texts: dict[K, tuple[str, str]] = {}

    def __getitem__(self, ckey: K) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self._texts[ckey][1])
        return decoded

    def __setitem__(self, ckey: K, obj: dict[str, Any]) -> None:
        version = str(obj.get("metadata", {}).get("resourceVersion", ""))
        # default=dict: kopf hands over bodies whose parts are mapping views, not dicts
        self._texts[ckey] = (version, json.dumps(obj, separators=(",", ":"), default=dict))

    def __delitem__(self, ckey: K) -> None:
        del self._texts[ckey]

    def __iter__(self) -> Iterator[K]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, ckey: object) -> bool:
        return ckey in self._texts

    def newer(self, metadata: Mapping[str, Any], ckey: K) -> bool:
        """Whether this version is at least as new as the one kept (see ``newer``)."""
        kept = self._texts.get(ckey)
        return kept is None or _at_least(metadata.get("resourceVersion"), kept[0])


class Store:
    """Live objects by key, children indexed by owner uid."""

    def __init__(self) -> None:
        self.workloads: Packed[Key] = Packed()
        self._keys: dict[str, Key] = {}
        self._by_namespace: dict[str, set[Key]] = {}
        self.children: Packed[ChildKey] = Packed()
        self._owner: dict[ChildKey, str] = {}
        self._objects: dict[ChildKey, str] = {}
        self._owned: dict[str, set[ChildKey]] = {}
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.references: dict[ChildKey, Reference] = {}
        self._tombstones: collections.OrderedDict[ChildKey, tuple[str, str]] = (
            collections.OrderedDict()
        )
        self.pods: dict[Key, dict[str, Any]] = {}
        self._pod_owner: dict[Key, tuple[Key, str]] = {}
        """pod -> (its workload's key, the pod's uid)."""
        self._pods_of: dict[Key, set[Key]] = {}
        self._workloads_listed = False
        """Before the first list of workloads, pods are kept for workloads not seen yet."""

    # ---- workloads --------------------------------------------------------------------------

    def workload_seen(self, body: Mapping[str, Any], deleted: bool) -> Key:
        """A FinancialWorkload event; returns its key."""
        meta = body["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        uid = str(meta.get("uid", ""))
        if deleted:
            self.workloads.pop(key, None)
            self._keys.pop(uid, None)
            self._by_namespace.get(key[0], set()).discard(key)
            return key
        if self.workloads.newer(meta, key):
            # One encoding, straight into the store (no deep copy first).
            slim = dict(body)
            slim["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
            self.workloads[key] = slim
            self._keys[uid] = key
            self._by_namespace.setdefault(key[0], set()).add(key)
        return key

    def key_of(self, uid: str) -> Key | None:
        """The workload with this uid, if the store holds it."""
        return self._keys.get(uid)

    # ---- children ---------------------------------------------------------------------------

    def child_seen(self, body: Mapping[str, Any], deleted: bool) -> Key | None:
        """A child event (or any object of a child kind); returns the owning workload's key.

        Objects no FinancialWorkload controls, and that never were its children, are not
        kept: the watch sees every object of the kind.
        """
        ckey = child_key(body)
        object_uid = str(body["metadata"].get("uid", ""))
        owner = workload_owner(body)
        if owner is None and self._objects.get(ckey) == object_uid:
            owner = self._owner.get(ckey)  # our child, stripped of its ownerReference
        if owner is None and self._tombstones.get(ckey, ("", ""))[1] == object_uid:
            owner = self._tombstones[ckey][0]  # back in the watch's selector, still ours
        if owner is None:
            return None
        if deleted:
            if self._objects.get(ckey) == object_uid or ckey not in self._objects:
                self.forget(ckey)
        elif self.children.newer(body["metadata"], ckey):
            self._keep(ckey, slim_child(body), owner, object_uid)
        return self._keys.get(owner)

    def written(self, obj: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """The operator's own write returned this object; returns the newest known copy."""
        ckey = child_key(obj)
        if self.children.newer(obj.get("metadata", {}), ckey):
            self._keep(ckey, slim_child(obj), owner, str(obj["metadata"].get("uid", "")))
        return self.children.get(ckey, dict(obj))

    def _keep(self, ckey: ChildKey, obj: dict[str, Any], owner: str, object_uid: str) -> None:
        previous = self._owner.get(ckey)
        if previous is not None and previous != owner:
            self._owned.get(previous, set()).discard(ckey)
        self.children[ckey] = obj
        self._owner[ckey] = owner
        self._objects[ckey] = object_uid
        self._owned.setdefault(owner, set()).add(ckey)

    def forget(self, ckey: ChildKey) -> None:
        """A child is gone, or left the watch's label selector.

        Gone: deleted, or vanished across a relist; left: someone stripped its labels. The
        store keeps who it was, so an object found later under the name with the same uid
        is still known as ours.
        """
        self.children.pop(ckey, None)
        self.references.pop(ckey, None)
        object_uid = self._objects.pop(ckey, None)
        owner = self._owner.pop(ckey, None)
        if owner is not None:
            self._owned.get(owner, set()).discard(ckey)
            if object_uid:
                self._tombstones[ckey] = (owner, object_uid)
                self._tombstones.move_to_end(ckey)
                while len(self._tombstones) > TOMBSTONES:
                    self._tombstones.popitem(last=False)

    def owner_of(self, ckey: ChildKey) -> str | None:
        """The uid of the workload a child belongs to, if the store knows it."""
        return self._owner.get(ckey)

    def relisted(self, kind: str, seen: set[tuple[str, str]]) -> list[Key]:
        """A fresh list of one child kind held ``seen``: forget the rest.

        They were deleted while no watch ran; returns the workloads that lost a child.
        """
        owners = []
        for ckey in [c for c in self.children if c[0] == kind and (c[1], c[2]) not in seen]:
            owner = self._owner.get(ckey)
            self.forget(ckey)
            key = self._keys.get(owner) if owner else None
            if key is not None:
                owners.append(key)
        return owners

    def workloads_listed(self) -> None:
        """The workloads have been listed: pods naming no workload are not kept any more.

        Those kept before the list that name none of the listed workloads are forgotten.
        """
        self._workloads_listed = True
        for pkey, (owner, _) in list(self._pod_owner.items()):
            if owner not in self.workloads:
                self._forget_pod(pkey)

    def pods_relisted(self, seen: set[tuple[str, str]]) -> None:
        """A fresh list of pods: forget the ones it did not hold."""
        for pkey in [p for p in self.pods if p not in seen]:
            self._forget_pod(pkey)

    def namespaces_relisted(self, seen: set[tuple[str, str]]) -> None:
        """A fresh list of namespaces: forget the ones it did not hold."""
        names = {name for _, name in seen}
        for name in [n for n in self.namespaces if n not in names]:
            del self.namespaces[name]

    def ours(self, ckey: ChildKey, obj: Mapping[str, Any], owner: str) -> bool:
        """Whether this very object is (or was, before a tamper) a child of ``owner``."""
        if workload_owner(obj) == owner:
            return True
        object_uid = obj["metadata"].get("uid")
        known = self._objects.get(ckey)
        if known is not None:
            return bool(known == object_uid)
        return self._tombstones.get(ckey) == (owner, object_uid)

    def owned(
        self, owner: str, skip: Container[ChildKey] = ()
    ) -> Iterator[tuple[ChildKey, dict[str, Any]]]:
        """The children the store holds for a workload uid, except those in ``skip``.

        Skipped keys are not decoded (a pass's prune needs only the children not rendered).
        """
        for ckey in sorted(self._owned.get(owner, ())):
            if ckey in skip:
                continue
            child = self.children.get(ckey)
            if child is not None:
                yield ckey, child

    def drop_workload_children(self, owner: str) -> None:
        """A workload is gone: forget its children (garbage collection removes them)."""
        for ckey in list(self._owned.pop(owner, ())):
            self.forget(ckey)

    # ---- pods of workloads -------------------------------------------------------------------

    def pod_seen(self, body: Mapping[str, Any], deleted: bool) -> Key | None:
        """A pod event; returns the key of its workload (None: not one the store holds).

        A pod is a workload's when it carries the operator's pod labels naming it (kept even
        while the workload is not in the store yet, until the workloads have been listed:
        after a restart the pods may be listed first; after that, a pod labelled as a
        workload the store does not hold is not kept, so pods anyone labels so cost
        nothing); a pod seen so once stays the workload's after someone strips its labels
        (it left its ReplicaSet: the escape is itself drift). Only the fields pod drift
        reads are kept, bounded (slim_pod).
        """
        meta = body["metadata"]
        pkey = (str(meta["namespace"]), str(meta["name"]))
        object_uid = str(meta.get("uid", ""))
        labels = meta.get("labels") or {}
        owner: Key | None = None
        if labels.get(LABEL_MANAGED_BY) == MANAGED_BY and labels.get(LABEL_WORKLOAD):
            owner = (pkey[0], str(labels[LABEL_WORKLOAD]))
        known = self._pod_owner.get(pkey)
        if owner is None and known is not None and known[1] == object_uid:
            owner = known[0]
        if owner is None:
            return None
        if owner not in self.workloads and self._workloads_listed and pkey not in self.pods:
            return None  # labelled as a workload that does not exist: not kept
        if deleted and not meta.get("deletionTimestamp") and pkey in self.pods:
            deleted = False  # not deleted: relabelled out of the watch's selector (drift)
        if deleted:
            self._forget_pod(pkey)
        elif newer(meta, self.pods.get(pkey)):
            slim = slim_pod(body)
            before = self.pods.get(pkey)
            self.pods[pkey] = slim
            if known is not None and known[0] != owner:
                self._pods_of.get(known[0], set()).discard(pkey)
            self._pod_owner[pkey] = (owner, object_uid)
            self._pods_of.setdefault(owner, set()).add(pkey)
            if before is not None and _same_pod(before, slim):
                return None  # only its status moved: nothing pod drift reads
        return owner if owner in self.workloads else None

    def _forget_pod(self, pkey: Key) -> None:
        self.pods.pop(pkey, None)
        known = self._pod_owner.pop(pkey, None)
        if known is not None:
            pods = self._pods_of.get(known[0])
            if pods is not None:
                pods.discard(pkey)
                if not pods:
                    del self._pods_of[known[0]]

    def pods_of(self, owner: str) -> list[dict[str, Any]]:
        """The pods the store holds for a workload uid."""
        key = self._keys.get(owner)
        pods = self._pods_of.get(key, ()) if key is not None else ()
        return [self.pods[p] for p in sorted(pods) if p in self.pods]

    def pod_gone(self, pkey: Key) -> None:
        """The operator deleted a pod."""
        self._forget_pod(pkey)

    # ---- namespaces ---------------------------------------------------------------------------

    def namespace_seen(self, body: Mapping[str, Any], deleted: bool) -> str:
        """A namespace event; returns its name."""
        name = str(body["metadata"]["name"])
        if deleted:
            self.namespaces.pop(name, None)
        elif newer(body["metadata"], self.namespaces.get(name)):
            self.namespaces[name] = plain(body)
        return name

    def namespace_written(self, obj: Mapping[str, Any]) -> None:
        """The operator's own write to a namespace returned this object."""
        name = str(obj["metadata"]["name"])
        if newer(obj.get("metadata", {}), self.namespaces.get(name)):
            self.namespaces[name] = plain(obj)

    def workloads_in(self, namespace: str) -> list[Key]:
        """The workloads of one namespace (indexed: no scan of the whole store)."""
        return sorted(self._by_namespace.get(namespace, ()))
