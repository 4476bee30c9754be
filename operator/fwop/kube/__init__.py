"""The only code that talks to the Kubernetes API server.

Server-side apply, reads, status writes and the mapping of API errors onto the project's
error tree. Calls run in worker threads so kopf's event loop never blocks on the network.
"""

__all__: list[str] = []
