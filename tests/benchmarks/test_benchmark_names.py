"""No benchmark shadows a package (issue 12: benchmarks/transfer.py did).

`python benchmarks/NAME.py` puts benchmarks/ first on sys.path, so a script
named like a package of ours (transfer, callbacks, ivr …), of the standard
library or of an installed distribution would be imported in its place by
everything the benchmark starts, and needed sys.path surgery to run at all.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"


def test_benchmarks_exist():
    assert len(list(BENCHMARKS.glob("*.py"))) >= 5  # the check below is not vacuous


def test_no_benchmark_is_named_like_an_importable_module():
    ours = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()} | {p.stem for p in ROOT.glob("*.py")}
    shadowing = {}
    for script in sorted(BENCHMARKS.glob("*.py")):
        name = script.stem
        if name in ours or name in sys.stdlib_module_names:
            shadowing[name] = "a package or module of this repository" if name in ours else "the standard library"
            continue
        spec = importlib.util.find_spec(name)   # benchmarks/ is not on the tests' path
        if spec is not None and spec.origin and Path(spec.origin).parent != BENCHMARKS:
            shadowing[name] = spec.origin
    assert not shadowing, f"benchmarks shadowing importable modules (rename them): {shadowing}"
