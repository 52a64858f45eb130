"""One callback lab (center + outside world + server) for the package."""
from __future__ import annotations

from tests.callbacks.outside import CallbackLab
from tests.support.lab import package_lab

cblab = package_lab("cblab", CallbackLab, "callbacks")
