"""Admission: the rules a FinancialWorkload must pass beyond its CRD schema, as pure code.

``fwop.admission.review`` judges one document against the cluster policy: first the static
rules of the CRD (through ``fwop.api.workload``), then the cluster policy (IMG-2, RES-1,
PRF-1, NET-2), then cross-field rules that CEL cannot express. The validating webhook,
the reconcile gate and ``fwctl check`` all call it, so they give the same verdict word for
word. Must not: do I/O, import kopf or kubernetes, or read the policy from anywhere (the
caller passes it). Import the submodules you need; this package exports nothing.
"""

__all__: list[str] = []
