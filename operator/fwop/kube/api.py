"""Async access to the API server: server-side apply, get, list, status apply.

Built on the `kubernetes` client (it loads kubeconfig or in-cluster credentials and
refreshes tokens); every call runs in a worker thread so the event loop never blocks.
Requests go through the generic REST path of a `kinds.Kind`, so the same code serves
every child kind, and API errors become the `errors.ApiError` family. Must not: decide
anything (what to apply comes from the caller), or read Secrets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import urllib3
import yaml
from kubernetes import client, config

import fwop
from fwop import errors
from fwop.kube import kinds

FIELD_MANAGER = "fwop"
_APPLY = "application/apply-patch+yaml"
_TRANSIENT = frozenset({409, 429, 500, 502, 503, 504})


USER_AGENT = f"fwop/{fwop.__version__}"


CONNECTIONS = 16
"""Concurrent requests (threads and pooled connections): see docs/scale.md for the sizing."""
WATCH_CONNECTIONS = 16
"""Connections of the watch streams' own pool (one per watched kind, and spares)."""


KUBECONFIG_ERRORS = (
    config.ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError,
    yaml.YAMLError,
)  # fmt: skip
"""What the kubernetes client raises on a kubeconfig that is missing, not YAML, or not
shaped as one (a list where a map belongs): each becomes one line, never a traceback."""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def connect(
    identity: str = "", connections: int = CONNECTIONS, context: str | None = None
) -> client.ApiClient:
    """An API client from KUBECONFIG / ~/.kube/config, or the in-cluster service account.

    With ``context``, that context of the kubeconfig (fwctl's --context), never in-cluster.
    The user agent names the replica (``fwop/0.1.0 <identity>``): audit logs tell the
    operator's requests apart, and one replica's from another's. The connection pool holds
    ``connections`` keep-alive connections, as many as requests may run at once.
    """
    configuration = client.Configuration()
    try:
        if context is not None:
            raise config.ConfigException("a kubeconfig context was named")
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        try:
            config.load_kube_config(client_configuration=configuration, context=context)
        except KUBECONFIG_ERRORS as exc:
            raise errors.FwopError(f"cannot load the kubeconfig: {_one_line(exc)}") from None
    configuration.connection_pool_maxsize = connections
    api_client = client.ApiClient(configuration)
    api_client.user_agent = f"{USER_AGENT} {identity}".strip()
    return api_client


def contexts() -> tuple[list[str], str]:
    """The kubeconfig's context names and its current context; raises errors.FwopError."""
    try:
        every, current = config.list_kube_config_contexts()
    except KUBECONFIG_ERRORS as exc:
        raise errors.FwopError(f"cannot read the kubeconfig: {_one_line(exc)}") from None
    return [str(c.get("name")) for c in every or ()], str((current or {}).get("name", ""))


