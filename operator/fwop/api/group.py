"""Names that identify the API: group, version, and the kinds, plurals and short names.

Must not: hold anything but constants.
"""

from __future__ import annotations

GROUP = "finance.compliance.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "FinancialWorkload"
LIST_KIND = "FinancialWorkloadList"
PLURAL = "financialworkloads"
SINGULAR = "financialworkload"
SHORT_NAMES = ("fw", "fwl")
CATEGORIES = ("compliance",)
CRD_NAME = f"{PLURAL}.{GROUP}"

POLICY_KIND = "FinancialWorkloadPolicy"
POLICY_LIST_KIND = "FinancialWorkloadPolicyList"
POLICY_PLURAL = "financialworkloadpolicies"
POLICY_SINGULAR = "financialworkloadpolicy"
POLICY_SHORT_NAMES = ("fwp",)
POLICY_CRD_NAME = f"{POLICY_PLURAL}.{GROUP}"
POLICY_NAME = "default"
"""The one policy object the operator reads; the CRD refuses any other name."""
