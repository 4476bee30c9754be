"""Exact values of Kubernetes resource quantities: the one quantity parser of the operator.

Admission compares requests with limits; drift compares a rendered quantity with the
canonical form the API server stores (``1000m`` is ``1``), and only at resource paths: an
environment variable ``1k`` is not ``1000``. Must not: accept what the API's quantity
pattern refuses (exponents have at most three digits, so no input costs more than a few
microseconds), raise anything but ValueError, or lose precision (Fractions, never floats).
"""

from __future__ import annotations

import fractions
import re

_SUFFIXES: dict[str, fractions.Fraction] = {
    "": fractions.Fraction(1),
    "n": fractions.Fraction(1, 10**9),
    "u": fractions.Fraction(1, 10**6),
    "m": fractions.Fraction(1, 10**3),
    "k": fractions.Fraction(10**3),
    "M": fractions.Fraction(10**6),
    "G": fractions.Fraction(10**9),
    "T": fractions.Fraction(10**12),
    "P": fractions.Fraction(10**15),
    "E": fractions.Fraction(10**18),
    "Ki": fractions.Fraction(2**10),
    "Mi": fractions.Fraction(2**20),
    "Gi": fractions.Fraction(2**30),
    "Ti": fractions.Fraction(2**40),
    "Pi": fractions.Fraction(2**50),
    "Ei": fractions.Fraction(2**60),
}
MAX_LENGTH = 64
_QUANTITY = re.compile(
    r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE])[+]?([0-9]{1,3})|([KMGTPE]i|[numkMGTPE])?)"
)


def parse(text: str) -> fractions.Fraction | None:
    """The exact value of a quantity, or None when the text is not one."""
    try:
        return value(text)
    except ValueError:
        return None


def value(quantity: str) -> fractions.Fraction:
    """Return the exact value of a quantity such as 250m, 1.5, 512Mi or 1e3."""
    match = _QUANTITY.fullmatch(quantity) if len(quantity) <= MAX_LENGTH else None
    if match is None:
        msg = f"{quantity!r} is not a Kubernetes quantity"
        raise ValueError(msg)
    number, exponent_mark, exponent, suffix = match.groups()
    base = fractions.Fraction(number)
    if exponent_mark:
        return base * fractions.Fraction(10) ** int(exponent)
    return base * _SUFFIXES[suffix or ""]