class Api:
    """The operator's only door to the API server."""

    def __init__(self, api_client: client.ApiClient, connections: int = CONNECTIONS) -> None:
        self._client = api_client
        self._streams: client.ApiClient | None = None
        # Its own threads: the default executor (6 threads on 2 cores) would cap every
        # concurrent reconcile, admission read and Event post together.
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=connections, thread_name_prefix="fwop-api"
        )

    @property
    def streams(self) -> client.ApiClient:
        """A client of its own for long watch streams (they hold a connection each)."""
        if self._streams is None:
            configuration = copy.copy(self._client.configuration)
            configuration.connection_pool_maxsize = WATCH_CONNECTIONS
            self._streams = client.ApiClient(configuration)
            self._streams.user_agent = self._client.user_agent
        return self._streams

    def close(self) -> None:
        """Release the connection pools and the threads."""
        self._client.close()
        if self._streams is not None:
            self._streams.close()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def apply(self, manifest: dict[str, Any], *, force: bool = True) -> dict[str, Any]:
        """Server-side apply under the operator's field manager; returns the live object."""
        kind = kinds.of(manifest)
        meta = manifest["metadata"]
        path = kind.path(meta.get("namespace"), meta["name"])
        query = [("fieldManager", FIELD_MANAGER), ("force", "true" if force else "false")]
        return await self._call("PATCH", path, kind, query, manifest, _APPLY)

    async def json_patch(
        self, manifest: dict[str, Any], operations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Apply RFC 6902 operations (used to remove content another manager added)."""
        kind = kinds.of(manifest)
        meta = manifest["metadata"]
        path = kind.path(meta.get("namespace"), meta["name"])
        query = [("fieldManager", FIELD_MANAGER)]
        return await self._call(
            "PATCH", path, kind, query, operations, "application/json-patch+json"
        )

    async def replace(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """PUT a whole object; returns what the server stored.

        The body carries metadata.resourceVersion: a change made in between fails with a
        conflict instead of being undone. With ``dry_run`` nothing is stored and the answer
        is the object as it would be, server defaults included.
        """
        kind = kinds.of(body)
        meta = body["metadata"]
        path = kind.path(meta.get("namespace"), meta["name"])
        query = [("fieldManager", FIELD_MANAGER)]
        if dry_run:
            query.append(("dryRun", "All"))
        return await self._call("PUT", path, kind, query, body, "application/json")

    async def apply_status(
        self, kind: kinds.Kind, namespace: str | None, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        """Server-side apply of the status subresource (the operator owns all of status)."""
        metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
        body = {
            "apiVersion": kind.api_version,
            "kind": kind.kind,
            "metadata": metadata,
            "status": status,
        }
        path = kind.path(namespace, name) + "/status"
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        return await self._call("PATCH", path, kind, query, body, _APPLY)

    async def get(
        self, kind: kinds.Kind, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """The live object, or None when it does not exist."""
        try:
            return await self._call("GET", kind.path(namespace, name), kind, [], None, None)
        except errors.NotFoundError:
            return None

    async def pages(
        self, kind: kinds.Kind, label_selector: str | None = None, page: int = 500
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every object of a kind, cluster-wide, one page at a time (the resync's fresh look).

        Pages, not one list: a caller that handles each page and lets it go never holds
        the whole cluster at once.
        """
        async for items, _ in self.pages_with_version(kind, label_selector, page):
            yield items

    async def pages_with_version(
        self, kind: kinds.Kind, label_selector: str | None = None, page: int = 500
    ) -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
        """Pages of a list, each with the list's resourceVersion (to watch from)."""
        token = ""
        while True:
            query = [("limit", str(page))]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if token:
                query.append(("continue", token))
            answer = await self._call("GET", kind.path(), kind, query, None, None)
            items = [
                {"apiVersion": kind.api_version, "kind": kind.kind, **item}
                for item in answer.get("items", [])
            ]
            yield items, str(answer.get("metadata", {}).get("resourceVersion", ""))
            token = answer.get("metadata", {}).get("continue") or ""
            if not token:
                return

    async def list_namespaced(self, kind: kinds.Kind, namespace: str) -> list[dict[str, Any]]:
        """Every object of a kind in one namespace (one page of at most 500, then the rest)."""
        found: list[dict[str, Any]] = []
        token = ""
        while True:
            query = [("limit", "500")] + ([("continue", token)] if token else [])
            answer = await self._call("GET", kind.path(namespace), kind, query, None, None)
            found += [{"apiVersion": kind.api_version, "kind": kind.kind, **item}
                      for item in answer.get("items", [])]  # fmt: skip
            token = answer.get("metadata", {}).get("continue") or ""
            if not token:
                return found

    async def list_all(
        self, kind: kinds.Kind, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Every object of a kind, cluster-wide, in one list."""
        return [item async for page in self.pages(kind, label_selector) for item in page]

    async def delete(
        self, kind: kinds.Kind, namespace: str, name: str, uid: str | None = None
    ) -> None:
        """Delete an object (foreground: its own dependents go first); gone already is fine.

        With ``uid``, only that very object: one recreated under the name since is kept.
        """
        body: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": "Foreground",
        }
        if uid:
            body["preconditions"] = {"uid": uid}
        with contextlib.suppress(errors.NotFoundError):
            await self._call(
                "DELETE", kind.path(namespace, name), kind, [], body, "application/json"
            )

    async def create(self, kind: kinds.Kind, namespace: str, body: dict[str, Any]) -> None:
        """POST an object (used for Events)."""
        await self._call("POST", kind.path(namespace), kind, [], body, "application/json")

    async def create_object(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """POST a new object under the operator's field manager; returns what was stored.

        Unlike an apply, a create never touches an object that exists already: it fails
        with 409 AlreadyExists (a TransientApiError), so nobody's object is taken over.
        """
        kind = kinds.of(manifest)
        path = kind.path(manifest["metadata"].get("namespace"))
        query = [("fieldManager", FIELD_MANAGER)]
        return await self._call("POST", path, kind, query, manifest, "application/json")

    async def may(self, user: dict[str, Any], attributes: dict[str, str]) -> bool:
        """Ask the API server whether ``user`` (AdmissionReview userInfo) may do something.

        A SubjectAccessReview: the authorizers of the cluster (RBAC, webhooks) answer, so
        the verdict is exactly the one a request of that user would get.
        """
        kind = kinds.SUBJECT_ACCESS_REVIEW
        spec: dict[str, Any] = {"resourceAttributes": attributes}
        for key in ("user", "uid", "groups", "extra"):
            value = user.get("username" if key == "user" else key)
            if value:
                spec[key] = value
        body = {"apiVersion": kind.api_version, "kind": kind.kind, "spec": spec}
        answer = await self._call("POST", kind.path(), kind, [], body, "application/json")
        return bool(answer.get("status", {}).get("allowed"))

    async def _call(  # noqa: PLR0917 - a thin REST call
        self,
        method: str,
        path: str,
        kind: kinds.Kind,
        query: list[tuple[str, str]],
        body: dict[str, Any] | list[dict[str, Any]] | None,
        content_type: str | None,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._call_sync, method, path, kind, query, body, content_type)
        return await loop.run_in_executor(self._threads, call)

    def _call_sync(  # noqa: PLR0917 - a thin REST call
        self,
        method: str,
        path: str,
        kind: kinds.Kind,
        query: list[tuple[str, str]],
        body: dict[str, Any] | list[dict[str, Any]] | None,
        content_type: str | None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        what = f"{method} {kind.kind} {path}"
        try:
            _, url, headers, payload, _ = self._client.param_serialize(
                method,
                path,
                query_params=query,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self._client.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=30
            )
            raw = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise errors.TransientApiError(what, 0, str(exc)) from None
        if not 200 <= response.status < 300:
            error = _error(what, response.status, raw, str(response.reason))
            if isinstance(error, errors.TransientApiError):
                error.retry_after = _retry_after(response.getheader("Retry-After"))
            raise error
        return _body(what, response.status, raw)


def _body(what: str, status: int, raw: bytes | None) -> dict[str, Any]:
    """A successful answer's JSON object.

    Anything else (a proxy's HTML page in front of the API server, a truncated body) is a
    TransientApiError, never a traceback.
    """
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise errors.TransientApiError(what, status, "the answer is not a JSON object")
    return data


def _retry_after(header: str | None) -> float | None:
    """Seconds the API server asks to wait (API Priority and Fairness sends it with 429)."""
    try:
        return min(max(float(header), 0.0), 60.0) if header else None
    except ValueError:
        return None


def _error(what: str, status: int, raw: bytes | None, reason: str) -> errors.ApiError:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        parsed = None  # e.g. "404 page not found" for an API group nobody serves
    message = str(parsed.get("message", reason)) if isinstance(parsed, dict) else reason
    if status == 404:
        # A Status naming the kind means the object (or its namespace) is missing; anything
        # else means the server does not serve the resource type at all.
        details = parsed.get("details", {}) if isinstance(parsed, dict) else {}
        if details.get("kind"):
            return errors.NotFoundError(what, status, message)
        return errors.KindMissingError(what, status, message)
    if status in _TRANSIENT:
        return errors.TransientApiError(what, status, message)
    return errors.RejectedError(what, status, message)
