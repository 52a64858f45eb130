"""How much the fuzz tests try.

The suite runs a quarter of each campaign so that the whole of it fits its
20-minute budget on two cores; before a release run the full campaigns:
`FUZZ_SCALE=4 scripts/test.sh tests/security`. The seeds are fixed, so a
failure found at any scale is found again at that scale.
"""
from __future__ import annotations

import os

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def cases(full: int) -> int:
    """The number of cases to run of a campaign whose full size is `full`."""
    return max(1, round(full * SCALE / 4))
