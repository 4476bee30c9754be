"""The spec models: what they accept, and the exact problem for every rule they enforce."""

from __future__ import annotations

from typing import Any

import pytest

from fwop import errors
from fwop.api import rules, spec, workload

from .conftest import DIGEST, RESOURCES, spec_data, workload_doc

PEER = {"podSelector": {"matchLabels": {"app": "db"}}}
SIDE_IMAGE = f"registry.bank.example/team/shipper@sha256:{DIGEST}"


def side(name: str = "shipper", **fields: Any) -> dict[str, Any]:
    """A valid extra container with ``fields`` replaced or added."""
    return {"name": name, "image": SIDE_IMAGE, "resources": RESOURCES, **fields}


VAULT = {
    "provider": "vault",
    "vault": {"address": "https://vault:8200", "role": "app"},
    "objects": [{"name": "db", "path": "secret/data/db", "key": "password"}],
}


def problems_of(**fields: Any) -> list[errors.Problem]:
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse_spec(spec_data(**fields))
    return list(caught.value.problems)


def rule_problem(field: str, rule: rules.Rule) -> errors.Problem:
    return errors.Problem(field, rule.message, rule.control)


def test_minimal_spec_gets_safe_defaults() -> None:
    parsed = workload.parse_spec(spec_data())
    assert parsed.enforcement is spec.Enforcement.ENFORCE
    assert parsed.replicas == 1
    assert parsed.permissions == ()
    assert parsed.network.ingress == ()
    assert parsed.network.egress == ()
    assert parsed.network.allow_dns is False
    assert parsed.secrets is None
    assert parsed.residency is None
    assert parsed.resources.requests.cpu == "100m"


def test_models_are_frozen() -> None:
    parsed = workload.parse_spec(spec_data())
    with pytest.raises(ValueError, match="frozen"):
        parsed.replicas = 5  # type: ignore[misc]


def test_integer_quantities_are_accepted_and_kept_as_strings() -> None:
    resources = {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}}
    parsed = workload.parse_spec(spec_data(resources=resources))
    assert parsed.resources.requests.cpu == "1"
    assert parsed.resources.limits.cpu == "2"


@pytest.mark.parametrize(
    "image",
    [
        f"app@sha256:{DIGEST}",
        f"registry.bank.example/payments/api@sha256:{DIGEST}",
        f"registry.bank.example:5000/a/b-c_d.e@sha256:{DIGEST}",
        f"localhost/team/app@sha256:{DIGEST}",
    ],
)
def test_digest_pinned_images_are_accepted(image: str) -> None:
    assert workload.parse_spec(spec_data(image=image)).image == image


