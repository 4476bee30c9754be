"""Names that identify the FinancialWorkload API: group, version, kind, plural, short names.

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
