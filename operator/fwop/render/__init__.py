"""Pure rendering: a FinancialWorkload spec in, the desired child manifests out.

One module per child kind; ``fwop.render.workload.render_all`` puts them together in a
deterministic order. The CLI and the operator call the same function, so what a reviewer
sees offline is exactly what the operator applies. Must not: do I/O, read a clock, or
import kopf or kubernetes. Import the submodules you need; this package exports nothing.
"""

__all__: list[str] = []