# Every rule of fwop.api.rules, broken on purpose: (spec fields, field reported, rule).
VIOLATIONS: list[tuple[str, dict[str, Any], str, rules.Rule]] = [
    ("tag", {"image": "nginx:1.27"}, "spec.image", rules.IMAGE_PINNED),
    ("latest", {"image": "nginx:latest"}, "spec.image", rules.IMAGE_PINNED),
    ("bare", {"image": "nginx"}, "spec.image", rules.IMAGE_PINNED),
    ("tag+digest", {"image": f"nginx:1.27@sha256:{DIGEST}"}, "spec.image", rules.IMAGE_PINNED),
    ("short digest", {"image": "nginx@sha256:abc"}, "spec.image", rules.IMAGE_PINNED),
    ("upper hex", {"image": f"nginx@sha256:{DIGEST.upper()}"}, "spec.image", rules.IMAGE_PINNED),
    (
        "no limits",
        {"resources": {"requests": RESOURCES["requests"]}},
        "spec.resources.limits",
        rules.RESOURCES_REQUIRED,
    ),
    (
        "no memory request",
        {"resources": {"requests": {"cpu": "1"}, "limits": RESOURCES["limits"]}},
        "spec.resources.requests.memory",
        rules.RESOURCES_REQUIRED,
    ),
    (
        "wildcard group",
        {"permissions": [{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}]},
        "spec.permissions[0].apiGroups",
        rules.NO_WILDCARD_API_GROUPS,
    ),
    (
        "wildcard resource",
        {"permissions": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]},
        "spec.permissions[0].resources",
        rules.NO_WILDCARD_RESOURCES,
    ),
    (
        "wildcard subresource",
        {"permissions": [{"apiGroups": [""], "resources": ["pods/*"], "verbs": ["get"]}]},
        "spec.permissions[0].resources",
        rules.NO_WILDCARD_RESOURCES,
    ),
    (
        "wildcard verb",
        {"permissions": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]},
        "spec.permissions[0].verbs",
        rules.NO_WILDCARD_VERBS,
    ),
    *[
        (
            verb,
            {
                "permissions": [
                    {
                        "apiGroups": ["rbac.authorization.k8s.io"],
                        "resources": ["roles"],
                        "verbs": ["get", verb],
                    }
                ]
            },
            "spec.permissions[0].verbs",
            rules.NO_ESCALATING_VERBS,
        )
        for verb in ("escalate", "bind", "impersonate")
    ],
    (
        "secrets under any profile (hard floor)",
        {"permissions": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]},
        "spec.permissions[0]",
        rules.PERMISSION_FLOOR["secrets"],
    ),
    *[
        (
            f"hard floor {key}",
            {"permissions": [{"apiGroups": [group], "resources": [resource], "verbs": [verb]}]},
            "spec.permissions[0]",
            rules.PERMISSION_FLOOR[key],
        )
        for key, group, resource, verb in (
            ("pods", "", "pods", "create"),
            ("enter", "", "pods/exec", "get"),
            ("identity", "", "serviceaccounts/token", "create"),
            ("rbac", "rbac.authorization.k8s.io", "roles", "get"),
            ("guardrails", "", "namespaces", "patch"),
            ("traffic", "", "endpoints", "update"),
        )
    ],
    (
        "deployments writes (hard floor)",
        {
            "permissions": [
                {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]}
            ]
        },
        "spec.permissions[0]",
        rules.PERMISSION_FLOOR["pods"],
    ),
    (
        "wildcard resource name",
        {
            "permissions": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": ["*"],
                    "verbs": ["get"],
                }
            ]
        },
        "spec.permissions[0].resourceNames",
        rules.NO_WILDCARD_NAMES,
    ),
    ("pci one replica", {"profile": "pci", "replicas": 1}, "spec.replicas", rules.PCI_MIN_REPLICAS),
    ("pci default replicas", {"profile": "pci"}, "spec.replicas", rules.PCI_MIN_REPLICAS),
    (
        "peer with ipBlock and selector",
        {
            "network": {
                "egress": [
                    {"to": [{**PEER, "ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 1}]}
                ]
            }
        },
        "spec.network.egress[0].to[0]",
        rules.PEER_SHAPE,
    ),
    (
        "empty peer",
        {"network": {"ingress": [{"from": [{}], "ports": [{"port": 80}]}]}},
        "spec.network.ingress[0].from[0]",
        rules.PEER_SHAPE,
    ),
    (
        "bad cidr",
        {
            "network": {
                "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}], "ports": [{"port": 1}]}]
            }
        },
        "spec.network.egress[0].to[0].ipBlock",
        rules.CIDR_VALID,
    ),
    (
        "bad except",
        {
            "network": {
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["nope/8"]}}],
                        "ports": [{"port": 1}],
                    }
                ]
            }
        },
        "spec.network.egress[0].to[0].ipBlock",
        rules.CIDR_VALID,
    ),
    (
        "probe without handler",
        {"probes": {"liveness": {"periodSeconds": 5}}},
        "spec.probes.liveness",
        rules.PROBE_HANDLER,
    ),
    (
        "probe with two handlers",
        {
            "probes": {
                "readiness": {"httpGet": {"path": "/", "port": 80}, "tcpSocket": {"port": 80}}
            }
        },
        "spec.probes.readiness",
        rules.PROBE_HANDLER,
    ),
    (
        "startup probe with grpc and exec",
        {"probes": {"startup": {"grpc": {"port": 9090}, "exec": {"command": ["/bin/check"]}}}},
        "spec.probes.startup",
        rules.PROBE_HANDLER,
    ),
    (
        "liveness asking for two successes",
        {"probes": {"liveness": {"tcpSocket": {"port": 80}, "successThreshold": 2}}},
        "spec.probes",
        rules.PROBE_SUCCESS_THRESHOLD,
    ),
    (
        "sidecar image by tag",
        {"containers": [side(image="fluent-bit:3.1")]},
        "spec.containers[0].image",
        rules.CONTAINER_IMAGE_PINNED,
    ),
    (
        "init container without limits",
        {"initContainers": [side(resources={"requests": RESOURCES["requests"]})]},
        "spec.initContainers[0].resources.limits",
        rules.CONTAINER_RESOURCES,
    ),
    (
        "extra container named like the main one",
        {"containers": [side(name="app")]},
        "spec.containers[0].name",
        rules.CONTAINER_NAME,
    ),
    (
        "one name in both lists",
        {"containers": [side()], "initContainers": [side()]},
        "spec.initContainers",
        rules.CONTAINER_NAMES_UNIQUE,
    ),
    (
        "init container that listens",
        {"initContainers": [side(ports=[{"name": "http", "containerPort": 8080}])]},
        "spec.initContainers[0]",
        rules.INIT_CONTAINER_RUNS_ONCE,
    ),
    (
        "secrets mount without secrets",
        {"containers": [side(mountSecrets=True)]},
        "spec.secrets",
        rules.MOUNT_SECRETS_NEEDS_SECRETS,
    ),
    (
        "configMap item out of its volume",
        {
            "volumes": [
                {
                    "name": "cfg",
                    "configMap": {"name": "c", "items": [{"key": "k", "path": "../../etc/passwd"}]},
                }
            ]
        },
        "spec.volumes[0].configMap.items[0].path",
        rules.NO_PARENT_PATH,
    ),
    (
        "mount over the root, spelt twice",
        {
            "volumes": [{"name": "r", "emptyDir": {"sizeLimit": "1Gi"}}],
            "volumeMounts": [{"name": "r", "mountPath": "//", "writable": True}],
        },
        "spec.volumeMounts[0].mountPath",
        rules.MOUNT_PATH_CLEAN,
    ),
    (
        "projected source with two kinds",
        {
            "volumes": [
                {
                    "name": "p",
                    "projected": {
                        "sources": [
                            {
                                "configMap": {"name": "c"},
                                "downwardAPI": [{"path": "labels", "fieldPath": "metadata.labels"}],
                            }
                        ]
                    },
                }
            ]
        },
        "spec.volumes[0].projected.sources[0]",
        rules.PROJECTED_SOURCE_ONE,
    ),
    (
        "volume without a source",
        {"volumes": [{"name": "empty"}]},
        "spec.volumes[0]",
        rules.VOLUME_SOURCE_ONE,
    ),
    (
        "volume named like the operator's /tmp",
        {"volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]},
        "spec.volumes[0].name",
        rules.VOLUME_NAME,
    ),
    (
        "scheduled job with a port",
        {"job": {"schedule": "0 2 * * *"}, "ports": [{"name": "http", "containerPort": 8080}]},
        "spec.job",
        rules.JOB_RUNS_TO_COMPLETION,
    ),
    (
        "pci autoscaler down to one pod",
        {
            "profile": "pci",
            "replicas": 2,
            "autoscaling": {"minReplicas": 1, "maxReplicas": 4, "targetCPUUtilization": 70},
        },
        "spec.autoscaling",
        rules.PCI_MIN_AUTOSCALING,
    ),
    (
        "autoscaler and externally managed replicas",
        {
            "externallyManaged": ["replicas"],
            "autoscaling": {"maxReplicas": 4, "targetCPUUtilization": 70},
        },
        "spec.autoscaling",
        rules.AUTOSCALING_EXCLUSIVE,
    ),
    (
        "autoscaler without a target",
        {"autoscaling": {"maxReplicas": 4}},
        "spec.autoscaling",
        rules.AUTOSCALING_TARGET,
    ),
    (
        "autoscaler minimum above its maximum",
        {"autoscaling": {"minReplicas": 5, "maxReplicas": 4, "targetMemoryUtilization": 80}},
        "spec.autoscaling",
        rules.AUTOSCALING_RANGE,
    ),
    (
        "rollout that can never replace a pod",
        {"rollout": {"maxSurge": 0, "maxUnavailable": "0%"}},
        "spec.rollout",
        rules.ROLLOUT_PROGRESS,
    ),
    (
        "pod label the operator selects on",
        {"podMetadata": {"labels": {"finance.compliance.dev/workload": "other"}}},
        "spec.podMetadata",
        rules.RESERVED_LABELS,
    ),
    (
        "mesh opt-out annotation",
        {"podMetadata": {"annotations": {"sidecar.istio.io/inject": "false"}}},
        "spec.podMetadata",
        rules.RESERVED_ANNOTATIONS,
    ),
    (
        "control-plane toleration",
        {
            "placement": {
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
                ]
            }
        },
        "spec.placement.tolerations[0]",
        rules.TOLERATION_KEY,
    ),
    (
        "exists with a value",
        {"placement": {"tolerations": [{"key": "pool", "operator": "Exists", "value": "cde"}]}},
        "spec.placement.tolerations[0]",
        rules.TOLERATION_VALUE,
    ),
    (
        "system priority",
        {"placement": {"priorityClassName": "system-cluster-critical"}},
        "spec.placement",
        rules.SYSTEM_PRIORITY,
    ),
    (
        "preStop with both actions",
        {"shutdown": {"preStop": {"sleepSeconds": 5, "exec": ["/bin/drain"]}}},
        "spec.shutdown.preStop",
        rules.PRESTOP_ONE,
    ),
    (
        "two cloud identities",
        {
            "identity": {
                "cloud": {
                    "aws": {"roleArn": "arn:aws:iam::123456789012:role/payments"},
                    "gcp": {"serviceAccount": "payments@bank-prod.iam.gserviceaccount.com"},
                }
            }
        },
        "spec.identity.cloud",
        rules.CLOUD_ONE,
    ),
    (
        "no cloud identity",
        {"identity": {"cloud": {}}},
        "spec.identity.cloud",
        rules.CLOUD_ONE,
    ),
    (
        "In without values",
        {
            "network": {
                "egress": [
                    {
                        "to": [
                            {
                                "podSelector": {
                                    "matchExpressions": [{"key": "tier", "operator": "In"}]
                                }
                            }
                        ],
                        "ports": [{"port": 443}],
                    }
                ]
            }
        },
        "spec.network.egress[0].to[0].podSelector.matchExpressions[0]",
        rules.SELECTOR_EXPRESSION,
    ),
    (
        "port range backwards",
        {
            "network": {
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                        "ports": [{"port": 9000, "endPort": 8000}],
                    }
                ]
            }
        },
        "spec.network.egress[0].ports[0]",
        rules.END_PORT,
    ),
    (
        "API server without permissions",
        {"network": {"allowAPIServer": True}},
        "spec.network",
        rules.API_SERVER_NEEDS_PERMISSIONS,
    ),
    (
        "vault without block",
        {"secrets": {k: v for k, v in VAULT.items() if k != "vault"}},
        "spec.secrets.vault",
        rules.VAULT_BLOCK,
    ),
    (
        "vault block for aws",
        {"secrets": {**VAULT, "provider": "aws", "objects": [{"name": "a", "path": "b"}]}},
        "spec.secrets.vault",
        rules.VAULT_BLOCK,
    ),
    (
        "azure without block",
        {"secrets": {"provider": "azure", "objects": [{"name": "a", "path": "b"}]}},
        "spec.secrets.azure",
        rules.AZURE_BLOCK,
    ),
    (
        "aws block for gcp",
        {"secrets": {"provider": "gcp", "aws": {}, "objects": [{"name": "a", "path": "b"}]}},
        "spec.secrets.aws",
        rules.AWS_BLOCK,
    ),
    (
        "key outside vault",
        {"secrets": {"provider": "gcp", "objects": [{"name": "a", "path": "b", "key": "c"}]}},
        "spec.secrets.objects",
        rules.KEY_NEEDS_VAULT,
    ),
    (
        "mount on /tmp",
        {"secrets": {**VAULT, "mountPath": "/tmp"}},
        "spec.secrets.mountPath",
        rules.MOUNT_PATH,
    ),
    (
        "relative mount",
        {"secrets": {**VAULT, "mountPath": "etc/x"}},
        "spec.secrets.mountPath",
        rules.MOUNT_PATH,
    ),
]


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [case[1:] for case in VIOLATIONS],
    ids=[case[0] for case in VIOLATIONS],
)
def test_each_rule_reports_its_exact_message(
    fields: dict[str, Any], field: str, rule: rules.Rule
) -> None:
    assert problems_of(**fields) == [rule_problem(field, rule)]


