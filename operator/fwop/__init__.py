"""fwop: a Kubernetes operator that enforces a compliance baseline for financial workloads.

A team declares one FinancialWorkload; the operator renders it into hardened children
(Deployment, ServiceAccount, Role, NetworkPolicies, SecretProviderClass, namespace PSS
labels), applies them with server-side apply, and reports and heals drift.

The package exports nothing but its version: import the submodules you need.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
