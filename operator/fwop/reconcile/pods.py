"""Pod drift: a running pod of a workload that is no longer what its template made.

Pods are not children (their ReplicaSet makes them), but a few changes to a running pod
walk around the baseline without touching the Deployment: an ephemeral debug container
(`kubectl debug`), a pod relabelled out of its NetworkPolicies and its ReplicaSet, a label
another party adds so that someone else's NetworkPolicy or Service selects it, an image
swapped in place (of an app or an init container). Each is drift; the heal deletes the pod
(one write) and the ReplicaSet (or the Job) replaces it from the template. Labels the
cluster's controllers set (``pod-template-hash`` by the ReplicaSet controller, and anything
set at creation) are not drift, nor are pods of an older ReplicaSet while a rollout runs:
a Deployment's pods are compared on images only once it has settled. A CronJob's pods are
compared with the template of the Job that made them, which cannot change, so at any time.
Must not: do I/O, or judge anything but the fields listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fwop.reconcile import drift

KIND = "Pod"
CREATOR = "kube-controller-manager"
"""The field manager that creates a ReplicaSet's pods (labels set then are the template's)."""


def settled(deployment: Mapping[str, Any] | None) -> bool:
    """Whether the Deployment's rollout is over (every pod from the current template)."""
    if not deployment:
        return False
    meta, spec = deployment.get("metadata", {}), deployment.get("spec", {})
    status = deployment.get("status", {})
    wanted = spec.get("replicas", 1)
    return bool(
        status.get("observedGeneration", 0) >= meta.get("generation", 0)
        and status.get("updatedReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
    )


def _finding(name: str, field: str, expected: Any, actual: Any, healed: bool) -> drift.Finding:
    def text(value: Any) -> str:
        return "absent" if value is None else str(value)

    return drift.Finding(KIND, name, field, text(expected), text(actual), healed)


def _labels(
    name: str, wanted: Mapping[str, str], meta: Mapping[str, Any], healed: bool
) -> list[drift.Finding]:
    """The template's labels must be there; labels others added later are drift."""
    labels = meta.get("labels") or {}
    found = [
        _finding(name, f"metadata.labels.{key}", value, labels.get(key), healed)
        for key, value in wanted.items()
        if labels.get(key) != value
    ]
    managers = meta.get("labelManagers") or {}
    for key in sorted(set(labels) - set(wanted)):
        if any(m != CREATOR for m in managers.get(key, ())):
            found.append(_finding(name, f"metadata.labels.{key}", None, labels[key], healed))
    return found


def _images(
    name: str, template: Mapping[str, Any], pod: Mapping[str, Any], healed: bool
) -> list[drift.Finding]:
    found = []
    for key in ("initContainers", "containers"):  # the image of either can change in place
        containers = template.get("spec", {}).get(key) or ()
        images = {c.get("name"): c.get("image") for c in containers}
        for container in pod.get("spec", {}).get(key) or ():
            expected = images.get(container.get("name"))
            if expected is not None and container.get("image") != expected:
                field = f"spec.{key}[name={container.get('name')}].image"
                found.append(_finding(name, field, expected, container.get("image"), healed))
    return found


def judge(
    template: Mapping[str, Any],
    pod: Mapping[str, Any],
    images_from: Mapping[str, Any] | None,
    healed: bool,
) -> list[drift.Finding]:
    """What drifted on one pod of the workload, against its controller's pod template.

    `images_from` is the template the pod's images must match: the Deployment's once its
    rollout is over, the pod's own Job's for a CronJob; None compares no image.
    """
    meta = pod.get("metadata", {})
    if meta.get("deletionTimestamp"):
        return []
    name = str(meta.get("name"))
    found = [
        _finding(
            name, f"spec.ephemeralContainers[name={c.get('name')}]", None, c.get("image"), healed
        )
        for c in pod.get("spec", {}).get("ephemeralContainers") or ()
    ]
    found += _labels(name, template.get("metadata", {}).get("labels", {}), meta, healed)
    if meta.get("labelsDropped"):  # more labels than the store keeps: others added them
        more = f"{meta['labelsDropped']} labels more than are kept"
        found.append(_finding(name, "metadata.labels", "the template's labels", more, healed))
    owners = meta.get("ownerReferences") or ()
    if not any(isinstance(o, Mapping) and o.get("controller") for o in owners):
        found.append(_finding(name, "metadata.ownerReferences", "its ReplicaSet", None, healed))
    if images_from is not None:
        found += _images(name, images_from, pod, healed)
    return found