def test_every_rule_has_a_violation_case() -> None:
    metadata_rules = {rules.NOT_DEFAULT_NAME}  # on the document, not the spec: below
    assert {case[3] for case in VIOLATIONS} == set(rules.ALL) - metadata_rules


def test_a_workload_named_default_is_refused_as_own1() -> None:
    doc = workload_doc(name="default")
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse(doc)
    rule = rules.NOT_DEFAULT_NAME
    assert caught.value.problems == (errors.Problem(rule.field, rule.message, rule.control),)


def test_missing_resources_is_pod6() -> None:
    data = spec_data()
    del data["resources"]
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse_spec(data)
    assert caught.value.problems == (rule_problem("spec.resources", rules.RESOURCES_REQUIRED),)


@pytest.mark.parametrize(
    ("group", "resource", "verb"),
    [
        ("", "configmaps", "get"),
        ("", "pods", "get"),
        ("", "pods/log", "get"),
        ("", "pods", "delete"),
        ("apps", "deployments", "list"),
        ("coordination.k8s.io", "leases", "update"),
        ("", "events", "create"),
    ],
)
def test_grants_outside_the_hard_floor_are_static_rules_clean(
    group: str, resource: str, verb: str
) -> None:
    permissions = [{"apiGroups": [group], "resources": [resource], "verbs": [verb]}]
    parsed = workload.parse_spec(spec_data(permissions=permissions))
    assert parsed.permissions[0].resources == (resource,)


