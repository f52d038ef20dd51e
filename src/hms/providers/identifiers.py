"""Check digits of US provider identifiers."""

from __future__ import annotations

import re

_DEA = re.compile(r"^[A-Z][A-Z9]\d{7}$")
# DEA registrant types (first letter): practitioners, mid-levels, distributors, manufacturers...
_DEA_FIRST = set("ABCDEFGHJKLMPRSTUX")


def npi_is_valid(npi: str) -> bool:
    """NPI: 10 digits whose last is the Luhn check digit of '80840' + the first nine."""
    if not (len(npi) == 10 and npi.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:9])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def dea_is_valid(dea: str) -> bool:
    """DEA number: two letters and seven digits; (d1+d3+d5) + 2*(d2+d4+d6) ends in d7."""
    dea = dea.upper()
    if not _DEA.match(dea) or dea[0] not in _DEA_FIRST:
        return False
    d = [int(c) for c in dea[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
