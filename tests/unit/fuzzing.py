"""Hypothesis strategies that mutate valid FinancialWorkloads, for the admission fuzz tests.

Every generated document starts from a file that admission accepts under the example
bank's policy (examples/*.yaml, and tests/data/valid/*.yaml moved onto a registry that
policy trusts) and goes through a few mutations: env vars and args (some holding planted
secrets: AWS keys, Stripe and GitHub tokens, JWTs, PEM private keys, URLs and connection
strings with passwords, passwords under secret-like names), permissions (with the hard
floor of ``fwop.api.floor``), network flows (ipBlocks with and without except, namespace
selectors), secrets mount paths, quantities, profile, enforcement, replicas, probes,
ports, image, name, namespace, and extra containers (app containers, init containers,
sidecars, whose env and args get the same planted secrets). Each choice leans towards
what a team would really write, so that a good share of the documents is admitted: a fuzz
where everything is refused proves nothing.

A ``Case`` carries the document, the seed it came from and the planted secrets still in
it; its namespace's labels come from the Namespace documents of the same files.
``accepted_sample`` draws a fixed sample of admitted cases outside a test (the cluster
test dry-runs them). Shared by tests/unit/test_fuzz.py and
tests/cluster/test_fuzz_dryrun.py; imported as ``unit.fuzzing``. Must not: import
conftest modules (the cluster tests have their own), or write files.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import yaml
from hypothesis import strategies as st

from fwop import errors
from fwop.admission import images, review
from fwop.api import floor
from fwop.api import policy as policy_api

REPO = Path(__file__).resolve().parents[2]
POLICY_FILE = REPO / "examples" / "policy" / "default.yaml"
SEED_FILES = (
    *sorted((REPO / "examples").glob("*.yaml")),
    *sorted((REPO / "tests" / "data" / "valid").glob("*.yaml")),
)
NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_SEED = 20260531
DEFAULT_EXAMPLES = 2000
SEED = int(os.environ.get("FWOP_FUZZ_SEED", DEFAULT_SEED))
"""The fixed seed of every fuzz run (FWOP_FUZZ_SEED changes it)."""
EXAMPLES = int(os.environ.get("FWOP_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
"""How many documents the unit fuzz generates (FWOP_FUZZ_EXAMPLES changes it)."""

Doc = dict[str, Any]
Draw = st.DrawFn

# -- what the documents start from ---------------------------------------------------------


def load_policy() -> policy_api.FinancialWorkloadPolicySpec:
    """The example bank's cluster policy (examples/policy/default.yaml)."""
    return policy_api.parse(yaml.safe_load(POLICY_FILE.read_text()))


POLICY = load_policy()
DIGEST = "sha256:" + "0123456789abcdef" * 4
ALLOWED_IMAGES = tuple(
    f"{prefix.rstrip('/')}/{app}@{DIGEST}"
    for prefix, app in zip(POLICY.allowed_registries, ("api", "ledger", "gateway"), strict=True)
)


def _documents() -> tuple[list[Doc], dict[str, dict[str, str]]]:
    workloads, labels = [], {}
    for path in SEED_FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            if doc["kind"] == "Namespace":
                labels[doc["metadata"]["name"]] = dict(doc["metadata"].get("labels") or {})
            elif doc["kind"] == "FinancialWorkload":
                workloads.append(doc)
    return workloads, labels


def _rebase(doc: Doc) -> Doc:
    """Move a document's image onto a registry the example policy trusts, if it is not."""
    doc = copy.deepcopy(doc)
    if not images.allowed(doc["spec"]["image"], POLICY.allowed_registries):
        doc["spec"]["image"] = ALLOWED_IMAGES[0]
    return doc


_WORKLOADS, NAMESPACE_LABELS = _documents()
SEEDS: tuple[Doc, ...] = tuple(_rebase(doc) for doc in _WORKLOADS)
"""The valid documents every case starts from."""


def namespace_labels(namespace: str) -> dict[str, str]:
    """The labels of a namespace: its name label, and those its Namespace document gives."""
    return {NAME_LABEL: namespace, **NAMESPACE_LABELS.get(namespace, {})}


CONTAINER_LISTS = ("initContainers", "containers")


def _moved(seed_spec: Doc, name: str, container: object) -> Doc:
    """A valid container of ``seed_spec``'s image holding ``container``'s env, command, args."""
    moved: Doc = {"name": name, "image": seed_spec["image"], "resources": seed_spec["resources"]}
    if isinstance(container, dict):
        moved.update({f: copy.deepcopy(container[f]) for f in ("env", "command", "args")
                      if f in container})  # fmt: skip
    return moved


