"""Models of what runs in the pod: environment, ports, resources and probes.

Must not: accept anything that could carry a secret (no valueFrom, no envFrom: SEC-1), or
import above the api layer.
"""

from __future__ import annotations

import enum
from typing import Annotated

import pydantic

from fwop.api import rules, schema, types

HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
"""An HTTP header name: a token of RFC 9110."""


class EnvVar(types.Model):
    """A plain environment variable; secrets never go here, they come from spec.secrets."""

    name: Annotated[str, pydantic.Field(max_length=253, pattern=types.ENV_NAME_PATTERN)]
    """Variable name."""
    value: Annotated[str, pydantic.Field(max_length=4096)] = ""
    """Literal value. There is no valueFrom: secrets are mounted through spec.secrets (SEC-1)."""


class ContainerPort(types.Model):
    """A port the container listens on; also exposed by the workload's Service."""

    name: types.PortName
    """Port name (at most 15 lower-case alphanumerics or '-'); probes and flows may use it."""
    container_port: types.PortNumber
    """Port number the container listens on."""
    protocol: types.Protocol = types.Protocol.TCP
    """Transport protocol."""


Argv = Annotated[tuple[types.Str1024, ...], pydantic.Field(max_length=64)]
"""A command or its arguments: at most 64 words of at most 1,024 characters."""
EnvVars = Annotated[
    tuple[EnvVar, ...], pydantic.Field(max_length=64, json_schema_extra=types.LIST_MAP_BY_NAME)
]
"""A container's plain environment, merged by name."""
Ports = Annotated[
    tuple[ContainerPort, ...],
    pydantic.Field(max_length=16, json_schema_extra=types.LIST_MAP_BY_NAME),
]
"""A container's ports, merged by name."""


class ResourceList(types.Model):
    """CPU and memory amounts; both are required (POD-6)."""

    model_config = pydantic.ConfigDict(json_schema_extra={schema.REQUIRED_BY_CEL: True})

    cpu: types.Quantity
    """CPU, as a Kubernetes quantity (250m, 1, 2)."""
    memory: types.Quantity
    """Memory, as a Kubernetes quantity (128Mi, 1Gi)."""


class Resources(types.Model):
    """Compute requests and limits of the container; all four values are required (POD-6)."""

    model_config = pydantic.ConfigDict(json_schema_extra={schema.REQUIRED_BY_CEL: True})

    requests: ResourceList
    """What the scheduler reserves for each pod."""
    limits: ResourceList
    """The most each pod may use."""


class Scheme(enum.StrEnum):
    """How an HTTP probe connects: HTTPS skips certificate checks, as the kubelet does."""

    HTTP = "HTTP"
    HTTPS = "HTTPS"


class HttpHeader(types.Model):
    """A header sent with an HTTP probe; never a credential (SEC-1)."""

    name: Annotated[str, pydantic.Field(min_length=1, max_length=128, pattern=HEADER_NAME)]
    """Header name (an HTTP token: letters, digits and !#$%&'*+-.^_`|~)."""
    value: Annotated[str, pydantic.Field(max_length=1024)] = ""
    """Literal value. Authorization, cookies and API keys are refused: a probe endpoint
    that needs a secret is not a health endpoint (SEC-1)."""


class HttpGet(types.Model):
    """An HTTP GET probe."""

    path: Annotated[str, pydantic.Field(max_length=1024, pattern=r"^/")]
    """Absolute URL path to request."""
    port: types.PortRef
    """Port number or container port name."""
    scheme: Scheme = Scheme.HTTP
    """HTTP or HTTPS."""
    http_headers: Annotated[tuple[HttpHeader, ...], pydantic.Field(max_length=8)] = ()
    """Extra request headers (Host, Accept...)."""


class TcpSocket(types.Model):
    """A TCP connect probe."""

    port: types.PortRef
    """Port number or container port name."""


class Grpc(types.Model):
    """A gRPC health-checking probe (grpc.health.v1.Health/Check)."""

    port: types.PortNumber
    """Port number (Kubernetes takes no port name for gRPC probes)."""
    service: Annotated[str, pydantic.Field(max_length=253)] = ""
    """Service name sent in the request; empty asks about the server as a whole."""


class ExecAction(types.Model):
    """A command run in the container: healthy when it exits 0."""

    command: Annotated[tuple[types.Str1024, ...], pydantic.Field(min_length=1, max_length=16)]
    """The command and its arguments, run without a shell unless it names one (SEC-1 reads
    it as it reads spec.command)."""


class Probe(types.Model):
    """A health probe: exactly one of httpGet, tcpSocket, grpc or exec, with its timing."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.PROBE_HANDLER))

    http_get: HttpGet | None = None
    """Probe with an HTTP GET; a 2xx or 3xx answer is success."""
    tcp_socket: TcpSocket | None = None
    """Probe by opening a TCP connection."""
    grpc: Grpc | None = None
    """Probe with the gRPC health-checking protocol."""
    exec_: ExecAction | None = pydantic.Field(default=None, alias="exec")
    """Probe by running a command in the container."""
    initial_delay_seconds: Annotated[types.Int, pydantic.Field(ge=0, le=3600)] = 0
    """Seconds to wait after the container starts before the first probe."""
    period_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=3600)] = 10
    """Seconds between probes."""
    timeout_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=3600)] = 1
    """Seconds after which a probe counts as failed."""
    failure_threshold: Annotated[types.Int, pydantic.Field(ge=1, le=100)] = 3
    """Consecutive failures before the probe reports failure."""
    success_threshold: Annotated[types.Int, pydantic.Field(ge=1, le=100)] = 1
    """Consecutive successes after a failure before it reports success; only readiness may
    set more than 1."""

    @pydantic.model_validator(mode="after")
    def _one_handler(self) -> Probe:
        if len(self.handlers()) != 1:
            raise rules.PROBE_HANDLER.error()
        return self

    def handlers(self) -> list[tuple[str, HttpGet | TcpSocket | Grpc | ExecAction]]:
        """(wire name, value) of each handler set."""
        found = (("httpGet", self.http_get), ("tcpSocket", self.tcp_socket),
                 ("grpc", self.grpc), ("exec", self.exec_))  # fmt: skip
        return [(name, value) for name, value in found if value is not None]

    @property
    def handler(self) -> tuple[str, HttpGet | TcpSocket | Grpc | ExecAction]:
        """(wire name, value) of the one handler."""
        return self.handlers()[0]


class Probes(types.Model):
    """Health probes of the container."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.PROBE_SUCCESS_THRESHOLD)
    )

    liveness: Probe | None = None
    """Restart the container when this probe fails."""
    readiness: Probe | None = None
    """Take the pod out of Service endpoints while this probe fails."""
    startup: Probe | None = None
    """Hold liveness and readiness back until this probe succeeds once (slow starters)."""

    @pydantic.model_validator(mode="after")
    def _success_threshold(self) -> Probes:
        for probe in (self.liveness, self.startup):
            if probe is not None and probe.success_threshold != 1:
                raise rules.PROBE_SUCCESS_THRESHOLD.error()
        return self

    def declared(self) -> list[tuple[str, Probe]]:
        """(kind, probe) of each probe set, in the order liveness, readiness, startup."""
        found = (("liveness", self.liveness), ("readiness", self.readiness),
                 ("startup", self.startup))  # fmt: skip
        return [(kind, probe) for kind, probe in found if probe is not None]
