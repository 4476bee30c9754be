"""The FinancialWorkload API: pydantic models, validation rules and the CRD built from them.

The models are the single source of truth: the CRD schema (``fwop.api.crd``) is generated
from them, and the same rules run offline (fwctl) and at admission (CEL). Must not: do
I/O, import kopf or kubernetes, or import anything above this layer (render, cli...).
Import the submodules you need; this package exports nothing.
"""

__all__: list[str] = []
