"""Building blocks shared by the API models: the base model, strict scalars, bounded strings.

Every string and list gets a size bound here or at its field, so the CEL rules of the CRD
stay within the API server's cost budget. Must not: import other fwop modules or do I/O.
"""

from __future__ import annotations

import enum
import re
import typing
from collections.abc import Iterable
from typing import Annotated, Any

import pydantic
from pydantic.alias_generators import to_camel

# The Kubernetes quantity grammar, restricted to non-negative values ("100m", "1", "512Mi").
# The exponent is bounded (at most 3 digits) and so is the length: 1e1000000000 is a valid
# quantity to Kubernetes' grammar but would cost seconds of exact arithmetic to compare.
QUANTITY_PATTERN = (
    r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+]?[0-9]{1,3}))?$"
)
QUANTITY_MAX_LENGTH = 32
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# Service-style (IANA) names, as used for port names: at most 15 characters.
PORT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
FILE_NAME_PATTERN = r"^[A-Za-z0-9._-]+$"
# Workload names end up in label values and Service names: a DNS-1035 label.
WORKLOAD_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
WORKLOAD_NAME_MAX_LENGTH = 63
MAX_PORT = 65535
MAX_PORT_NAME = 15


class Model(pydantic.BaseModel):
    """Base of every API model: frozen, closed to unknown fields, camelCase on the wire."""

    model_config = pydantic.ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )


class Protocol(enum.StrEnum):
    """Transport protocol of a port."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


def _int_to_str(value: Any) -> Any:
    """Accept YAML integers where Kubernetes accepts int-or-string quantities."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_quantity(value: str) -> str:
    if len(value) > QUANTITY_MAX_LENGTH or not re.fullmatch(QUANTITY_PATTERN, value):
        msg = f"{value!r} is not a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi"
        raise ValueError(msg)
    return value


def _check_port_ref(value: object) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        msg = "a port is a number (1-65535) or a port name"
        raise ValueError(msg)
    if isinstance(value, int):
        if not 1 <= value <= MAX_PORT:
            msg = f"port numbers must be between 1 and {MAX_PORT}"
            raise ValueError(msg)
    elif len(value) > MAX_PORT_NAME or not re.fullmatch(PORT_NAME_PATTERN, value):
        msg = f"{value!r} is not a port name (lower-case alphanumerics and '-', at most 15)"
        raise ValueError(msg)
    return value


PERCENT_PATTERN = r"^(100|[1-9]?[0-9])%$"
MAX_SURGE_COUNT = 1000


def _check_count_or_percent(value: object) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        msg = "a count (0-1000) or a percentage such as 25%"
        raise ValueError(msg)
    if isinstance(value, int):
        if not 0 <= value <= MAX_SURGE_COUNT:
            msg = f"counts must be between 0 and {MAX_SURGE_COUNT}"
            raise ValueError(msg)
    elif not re.fullmatch(PERCENT_PATTERN, value):
        msg = f"{value!r} is not a percentage between 0% and 100%"
        raise ValueError(msg)
    return value


CountOrPercent = Annotated[
    int | str,
    pydantic.PlainValidator(_check_count_or_percent),
    pydantic.WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "maxLength": 4,
        }
    ),
]
"""A pod count or a percentage of the replicas (a rollout's maxSurge, maxUnavailable)."""


Int = Annotated[int, pydantic.Strict()]
Bool = Annotated[bool, pydantic.Strict()]

Quantity = Annotated[
    str,
    pydantic.BeforeValidator(_int_to_str),
    pydantic.AfterValidator(_check_quantity),
    pydantic.WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "pattern": QUANTITY_PATTERN,
            "maxLength": QUANTITY_MAX_LENGTH,
        }
    ),
]
"""A Kubernetes resource quantity; integers are accepted and kept as strings."""

PortNumber = Annotated[int, pydantic.Strict(), pydantic.Field(ge=1, le=MAX_PORT)]

PortName = Annotated[
    str, pydantic.Field(min_length=1, max_length=MAX_PORT_NAME, pattern=PORT_NAME_PATTERN)
]

PortRef = Annotated[
    int | str,
    pydantic.PlainValidator(_check_port_ref),
    pydantic.WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_PORT_NAME,
        }
    ),
]
"""A port given by number (1-65535) or by the name of a declared container port."""

DnsLabel = Annotated[str, pydantic.Field(min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN)]

LabelMap = Annotated[
    dict[str, Annotated[str, pydantic.Field(max_length=63)]], pydantic.Field(max_length=16)
]
"""Label key/value pairs, matched exactly."""


Str63 = Annotated[str, pydantic.Field(min_length=1, max_length=63)]
Str253 = Annotated[str, pydantic.Field(min_length=1, max_length=253)]
Str1024 = Annotated[str, pydantic.Field(min_length=1, max_length=1024)]
Str2048 = Annotated[str, pydantic.Field(min_length=1, max_length=2048)]

LIST_MAP_BY_NAME: dict[str, Any] = {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
}
"""Schema extension for lists of named items: the API server merges them by name."""


class _Named(typing.Protocol):
    @property
    def name(self) -> str: ...


def check_unique_names(items: Iterable[_Named], field: str) -> None:
    """Raise ValueError when two items share a name (the CRD declares a list map by name)."""
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            msg = f"{field} has two entries named {item.name!r}; names must be unique"
            raise ValueError(msg)
        seen.add(item.name)