@pytest.mark.parametrize("carrier", ["valueFrom", "envFrom"])
def test_secret_carriers_in_env_are_refused_as_sec1(carrier: str) -> None:
    env = [{"name": "PASSWORD", carrier: {"secretKeyRef": {"name": "db", "key": "pw"}}}]
    assert problems_of(env=env) == [
        errors.Problem(
            f"spec.env[0].{carrier}",
            f"{carrier} is not supported: mount secrets through spec.secrets (SEC-1)",
            "SEC-1",
        )
    ]


def test_unknown_fields_and_bad_enums_are_reported_with_their_path() -> None:
    found = problems_of(bogus=1, profile="gold", enforcement="heal")
    fields = {problem.field: problem for problem in found}
    assert fields["spec.bogus"].message.startswith("unknown field (fields here: args,")
    assert fields["spec.profile"].message == "Input should be 'baseline' or 'pci'"
    assert fields["spec.enforcement"].message == "Input should be 'enforce' or 'audit'"
    assert all(problem.control is None for problem in found)


def test_numbers_are_not_silently_coerced() -> None:
    found = problems_of(replicas="3", network={"allowDNS": "yes"})
    assert [problem.field for problem in found] == ["spec.replicas", "spec.network.allowDNS"]


@pytest.mark.parametrize(
    ("field", "items"),
    [
        ("env", [{"name": "A", "value": "1"}] * 2),
        ("ports", [{"name": "http", "containerPort": 80}] * 2),
    ],
)
def test_named_lists_refuse_duplicates(field: str, items: list[dict[str, Any]]) -> None:
    name = items[0]["name"]
    assert problems_of(**{field: items}) == [
        errors.Problem(
            f"spec.{field}", f"spec.{field} has two entries named {name!r}; names must be unique"
        )
    ]


