"""Models of what runs in the pod: environment, ports, resources and probes.

Must not: accept anything that could carry a secret (no valueFrom, no envFrom: SEC-1), or
import above the api layer.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from fwop.api import rules, schema, types


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


class HttpGet(types.Model):
    """An HTTP GET probe."""

    path: Annotated[str, pydantic.Field(max_length=1024, pattern=r"^/")]
    """Absolute URL path to request."""
    port: types.PortRef
    """Port number or container port name."""


class TcpSocket(types.Model):
    """A TCP connect probe."""

    port: types.PortRef
    """Port number or container port name."""


class Probe(types.Model):
    """A health probe: exactly one of httpGet or tcpSocket, with its timing."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.PROBE_HANDLER))

    http_get: HttpGet | None = None
    """Probe with an HTTP GET; a 2xx or 3xx answer is success."""
    tcp_socket: TcpSocket | None = None
    """Probe by opening a TCP connection."""
    initial_delay_seconds: Annotated[types.Int, pydantic.Field(ge=0, le=3600)] = 0
    """Seconds to wait after the container starts before the first probe."""
    period_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=3600)] = 10
    """Seconds between probes."""
    timeout_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=3600)] = 1
    """Seconds after which a probe counts as failed."""
    failure_threshold: Annotated[types.Int, pydantic.Field(ge=1, le=100)] = 3
    """Consecutive failures before the probe reports failure."""

    @pydantic.model_validator(mode="after")
    def _one_handler(self) -> Probe:
        if (self.http_get is None) == (self.tcp_socket is None):
            raise rules.PROBE_HANDLER.error()
        return self


class Probes(types.Model):
    """Health probes of the container."""

    liveness: Probe | None = None
    """Restart the container when this probe fails."""
    readiness: Probe | None = None
    """Take the pod out of Service endpoints while this probe fails."""
