"""The exceptions fwop raises, all under one root.

Must not: import anything from fwop (every layer may import this module), or carry
kopf/kubernetes types. The handler edge maps these to kopf errors.

    FwopError                     root: catch this to catch everything fwop raises
    ├── InvalidSpecError          a FinancialWorkload breaks the API or a control;
    │                             carries one Problem (field, control, message) per fault
    └── ApiError                  the API server refused or failed a request
        ├── TransientApiError     worth retrying: 429, 5xx, conflicts, the network
        ├── KindMissingError      the cluster does not serve a kind (its CRD is absent)
        ├── NotFoundError         the object (or its namespace) does not exist
        └── RejectedError         the server refused the object (400, 403, 422): retrying
                                  the same request will not help
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Problem:
    """One fault in a FinancialWorkload: where it is, which control it breaks, what to do."""

    field: str
    """Dotted path of the offending field, e.g. ``spec.permissions[0].verbs``."""
    message: str
    """Human-readable message; names the field and, when a control applies, its ID."""
    control: str | None = None
    """Control ID from the catalog (``fwop.controls``), or None for plain schema errors."""

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FwopError(Exception):
    """Root of every exception fwop raises on purpose."""


class InvalidSpecError(FwopError):
    """A FinancialWorkload that cannot be accepted as written; retrying will not help."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class ApiError(FwopError):
    """The API server refused or failed a request about one object."""

    def __init__(self, what: str, status: int, message: str) -> None:
        self.what = what
        self.status = status
        self.message = message
        super().__init__(f"{what}: HTTP {status}: {message}")


class TransientApiError(ApiError):
    """A failure that may pass: throttling, a server error, a conflict, the network."""

    retry_after: float | None = None
    """Seconds the API server asked to wait before trying again (429 Retry-After)."""


class KindMissingError(ApiError):
    """The cluster does not serve this kind; usually its CRD is not installed."""


class NotFoundError(ApiError):
    """The object, or the namespace it should live in, does not exist."""


class RejectedError(ApiError):
    """The server refused the object itself (invalid, forbidden); a retry will not help."""