@dataclasses.dataclass
class Case:
    """A generated FinancialWorkload, the secrets planted in it and how it was made."""

    doc: Doc
    seed: Doc
    """The valid document it started from."""
    planted: list[str] = dataclasses.field(default_factory=list)
    """Secrets typed into the document and still in it."""
    steps: list[str] = dataclasses.field(default_factory=list)
    """What was done to the seed, for failure messages."""

    @property
    def namespace(self) -> str:
        """The document's namespace ("default" when it names none, as fwctl check reads it)."""
        return str(self.doc.get("metadata", {}).get("namespace") or "default")

    @property
    def labels(self) -> dict[str, str]:
        """The labels of the document's namespace."""
        return namespace_labels(self.namespace)

    def judge(self) -> tuple[errors.Problem, ...]:
        """Admission's verdict under the example bank's policy: empty means admitted."""
        return review.review(self.doc, POLICY, self.labels)

    def on_seed(self) -> Case:
        """The seed with this document's env, command and args: the secrets alone.

        A document the CRD rules refuse gets only their problems; this shows what the
        secret rules would say about its env, command and args.
        """
        doc = copy.deepcopy(self.seed)
        spec = self.doc.get("spec", {})
        for field in ("env", "command", "args"):
            if field in spec:
                doc["spec"][field] = copy.deepcopy(spec[field])
        for key in CONTAINER_LISTS:  # the extra containers' too, each made valid otherwise
            containers = spec.get(key)
            if isinstance(containers, list):
                doc["spec"][key] = [
                    _moved(doc["spec"], f"{key.lower()}-{index}", container)
                    for index, container in enumerate(containers)
                ]
        return Case(doc, self.seed, list(self.planted), [*self.steps, "moved onto the seed"])

    def __repr__(self) -> str:
        return f"Case(\n{self.dump()})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a falsifying example: the document as YAML."""
        printer.text(repr(self))

    def dump(self) -> str:
        """The document as YAML, with the steps that made it, for failure messages."""
        steps = "".join(f"# {step}\n" for step in self.steps)
        return steps + yaml.safe_dump(self.doc, sort_keys=False)


# -- vocabularies ------------------------------------------------------------------------------

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
DIGITS = "0123456789"
ALNUM = UPPER + LOWER + DIGITS
B64URL = ALNUM + "-_"
PRINTABLE = ALNUM + " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + "éß€中"

ORDINARY_NAMES = (
    *("LOG_LEVEL", "DB_HOST", "JAVA_OPTS", "TZ", "HTTP_PORT", "OBJECT_STORE_ENDPOINT"),
    *("DB_PASSWORD_FILE", "TOKEN_URL", "CACHE_KEY_PREFIX", "SECRET_NAME", "FEATURE_FLAGS"),
    "SPRING_PROFILES_ACTIVE",
)
SECRET_NAMES = (
    *("PGPASSWORD", "MYSQL_PWD", "REDIS_AUTH", "HSM_PIN", "API_KEY", "DB_PASSWORD"),
    *("CLIENT_SECRET", "GITHUB_TOKEN", "STRIPE_API_KEY", "AWS_SECRET_ACCESS_KEY"),
    *("KAFKA_SASL_PASSWORD", "JWT_SIGNING_KEY", "db.password", "apiKey", "DB_PASSWORD_2"),
)
ORDINARY_VALUES = (
    *("info", "debug", "8080", "postgres.payments.svc", "https://objects.eu-west-1.bank.example"),
    *("-Xmx512m -XX:+UseG1GC", "Europe/Paris", "true", "", "prod,audit", "30s"),
    *("https://auth.bank.example/oauth2/token", "$(DB_HOST)", "vault:secret/data/payments/db"),
)
BENIGN_SECRET_VALUES = (
    *("", "true", "none", "$(DB_PASSWORD)", "${DB_PASSWORD}", "/mnt/secrets/db-password"),
    *("file:/mnt/secrets/db-password", "vault:secret/data/payments/db#password"),
    "https://vault.bank.example:8200",
)
ORDINARY_ARGS = (
    ("--log-level=info",),
    ("--port", "8080"),
    ("--schedule=02:00", "--bucket=ledger-exports"),
    ("--db-password-file=/mnt/secrets/db-password",),
    ("--token-file", "/mnt/secrets/token"),
    ("--no-auth",),
    ("sh", "-c", 'export PGPASSWORD="$(cat /mnt/secrets/db-password)" && exec psql -h db'),
    ("sh", "-c", "exec /app/server --config /etc/app/config.yaml"),
)