@pytest.mark.parametrize("port", [0, 70000, "Not_A_Name", "much-too-long-port-name", True, 1.5])
def test_probe_ports_must_be_numbers_or_port_names(port: object) -> None:
    found = problems_of(probes={"liveness": {"tcpSocket": {"port": port}}})
    assert [problem.field for problem in found] == ["spec.probes.liveness.tcpSocket.port"]


def test_flows_need_peers_and_ports() -> None:
    found = problems_of(network={"egress": [{"to": [], "ports": []}]})
    assert {problem.field for problem in found} == {
        "spec.network.egress[0].to",
        "spec.network.egress[0].ports",
    }


def test_parse_reads_the_envelope_and_defaults_the_namespace() -> None:
    parsed = workload.parse(workload_doc(namespace=None), default_namespace="sandbox")
    assert (parsed.namespace, parsed.name, parsed.uid) == ("sandbox", "app", None)
    doc = workload_doc()
    doc["metadata"]["uid"] = "1234"
    assert workload.parse(doc).uid == "1234"


@pytest.mark.parametrize("name", ["App", "1app", "a" * 64, "app.v1", ""])
def test_workload_names_must_be_dns_labels(name: str) -> None:
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse(workload_doc(name=name))
    assert [problem.field for problem in caught.value.problems] == ["metadata.name"]


