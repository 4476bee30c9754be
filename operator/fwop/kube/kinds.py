"""Where each kind the operator touches lives in the API: group, version, plural, scope.

A fixed table rather than discovery: the operator only ever writes these kinds, and a
table keeps start-up free of discovery calls. Must not: do I/O.
"""

from __future__ import annotations

import dataclasses
import urllib.parse


@dataclasses.dataclass(frozen=True)
class Kind:
    """One resource type."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        """The API group ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        """The version within the group."""
        return self.api_version.rpartition("/")[2]

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of the collection, or of one object when a name is given."""
        prefix = f"/apis/{self.api_version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            prefix += f"/namespaces/{urllib.parse.quote(namespace)}"
        prefix += f"/{self.plural}"
        return f"{prefix}/{urllib.parse.quote(name)}" if name else prefix


WORKLOAD = Kind("finance.compliance.dev/v1alpha1", "FinancialWorkload", "financialworkloads")
POLICY = Kind(
    "finance.compliance.dev/v1alpha1",
    "FinancialWorkloadPolicy",
    "financialworkloadpolicies",
    namespaced=False,
)
NAMESPACE = Kind("v1", "Namespace", "namespaces", namespaced=False)
EVENT = Kind("v1", "Event", "events")
POD = Kind("v1", "Pod", "pods")
JOB = Kind("batch/v1", "Job", "jobs")  # the runs of a workload's CronJob (watched, never written)
LEASE = Kind("coordination.k8s.io/v1", "Lease", "leases")
SUBJECT_ACCESS_REVIEW = Kind(
    "authorization.k8s.io/v1", "SubjectAccessReview", "subjectaccessreviews", namespaced=False
)
POLICY_REPORT = Kind("wgpolicyk8s.io/v1alpha2", "PolicyReport", "policyreports")
CLUSTER_POLICY_REPORT = Kind(
    "wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport", "clusterpolicyreports", namespaced=False
)
# What fleet inspection reads (fwctl inspect); the operator writes none of them.
STATEFUL_SET = Kind("apps/v1", "StatefulSet", "statefulsets")
DAEMON_SET = Kind("apps/v1", "DaemonSet", "daemonsets")
REPLICA_SET = Kind("apps/v1", "ReplicaSet", "replicasets")
JOB = Kind("batch/v1", "Job", "jobs")
CLUSTER_ROLE = Kind("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False)
CLUSTER_ROLE_BINDING = Kind(
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False
)

CRON_JOB = Kind("batch/v1", "CronJob", "cronjobs")
# Every kind the operator creates for a workload.
CHILDREN = (
    Kind("v1", "ServiceAccount", "serviceaccounts"),
    Kind("rbac.authorization.k8s.io/v1", "Role", "roles"),
    Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    Kind("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass", "secretproviderclasses"),
    Kind("apps/v1", "Deployment", "deployments"),
    CRON_JOB,
    Kind("v1", "Service", "services"),
    Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
)

_BY_KIND = {
    (k.api_version, k.kind): k
    for k in (
        *CHILDREN,
        WORKLOAD,
        POLICY,
        NAMESPACE,
        EVENT,
        SUBJECT_ACCESS_REVIEW,
        LEASE,
        POD,
        POLICY_REPORT,
        CLUSTER_POLICY_REPORT,
    )
}


def of(manifest: dict[str, object]) -> Kind:
    """The Kind of a manifest; KeyError names a kind the operator does not manage."""
    return _BY_KIND[(str(manifest["apiVersion"]), str(manifest["kind"]))]


def child(kind: str) -> Kind:
    """The child kind named ``kind``; a name outside CHILDREN is a programming error."""
    return next(k for k in CHILDREN if k.kind == kind)
