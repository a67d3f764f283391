"""A model that cannot load: its model_fn raises, so the endpoint must go Failed.

Used by the BLOCKED path of checklists/async.yaml (`--var model_dir=models/broken`).
"""

from __future__ import annotations

from typing import Any


def model_fn(model_dir: str) -> Any:
    raise RuntimeError("broken demo model: weights file model.bin is missing")


def predict_fn(data: Any, model: Any) -> Any:
    return model
