"""List, then watch, one kind cluster-wide: the operator's own lean informer.

kopf processes every event of every object (a diff-base deep copy, per-object memories)
even where a handler only needs the object; for the high-volume kinds (children, pods,
namespaces) that cost several milliseconds of CPU per event. This watcher does the least:
it lists page by page, hands every object over, says which keys the list held (so the
store drops what vanished while no watch ran: a relist never misses a deletion), then
watches from the list's resourceVersion with bookmarks, and lists again when the API server
answers 410 Gone. The stream is read in its own thread, and each event is handed to the
event loop with ``call_soon_threadsafe``. Must not: decide anything about the objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import urllib3
from kubernetes.watch.watch import iter_resp_lines

from fwop import errors, logs
from fwop.kube import api as kube_api
from fwop.kube import kinds

_log = logs.get(__name__)
OnEvent = Callable[[str, dict[str, Any]], None]
"""(type, object): type is ADDED, MODIFIED or DELETED; listed objects come as ADDED."""
OnListed = Callable[[set[tuple[str, str]]], None]
"""(namespace, name) of every object the (re)list held."""
WATCH_SECONDS = 300
GONE = 410
MISSING_KIND_SECONDS = 30.0


class _Gone(Exception):
    """The resourceVersion is too old: list again."""


class Watcher:
    """One kind, cluster-wide, kept in step with the API server for as long as it runs."""

    def __init__(
        self,
        api: kube_api.Api,
        kind: kinds.Kind,
        *,
        on_event: OnEvent,
        on_listed: OnListed,
        label_selector: str | None = None,
    ) -> None:
        self.api = api
        self.client = api.streams
        self.kind = kind
        self.on_event = on_event
        self.on_listed = on_listed
        self.label_selector = label_selector
        self.lists = 0
        self._socket: socket.socket | None = None
        self._version = ""
        self._task: asyncio.Task[None] | None = None
        self._listed = asyncio.Event()

    async def listed(self) -> None:
        """Return once the first list is done (the store holds every object of the kind)."""
        await self._listed.wait()

    def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self._run(), name=f"fwop-watch-{self.kind.plural}")

    async def stop(self) -> None:
        """Stop watching: the task ends, and the stream's socket is shut under its thread."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._interrupt()

    def _interrupt(self) -> None:
        # Closing the response from this thread would wait for the reader's lock (until the
        # next event or bookmark, up to a minute) with the event loop blocked; shutting the
        # socket down wakes the reading thread at once, which then closes the response.
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    async def _run(self) -> None:
        pause = 0.5
        version = ""
        while True:
            try:
                if not version:
                    version = await self._list()
                version = await self._watch(version)
                pause = 0.5
            except _Gone:
                version = ""
            except errors.KindMissingError as exc:
                # Not served (a CRD not installed, e.g. no Secrets Store CSI driver): none
                # exist, which is a complete list; look again later.
                _log.info("kind not served", kind=self.kind.kind, error=str(exc))
                self._done_listing(set())
                await asyncio.sleep(MISSING_KIND_SECONDS)
            except (errors.ApiError, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                _log.warning("watch interrupted", kind=self.kind.kind, error=str(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def _list(self) -> str:
        """List every object; returns the list's resourceVersion to watch from."""
        seen: set[tuple[str, str]] = set()
        version = ""
        async for page, page_version in self.api.pages_with_version(self.kind, self.label_selector):
            version = page_version or version
            for item in page:
                meta = item.get("metadata", {})
                seen.add((str(meta.get("namespace", "")), str(meta.get("name"))))
                self.on_event("ADDED", item)
        self._done_listing(seen)
        return version

    def _done_listing(self, seen: set[tuple[str, str]]) -> None:
        self.lists += 1
        self.on_listed(seen)
        self._listed.set()

    async def _watch(self, version: str) -> str:
        """Follow the stream until it ends; returns the newest resourceVersion seen."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._version = version

        def finish(error: BaseException | None) -> None:
            if done.done():
                return
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def read() -> None:
            error: BaseException | None = None
            try:
                for event in self._events(version):
                    loop.call_soon_threadsafe(self._deliver, event)
            except BaseException as exc:  # handed to the loop, raised there
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(finish, error)

        threading.Thread(target=read, name=f"fwop-watch-{self.kind.plural}", daemon=True).start()
        await done
        return self._version

    def _events(self, version: str) -> Iterator[dict[str, Any]]:
        """The watch stream's events, read in the calling (non-loop) thread."""
        query = [
            ("watch", "1"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", version),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        request = self.client.param_serialize(
            "GET", self.kind.path(), query_params=query,
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
        )  # fmt: skip
        response = self.client.call_api(*request, _request_timeout=(10, WATCH_SECONDS + 30))
        raw = response.response
        connection = getattr(raw, "connection", None)
        self._socket = getattr(connection, "sock", None)
        ended = False
        try:
            if response.status == GONE:
                raise _Gone
            if response.status >= 400:
                raise errors.TransientApiError(self.kind.kind, response.status, "watch refused")
            for line in iter_resp_lines(raw):
                if not line:
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    code = int((event.get("object") or {}).get("code") or 0)
                    raise (
                        _Gone
                        if code == GONE
                        else errors.TransientApiError(self.kind.kind, code, "watch error event")
                    )
                yield event
            ended = True
        finally:
            self._socket = None
            if ended:
                raw.release_conn()  # a stream the server ended cleanly: the connection is reusable
            else:
                raw.close()

    def _deliver(self, event: dict[str, Any]) -> None:
        """In the loop: one event to the consumer (bookmarks only move the version)."""
        kind, obj = event.get("type"), event.get("object") or {}
        meta = obj.get("metadata", {})
        if meta.get("resourceVersion"):
            self._version = str(meta["resourceVersion"])
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            obj.setdefault("apiVersion", self.kind.api_version)
            obj.setdefault("kind", self.kind.kind)
            self.on_event(str(kind), obj)
