"""Where an image comes from, and whether a registry prefix of the policy covers it (IMG-2).

An image's location is its registry host (with the port, if any) and its repository path
components. The first component of a reference is a host only when it holds a '.' or a
':' or is localhost, as container runtimes read it; otherwise the image is Docker Hub's
(docker.io, and docker.io/library/ for single-component names). A prefix covers an image
when the hosts are equal and the prefix's path components are the first components of the
image's path: whole components, so registry.bank.example/pay does not cover
registry.bank.example/payments/api, and registry.bank.example does not cover
registry.bank.example.evil.com/x. Must not: do I/O (no registry lookups).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

DOCKER_HUB = "docker.io"
_HOST_ALIASES = {"index.docker.io": DOCKER_HUB, "registry-1.docker.io": DOCKER_HUB}


@dataclasses.dataclass(frozen=True)
class Location:
    """A registry host and repository path components."""

    host: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join((self.host, *self.path))

    def covers(self, other: Location) -> bool:
        """Tell whether this location, as a prefix, covers ``other``."""
        return self.host == other.host and other.path[: len(self.path)] == self.path


def _host(name: str) -> str:
    name = name.lower()
    return _HOST_ALIASES.get(name, name)


def of_image(image: str) -> Location:
    """Return where an image reference points, without its digest or tag."""
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return Location(_host(first), tuple(rest.split("/")))
    path = tuple(name.split("/"))
    return Location(DOCKER_HUB, ("library", *path) if len(path) == 1 else path)


def of_prefix(prefix: str) -> Location:
    """Return the location a policy prefix names; a trailing '/' changes nothing."""
    host, _, rest = prefix.rstrip("/").partition("/")
    return Location(_host(host), tuple(rest.split("/")) if rest else ())


def allowed(image: str, prefixes: Iterable[str]) -> bool:
    """Tell whether any prefix covers the image."""
    location = of_image(image)
    return any(of_prefix(prefix).covers(location) for prefix in prefixes)