GROUPS = (
    *("", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy"),
    *("discovery.k8s.io", "coordination.k8s.io", "secrets-store.csi.x-k8s.io", "*"),
    "finance.compliance.dev",
)
RESOURCES = (
    *("configmaps", "secrets", "pods", "pods/log", "pods/exec", "pods/attach", "pods/status"),
    *("pods/*", "services", "services/proxy", "endpoints", "serviceaccounts", "leases"),
    *("serviceaccounts/token", "deployments", "deployments/scale", "jobs", "roles", "*"),
    *("networkpolicies", "namespaces", "events", "poddisruptionbudgets"),
)
VERBS = (
    *("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"),
    *("escalate", "bind", "impersonate", "use", "*"),
)
READ_VERBS = ("get", "list", "watch")
FLOOR_ITEMS = tuple(
    (entry.group, "roles" if resource == floor.ANY_RESOURCE else resource, entry.verbs)
    for cls in floor.CLASSES
    for entry in cls.entries
    for resource in entry.resources
)
"""(group, resource, forbidden verbs) of every hard floor entry; () forbids every verb."""

CIDRS = (
    *("0.0.0.0/0", "::/0", "169.254.169.254/32", "169.254.0.0/16", "169.254.0.0/15"),
    *("fe80::/10", "fe80::1/128", "10.0.0.0/8", "10.40.0.0/16", "10.96.0.1/32", "10.96.0.0/12"),
    *("172.16.0.0/12", "192.168.10.0/24", "fc00::/7", "fd12:3456::/48", "8.8.8.8/32"),
    *("203.0.113.0/24", "2001:db8::/32", "0.0.0.0/1", "128.0.0.0/1", "::ffff:169.254.169.254/128"),
    *("10.0.0.1/8", "10.0.0.0", "not-a-cidr"),
)
EXCEPTS = (
    *("169.254.0.0/16", "fe80::/10", "10.96.0.1/32", "10.40.255.0/24", "169.254.169.254/32"),
    "10.0.0.0/8",
)
PEER_NAMESPACES = ("trading", "payments", "edge", "monitoring", "kube-system", "elsewhere")
NAMESPACES = ("payments", "trading", "reconciliation", "fwop-cards-ok", "default", "team")
MOUNT_PATHS = (
    *("/mnt/secrets", "/etc/app-secrets", "/mnt/secrets/", "/var/run/secrets", "/run/secrets"),
    *("//var/run/secrets/kubernetes.io/serviceaccount", "/var/run/secrets/eks.amazonaws.com"),
    *("/run/secrets/app", "/tmp/x", "/tmp", "/", "/var/run/../run/secrets", "/./tmp/cache"),
    *("/var/run/secretsx", "/var", "/var/run", "relative/secrets"),
)
QUANTITIES: tuple[str | int, ...] = (
    *("100m", "250m", "1", "2", "0.5", ".5", "64Mi", "512Mi", "1Gi", "2Gi", "1.5Gi", "1e3"),
    *("1e999", "1E+999", "999Ei", "0", "123456789012345678901234567890", "1e1000", "-1"),
    *("12345678901234567890123456789012345", 3),
)
IMAGES = (
    *ALLOWED_IMAGES,
    f"registry.bank.example/team/app@{DIGEST}",
    f"nginx@{DIGEST}",
    "registry.bank.example/payments/api:1.2.3",
    f"registry.bank.example.evil.com/payments/api@{DIGEST}",
    "registry.bank.example/payments/api@sha256:abc",
)
NAMES = ("payments-api", "svc-2", "a", "default", "Bad_Name", "x" * 64, "api-")
PORT_NAMES = ("http", "metrics", "grpc", "admin", "HTTP", "a-very-long-port-name")
PORT_NUMBERS = (8080, 9090, 8443, 80, 0, 70000)
PROBE_PATHS = ("/healthz", "/ready", "ready")


def weighted(*pairs: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked with the given integer weights (shrinks to the first)."""
    expanded = [strategy for weight, strategy in pairs for _ in range(weight)]
    return st.sampled_from(expanded).flatmap(lambda strategy: strategy)


def kind_of(draw: Draw, **weights: int) -> str:
    """Draw one of the keyword names, each as often as its weight (shrinks to the first)."""
    names = [name for name, weight in weights.items() for _ in range(weight)]
    kind: str = draw(st.sampled_from(names))
    return kind


def _text(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


# -- planted secrets --------------------------------------------------------------------------

password = st.builds(
    lambda body, tail: f"Hx{body}!{tail}",
    st.text(alphabet=ALNUM, min_size=6, max_size=14),
    st.text(alphabet=ALNUM, max_size=4),
)
"""A password: nothing a benign value could be (no path, number, host, boolean...)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(subject: str, signature: str) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": subject, "iat": 1767225600}).encode())
    return f"{header}.{payload}.{signature}"


def _pem(kind: str, body: str) -> str:
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----\n"


credential = st.one_of(
    _text(UPPER + DIGITS, 16).map(lambda tail: f"AKIA{tail}"),
    _text(ALNUM, 24).map(lambda tail: f"sk_live_{tail}"),
    _text(ALNUM, 36).map(lambda tail: f"ghp_{tail}"),
    st.builds(_jwt, st.text(alphabet=ALNUM, min_size=1, max_size=12), _text(B64URL, 43)),
    st.builds(
        _pem,
        st.sampled_from(("", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED ")),
        _text(ALNUM + "+/", 64),
    ),
    st.builds(
        lambda user, pw, host: f"postgres://{user}:{pw}@{host}/db",
        st.sampled_from(("u", "app", "ledger")),
        password,
        st.sampled_from(("h", "postgres.payments.svc", "10.40.0.5:5432")),
    ),
    password.map(lambda pw: f"jdbc:postgresql://db:5432/app?user=app&password={pw}"),
    password.map(lambda pw: f"jdbc:sqlserver://db:1433;databaseName=app;user=app;password={pw};"),
    password.map(lambda pw: f"Server=tcp:db,1433;Database=app;User ID=app;Password={pw};"),
)
"""A credential recognisable whatever it is called."""

# -- mutations ------------------------------------------------------------------------------
# Each takes the draw function and the case, changes case.doc in place, records a step, and
# appends to case.planted every secret it types in.

Mutation = Callable[[Draw, Case], None]


def _spec(case: Case) -> Doc:
    spec: Doc = case.doc["spec"]
    return spec


def _env_value(draw: Draw, case: Case, name: str) -> str:
    kind = kind_of(draw, ordinary=4, benign=2, credential=2, random=1)
    if kind == "ordinary":
        value: str = draw(st.sampled_from(ORDINARY_VALUES))
    elif kind == "benign":
        value = draw(st.sampled_from(BENIGN_SECRET_VALUES))
    elif kind == "credential":
        value = draw(credential)
        case.planted.append(value)
    else:
        value = draw(st.text(alphabet=PRINTABLE, max_size=30))
    return value


def _random_name(draw: Draw) -> str:
    first = draw(st.text(alphabet=UPPER + LOWER + "_", min_size=1, max_size=1))
    rest: str = draw(st.text(alphabet=ALNUM + "_", max_size=15))
    return first + rest


def _target(draw: Draw, case: Case) -> Doc:
    """The spec (its main container) or, now and then, an extra container it declares."""
    spec = _spec(case)
    extra = [c for key in CONTAINER_LISTS for c in spec.get(key) or () if isinstance(c, dict)]
    if extra and draw(st.integers(0, 2)) > 0:
        chosen: Doc = draw(st.sampled_from(extra))
        return chosen
    return spec


def set_env(draw: Draw, case: Case) -> None:
    """Add or replace an env var; some carry a planted credential or password."""
    spec = _target(draw, case)
    env = spec.setdefault("env", [])
    kind = kind_of(draw, ordinary=5, secret=3, random=1, password=2)
    if kind == "password":
        name: str = draw(st.sampled_from(SECRET_NAMES))
        value: str = draw(password)
        case.planted.append(value)
    else:
        pool = {"ordinary": ORDINARY_NAMES, "secret": SECRET_NAMES}.get(kind)
        name = draw(st.sampled_from(pool)) if pool else _random_name(draw)
        value = _env_value(draw, case, name)
    existing = [index for index, var in enumerate(env) if var.get("name") == name]
    if existing:
        env[existing[0]]["value"] = value
    else:
        env.append({"name": name, "value": value})
    case.steps.append(f"env {name}={value!r}")


def _planted_args(draw: Draw, case: Case) -> list[str]:
    if draw(st.booleans()):
        secret: str = draw(password)
        forms = [
            ["--db-password", secret],
            [f"--db-password={secret}"],
            ["sh", "-c", f"export PGPASSWORD={secret} && exec psql -h db"],
            ["mysql", "-h", "db", f"-p{secret}"],
        ]
    else:
        secret = draw(credential)
        forms = [
            [secret],
            [f"--api-key={secret}"],
            ["--header", f"Authorization: Bearer {secret}"],
            ["sh", "-c", f"curl -H 'X-Token: {secret}' https://api.bank.example"],
        ]
    case.planted.append(secret)
    args: list[str] = draw(st.sampled_from(forms))
    return args


def set_args(draw: Draw, case: Case) -> None:
    """Replace args (sometimes command too): ordinary, pointers to files, planted, random."""
    spec = _target(draw, case)
    kind = kind_of(draw, ordinary=4, planted=3, random=1)
    if kind == "ordinary":
        args = list(draw(st.sampled_from(ORDINARY_ARGS)))
    elif kind == "planted":
        args = _planted_args(draw, case)
    else:
        args = draw(st.lists(st.text(alphabet=PRINTABLE, min_size=1, max_size=20), max_size=3))
    if args[:2] == ["sh", "-c"] and draw(st.booleans()):
        spec["command"], args = args[:2], args[2:]
    spec["args"] = args
    case.steps.append(f"args {spec.get('command', [])} {args}")


def _grantable_rule(draw: Draw) -> Doc:
    rule: Doc = {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": draw(st.lists(st.sampled_from(READ_VERBS), min_size=1, max_size=3, unique=True)),
    }
    if draw(st.booleans()):
        rule["resourceNames"] = [draw(st.sampled_from(("app-config", "payments-api-config")))]
    return rule


def _floor_rule(draw: Draw) -> Doc:
    group, resource, verbs = draw(st.sampled_from(FLOOR_ITEMS))
    verb = draw(st.sampled_from(verbs or VERBS[:-1]))
    return {"apiGroups": [group], "resources": [resource], "verbs": [verb]}


def _vocabulary_rule(draw: Draw) -> Doc:
    def some(values: tuple[str, ...], most: int) -> list[str]:
        found: list[str] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=most))
        return found

    rule = {"apiGroups": some(GROUPS, 2), "resources": some(RESOURCES, 2), "verbs": some(VERBS, 3)}
    if draw(st.integers(0, 3)) == 0:
        rule["resourceNames"] = [draw(st.sampled_from(("app-config", "*")))]
    return rule


def set_permissions(draw: Draw, case: Case) -> None:
    """Replace permissions: grantable rules, hard floor items, or anything of the vocabulary."""
    rules = []
    for _ in range(draw(st.integers(1, 2))):
        kind = kind_of(draw, grantable=5, floor=2, vocabulary=3)
        make = {"grantable": _grantable_rule, "floor": _floor_rule}.get(kind, _vocabulary_rule)
        rules.append(make(draw))
    _spec(case)["permissions"] = rules
    case.steps.append(f"permissions {rules}")


def _ip_block(draw: Draw) -> Doc:
    block: Doc = {"cidr": draw(st.sampled_from(CIDRS))}
    if draw(st.booleans()):
        block["except"] = draw(st.lists(st.sampled_from(EXCEPTS), min_size=1, max_size=2))
    return {"ipBlock": block}


def _selector_peer(draw: Draw, case: Case) -> Doc:
    peer: Doc = {}
    choice = kind_of(draw, pods=3, own=1, named=2, all=1, labels=1)
    if choice in ("own", "named"):
        name = case.namespace if choice == "own" else draw(st.sampled_from(PEER_NAMESPACES))
        peer["namespaceSelector"] = {"matchLabels": {NAME_LABEL: name}}
    elif choice == "all":
        peer["namespaceSelector"] = {}
    elif choice == "labels":
        peer["namespaceSelector"] = {"matchLabels": {"team": "ledger"}}
    if choice == "pods" or draw(st.booleans()):
        app = draw(st.sampled_from(("gateway", "postgres", "ingress-gateway", "prometheus")))
        peer["podSelector"] = {"matchLabels": {"app.kubernetes.io/name": app}}
    return peer


def _declared_port(draw: Draw, case: Case) -> Doc:
    ports = _spec(case).get("ports") or []
    if ports and draw(st.integers(0, 3)) > 0:
        port = draw(st.sampled_from(ports))
        ref = port.get("name") if draw(st.booleans()) else port.get("containerPort")
        flow_port: Doc = {"port": ref}
        if port.get("protocol", "TCP") != "TCP" or draw(st.integers(0, 3)) == 0:
            flow_port["protocol"] = port.get("protocol", "TCP")
        return flow_port
    return {"port": draw(st.sampled_from((8080, "http", 9090, 0)))}


def add_flow(draw: Draw, case: Case) -> None:
    """Add an ingress or egress flow: ipBlocks, selectors by name or {}, ports."""
    network = _spec(case).setdefault("network", {})
    peers = []
    for _ in range(draw(st.integers(1, 2))):
        peers.append(_ip_block(draw) if draw(st.booleans()) else _selector_peer(draw, case))
    if draw(st.booleans()):
        flow = {"from": peers, "ports": [_declared_port(draw, case)]}
        network.setdefault("ingress", []).append(flow)
        case.steps.append(f"ingress {flow}")
    else:
        port = draw(st.sampled_from((443, 5432, 8080, 53, "https", "dns", 70000)))
        flow = {"to": peers, "ports": [{"port": port}]}
        if draw(st.integers(0, 3)) == 0:
            flow["ports"][0]["protocol"] = draw(st.sampled_from(("TCP", "UDP", "SCTP", "ICMP")))
        if draw(st.integers(0, 3)) == 0:  # a range: valid, backwards, or from a name
            flow["ports"][0]["endPort"] = draw(st.sampled_from((60, 8443, 1, 65536)))
        network.setdefault("egress", []).append(flow)
        case.steps.append(f"egress {flow}")
    if draw(st.integers(0, 3)) == 0:
        network["allowDNS"] = draw(st.booleans())


def set_secrets(draw: Draw, case: Case) -> None:
    """Set the secrets mount path (declaring Vault secrets when there are none)."""
    spec = _spec(case)
    if "secrets" not in spec:
        spec["secrets"] = {
            "provider": "vault",
            "vault": {"address": "https://vault.vault.svc:8200", "role": "app"},
            "objects": [{"name": "db-password", "path": "secret/data/app/db", "key": "password"}],
        }
    path = draw(st.sampled_from(MOUNT_PATHS))
    spec["secrets"]["mountPath"] = path
    case.steps.append(f"secrets.mountPath {path}")


def set_quantity(draw: Draw, case: Case) -> None:
    """Replace one of the four resource quantities (huge exponents and bad ones included)."""
    resources = _spec(case)["resources"]
    which = draw(st.sampled_from(("requests", "limits")))
    resource = draw(st.sampled_from(("cpu", "memory")))
    value = draw(st.sampled_from(QUANTITIES))
    resources[which][resource] = value
    if which == "requests" and draw(st.booleans()):
        resources["limits"][resource] = value  # a request equal to its limit is allowed
    case.steps.append(f"resources.{which}.{resource} {value!r}")


def set_profile(draw: Draw, case: Case) -> None:
    """Change profile, enforcement, replicas or externallyManaged."""
    spec = _spec(case)
    field = draw(st.sampled_from(("profile", "enforcement", "replicas", "externallyManaged")))
    choices: dict[str, tuple[Any, ...]] = {
        "profile": ("baseline", "pci", "gold"),
        "enforcement": ("enforce", "audit", "enforce", "report"),
        "replicas": (2, 3, 1, 0, 1000, 1001, -1, "2", True),
        "externallyManaged": ([], ["replicas"], ["replicas", "replicas"], ["image"]),
    }
    value = draw(st.sampled_from(choices[field]))
    spec[field] = value
    case.steps.append(f"{field} {value!r}")


PROBE_HEADERS = (
    {"name": "Accept", "value": "application/json"},
    {"name": "Authorization", "value": "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
    {"name": "bad header", "value": "x"},
)
PROBE_COMMANDS = (["/bin/check"], ["/bin/check", "--password=Hunter2-Prod-9"], [])


def _probe(draw: Draw, container: Doc) -> Doc:
    ports = container.get("ports") or []
    refs: list[Any] = [p.get("name") for p in ports] + [p.get("containerPort") for p in ports]
    port = draw(st.sampled_from([*refs, *refs, "http", 8080, 0]))
    handler = kind_of(draw, httpGet=3, tcpSocket=1, grpc=1, exec=1, both=1, none=1)
    probe: Doc = {}
    if handler in ("httpGet", "both"):
        probe["httpGet"] = {"path": draw(st.sampled_from(PROBE_PATHS)), "port": port}
        if draw(st.booleans()):
            probe["httpGet"]["scheme"] = draw(st.sampled_from(("HTTPS", "HTTP", "FTP")))
        if draw(st.integers(0, 3)) == 0:
            probe["httpGet"]["httpHeaders"] = [draw(st.sampled_from(PROBE_HEADERS))]
    if handler in ("tcpSocket", "both"):
        probe["tcpSocket"] = {"port": port}
    if handler == "grpc":
        probe["grpc"] = {"port": draw(st.sampled_from((9090, 0, "grpc")))}
    if handler == "exec":
        probe["exec"] = {"command": list(draw(st.sampled_from(PROBE_COMMANDS)))}
    if draw(st.booleans()):
        probe["periodSeconds"] = draw(st.sampled_from((5, 10, 0, 3601)))
    if draw(st.integers(0, 3)) == 0:
        probe["successThreshold"] = draw(st.sampled_from((1, 2, 0)))
    return probe


def set_probes(draw: Draw, case: Case) -> None:
    """Set a probe: every handler, on declared ports or not, with headers and thresholds."""
    probes = _spec(case).setdefault("probes", {})
    kind = draw(st.sampled_from(("liveness", "readiness", "startup")))
    probes[kind] = _probe(draw, _spec(case))
    case.steps.append(f"probes.{kind} {probes[kind]}")


def add_port(draw: Draw, case: Case) -> None:
    """Declare a container port (names and numbers valid or not, duplicates possible)."""
    name = draw(st.sampled_from(PORT_NAMES))
    port: Doc = {"name": name, "containerPort": draw(st.sampled_from(PORT_NUMBERS))}
    if draw(st.integers(0, 3)) == 0:
        port["protocol"] = draw(st.sampled_from(("TCP", "UDP", "SCTP")))
    _spec(case).setdefault("ports", []).append(port)
    case.steps.append(f"port {port}")


CONTAINER_NAMES = ("shipper", "proxy", "migrate")
BROKEN_CONTAINERS: tuple[Doc, ...] = (
    {"name": "app"},
    {"name": "Bad_Name"},
    {"image": "registry.bank.example/payments/api:1.2.3"},
    {"image": f"nginx@{DIGEST}"},
    {"resources": None},
    {"restartPolicy": "OnFailure"},
    {"ports": [{"name": "HTTP", "containerPort": 70000}]},
    {"mountSecrets": True},
)


def add_container(draw: Draw, case: Case) -> None:
    """Declare an app container, an init container or a native sidecar, valid or not.

    Most are what a team writes: a log shipper, a migration run before the app, a TLS
    proxy sidecar with a port and a readiness probe; one in five breaks one rule.
    """
    spec = _spec(case)
    key = draw(st.sampled_from(("containers", "initContainers", "initContainers")))
    container: Doc = {
        "name": draw(st.sampled_from(CONTAINER_NAMES)),
        "image": draw(st.sampled_from(ALLOWED_IMAGES)),
        "resources": copy.deepcopy(spec.get("resources")),
    }
    sidecar = key == "initContainers" and draw(st.booleans())
    if sidecar:
        container["restartPolicy"] = "Always"
    if key == "containers" or sidecar:
        port = draw(st.sampled_from((9443, 9901, 8080)))
        container["ports"] = [{"name": f"side-{port}", "containerPort": port}]
        container["probes"] = {"readiness": {"tcpSocket": {"port": f"side-{port}"}}}
    if kind_of(draw, valid=4, broken=1) == "broken":
        container.update(draw(st.sampled_from(BROKEN_CONTAINERS)))
        container = {k: v for k, v in container.items() if v is not None}
    spec.setdefault(key, []).append(container)
    case.steps.append(f"{key} {container}")


VOLUMES: tuple[tuple[Doc, str, bool], ...] = (
    ({"configMap": {"name": "app-config"}}, "/etc/app", False),
    ({"configMap": {"name": "app-config", "items": [{"key": "a", "path": "../a"}]}}, "/etc/a",
     False),
    ({"emptyDir": {"sizeLimit": "1Gi"}}, "/var/cache/app", True),
    ({"emptyDir": {"sizeLimit": "64Mi", "medium": "Memory"}}, "/tmp/cache", True),
    ({"emptyDir": {}}, "/scratch", True),
    ({"persistentVolumeClaim": {"claimName": "ledger-journal"}}, "/var/lib/ledger", True),
    ({"ephemeral": {"storageClassName": "standard", "size": "10Gi"}}, "/scratch", True),
    ({"projected": {"sources": [{"serviceAccountToken": {"audience": "vault",
                                                         "path": "token"}}]}},
     "/var/run/vault", False),
    ({"projected": {"sources": [{"downwardAPI": [{"path": "labels",
                                                  "fieldPath": "metadata.labels"}]}]}},
     "/etc/podinfo", False),
    ({"hostPath": {"path": "/"}}, "/host", False),
    ({"secret": {"secretName": "db"}}, "/etc/db", False),
    ({"configMap": {"name": "app-config"}}, "/var/run/secrets/kubernetes.io/serviceaccount",
     False),
)  # fmt: skip
"""(volume source, mount path, writable): what teams write, and a few that must be refused."""


def add_volume(draw: Draw, case: Case) -> None:
    """Declare a volume and mount it in the main or an extra container (rarely nowhere)."""
    spec = _spec(case)
    source, path, writable = draw(st.sampled_from(VOLUMES))
    name = draw(st.sampled_from(("data", "config", "cache", "tmp")))
    spec.setdefault("volumes", []).append({"name": name, **copy.deepcopy(source)})
    if kind_of(draw, mounted=6, unmounted=1) == "mounted":
        mount: Doc = {"name": name, "mountPath": path}
        if writable or kind_of(draw, honest=5, forced=1) == "forced":
            mount["writable"] = True
        _target(draw, case).setdefault("volumeMounts", []).append(mount)
    case.steps.append(f"volume {name} {source} at {path}")


JOBS: tuple[Doc, ...] = (
    {"schedule": "0 2 * * *", "timeZone": "Europe/London"},
    {"schedule": "@hourly", "concurrencyPolicy": "Replace", "backoffLimit": 0},
    {"schedule": "*/15 * * * *", "activeDeadlineSeconds": 600, "parallelism": 2,
     "completions": 4},
    {"schedule": "CRON_TZ=UTC 0 2 * * *"},
    {"schedule": "0 2 * * *", "timeZone": "Mars/Olympus_Mons"},
    {"schedule": "0 2 * *"},
)  # fmt: skip


def set_job(draw: Draw, case: Case) -> None:
    """Make the workload a scheduled job (sometimes keeping what only a service may have)."""
    spec = _spec(case)
    spec["job"] = copy.deepcopy(draw(st.sampled_from(JOBS)))
    if kind_of(draw, batch=3, service=1) == "batch":
        for field in ("ports", "autoscaling", "rollout", "externallyManaged"):
            spec.pop(field, None)
    case.steps.append(f"job {spec['job']}")


def set_image(draw: Draw, case: Case) -> None:
    """Replace the image: trusted registries, others, tags, short digests."""
    image = draw(st.sampled_from(IMAGES))
    _spec(case)["image"] = image
    case.steps.append(f"image {image}")


def set_namespace(draw: Draw, case: Case) -> None:
    """Move the workload to another namespace (some require profile pci)."""
    namespace = draw(st.sampled_from(NAMESPACES))
    case.doc["metadata"]["namespace"] = namespace
    case.steps.append(f"namespace {namespace}")


def set_name(draw: Draw, case: Case) -> None:
    """Rename the workload (valid DNS-1035 labels, default, and invalid names)."""
    name = draw(st.sampled_from(NAMES))
    case.doc["metadata"]["name"] = name
    case.steps.append(f"name {name}")


def set_scaling(draw: Draw, case: Case) -> None:
    """Declare an autoscaler or a rollout: bounds inverted, pci below 2, no target, both 0."""
    spec = _spec(case)
    if draw(st.booleans()):
        scaled: Doc = {"minReplicas": draw(st.sampled_from((1, 2, 3, 0, 9))),
                       "maxReplicas": draw(st.sampled_from((2, 5, 1001)))}  # fmt: skip
        for key in ("targetCPUUtilization", "targetMemoryUtilization"):
            if draw(st.booleans()):
                scaled[key] = draw(st.sampled_from((70, 0, 1001)))
        spec["autoscaling"] = scaled
        case.steps.append(f"autoscaling {scaled}")
    else:
        values = (0, 1, "0%", "25%", "100%", "101%", -1, 1001, "1")
        rollout = {key: draw(st.sampled_from(values))
                   for key in ("maxSurge", "maxUnavailable") if draw(st.booleans())}  # fmt: skip
        spec["rollout"] = rollout
        case.steps.append(f"rollout {rollout}")


POD_LABELS = ({"team": "payments"}, {"app.kubernetes.io/name": "gw"}, {"bad key!": "x"})
TOLERATIONS = (
    {"key": "dedicated", "operator": "Exists"},
    {"operator": "Exists"},
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
)


def set_placement(draw: Draw, case: Case) -> None:
    """Pod labels (reserved or not), tolerations (of everything or not), priority classes."""
    spec = _spec(case)
    spec["podMetadata"] = {"labels": dict(draw(st.sampled_from(POD_LABELS)))}
    spec["placement"] = {
        "tolerations": [dict(draw(st.sampled_from(TOLERATIONS)))],
        "priorityClassName": draw(st.sampled_from(("payments-high", "system-node-critical"))),
    }
    case.steps.append(f"podMetadata {spec['podMetadata']} placement {spec['placement']}")


IDENTITIES = (
    {"imagePullSecrets": ["registry-bank-example"]},
    {"imagePullSecrets": ["Not_A_Name"]},
    {"cloud": {"aws": {"roleArn": "arn:aws:iam::123456789012:role/payments-api"}}},
    {"cloud": {"azure": {"clientId": "0b6f1c52-8d3e-4a55-9f0e-2c7d1a9e6b11"}}},
    {"cloud": {"gcp": {"serviceAccount": "payments@gmail.com"}}},
    {"cloud": {}},
)


def set_identity(draw: Draw, case: Case) -> None:
    """Pull secrets and cloud identities: well-formed or not, allowed by the policy or not."""
    _spec(case)["identity"] = dict(draw(st.sampled_from(IDENTITIES)))
    case.steps.append(f"identity {_spec(case)['identity']}")


MUTATIONS: tuple[Mutation, ...] = (
    *(set_env, set_env, set_env, set_args, set_args, set_permissions, set_permissions),
    *(add_flow, add_flow),
    *(set_secrets, set_quantity, set_profile, set_probes, add_port, set_image, set_namespace),
    set_name,
    set_scaling,
    set_placement,
    set_identity,
    add_container,
    add_container,
    add_volume,
    add_volume,
    set_job,
)
"""Every mutation; env and args (where secrets hide), permissions and flows come up more."""


url_token = st.one_of(
    _text(UPPER + DIGITS, 16).map(lambda tail: f"AKIA{tail}"),
    _text(ALNUM, 24).map(lambda tail: f"sk_live_{tail}"),
    _text(ALNUM, 36).map(lambda tail: f"ghp_{tail}"),
    st.builds(_jwt, st.text(alphabet=ALNUM, min_size=1, max_size=12), _text(B64URL, 43)),
)
"""A credential that fits in a URL as it is."""


ELSEWHERE = ("probe path", "vault address")
"""Rendered free-text fields outside env, command and args where ``plant_elsewhere`` types."""


def plant_elsewhere(draw: Draw, case: Case, where: str) -> None:
    """Type a secret into a rendered free-text field outside env, command and args.

    ``probe path``: a probe's httpGet path (``/healthz?token=...``), which lands in the pod
    template; ``vault address``: ``https://user:password@vault...``, which lands in the
    SecretProviderClass. Declares a probe or Vault secrets when there are none.
    """
    spec = _spec(case)
    if where == "probe path":
        secret = draw(url_token)
        kind = draw(st.sampled_from(("liveness", "readiness")))
        path = draw(st.sampled_from(("/healthz?token=", "/ready?access_token=", "/live/")))
        probes = spec.setdefault("probes", {})
        port = (spec.get("ports") or [{"containerPort": 8080}])[0]["containerPort"]
        probes[kind] = {"httpGet": {"path": path + secret, "port": port}}
        case.steps.append(f"probes.{kind}.httpGet.path {path + secret}")
    else:
        secret = draw(password)
        address = f"https://admin:{secret}@vault.vault.svc:8200"
        secrets = spec.get("secrets") or {"objects": [{"name": "db", "path": "secret/data/db"}]}
        spec["secrets"] = {
            "provider": "vault",
            "mountPath": secrets.get("mountPath", "/mnt/secrets"),
            "vault": {"address": address, "role": "app"},
            "objects": secrets["objects"],
        }
        case.steps.append(f"secrets.vault.address {address}")
    case.planted.append(secret)


@st.composite
def cases_with_secret_elsewhere(draw: Draw, where: str) -> Case:
    """A case from ``cases``, then a secret typed in ``where`` (one of ``ELSEWHERE``)."""
    case = draw(cases())
    plant_elsewhere(draw, case, where)
    case.planted = [secret for secret in case.planted if _still_there(case.doc, secret)]
    return case


def _still_there(doc: Doc, secret: str) -> bool:
    """Whether a planted secret is still in the document (a later step may overwrite it)."""
    return json.dumps(secret)[1:-1] in json.dumps(doc)


@st.composite
def cases(draw: Draw) -> Case:
    """A valid document, then zero to four mutations."""
    seed = draw(st.sampled_from(SEEDS))
    case = Case(copy.deepcopy(seed), seed)
    case.steps.append(f"seed {case.doc['metadata']['name']}")
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=4)):
        mutation(draw, case)
    case.planted = [secret for secret in case.planted if _still_there(case.doc, secret)]
    return case


def accepted_sample(count: int, seed: int = SEED, budget: int = 1000) -> list[Case]:
    """``count`` admitted cases, evenly spread over the first ``budget`` drawn from ``seed``.

    Hypothesis starts with the simplest documents and grows them, so taking the first
    admitted ones would sample little more than the seeds. Fewer when too few are admitted.
    """
    found: list[Case] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=budget,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(cases())
    def collect(case: Case) -> None:
        if not case.judge():
            found.append(case)

    collect()
    step = max(1, len(found) // count)
    return found[::step][:count]