def test_envelope_and_spec_problems_are_reported_together() -> None:
    doc = workload_doc(image="nginx")
    doc["apiVersion"] = "finance.compliance.dev/v1"
    doc["kind"] = "Workload"
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse(doc)
    assert [problem.field for problem in caught.value.problems] == [
        "apiVersion",
        "kind",
        "spec.image",
    ]


def test_a_missing_spec_is_one_problem() -> None:
    doc = workload_doc()
    del doc["spec"]
    with pytest.raises(errors.InvalidSpecError) as caught:
        workload.parse(doc)
    assert caught.value.problems == (
        errors.Problem("spec", "spec is required and must be a mapping"),
    )


def test_only_wire_names_are_accepted_like_the_api_server() -> None:
    found = problems_of(ports=[{"name": "http", "container_port": 80}])
    assert {(problem.field, problem.message) for problem in found} == {
        ("spec.ports[0].containerPort", "required field is missing"),
        (
            "spec.ports[0].container_port",
            "unknown field; did you mean spec.ports[0].containerPort? (fields here: containerPort,"
            " name, protocol)",
        ),
    }


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("probes", "livness"), "did you mean spec.probes.liveness?"),
        (("network", "ingress", 0, "form"), "did you mean spec.network.ingress[0].from?"),
        (("autoscaling", "targetCpuUtilization"),
         "did you mean spec.autoscaling.targetCPUUtilization?"),
        (("livenessProbe",), "use spec.probes.liveness"),
        (("strategy",), "use spec.rollout"),
        (("sidecars",), "use spec.initContainers with restartPolicy: Always"),
        (("nodeSelector",), "use spec.placement.nodeSelector"),
        (("volumes", 0, "hostPath"), "never mounts the node's files (POD-5)"),
        (("volumeMounts", 0, "readOnly"), "use writable"),
        (("containers", 0, "sidecar"), "(fields here: "),
    ],
)  # fmt: skip
def test_an_unknown_field_says_what_to_write_instead(
    loc: tuple[int | str, ...], expected: str
) -> None:
    message = workload.unknown_field(loc)
    assert message.startswith("unknown field")
    assert expected in message
    assert "(fields here: " in message
