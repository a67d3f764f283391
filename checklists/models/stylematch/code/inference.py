"""SageMaker handler for StyleMatch: an image in, the top-k most similar catalog items out.

Accepts `image/jpeg`, `image/png`, `application/x-image` (raw bytes) or
`application/json` `{"image": <base64>, "top_k": 10, "hold_seconds": 1}`
(`hold_seconds`, at most 30, keeps the request in predict_fn that long: it
simulates a heavier model, so a load test's requests overlap and the endpoint's
concurrency limit is exercised, not merely unchallenged). An undecodable image
raises, so the endpoint reports a failure (error object + error notification).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from stylematch import KINDS, decode_image, features

MODEL_VERSION = "stylematch-1.0"
DEFAULT_TOP_K = 5


def model_fn(model_dir: str) -> dict[str, Any]:
    data = np.load(Path(model_dir) / "catalog.npz")
    print(
        f"StyleMatch model loaded: {len(data['names'])} catalog items ({MODEL_VERSION})", flush=True
    )
    return {"names": data["names"], "categories": data["categories"], "vectors": data["vectors"]}


def input_fn(body: bytes, content_type: str) -> dict[str, Any]:
    top_k, hold = DEFAULT_TOP_K, 0.0
    raw = body if isinstance(body, bytes) else str(body).encode()
    if (content_type or "").split(";")[0].strip() == "application/json":
        request = json.loads(raw)
        raw = base64.b64decode(request["image"])
        top_k = int(request.get("top_k", DEFAULT_TOP_K))
        hold = min(max(float(request.get("hold_seconds", 0.0)), 0.0), 30.0)
    img = decode_image(raw)
    return {
        "image": img,
        "top_k": top_k,
        "hold": hold,
        "meta": {
            "width": img.width,
            "height": img.height,
            "format": img.format,
            "mode": img.mode,
            "bytes": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
        },
    }


def predict_fn(data: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    started = time.time()
    if data.get("hold"):
        time.sleep(data["hold"])
    query = features(data["image"])
    scores = np.clip(model["vectors"] @ query, 0.0, 1.0)
    order = np.argsort(-scores, kind="stable")[: data["top_k"]]
    recommendations = [
        {
            "rank": rank + 1,
            "item": str(model["names"][i]),
            "category": str(model["categories"][i]),
            "score": round(float(scores[i]), 6),
        }
        for rank, i in enumerate(order)
    ]
    votes: dict[str, float] = {}
    for rec in recommendations:
        votes[rec["category"]] = votes.get(rec["category"], 0.0) + rec["score"]
    meta = dict(data["meta"], category=max(votes, key=lambda c: votes[c]))
    return {
        "model_version": MODEL_VERSION,
        "top_k": data["top_k"],
        "input": meta,
        "recommendations": recommendations,
        "categories": sorted({c for c, _ in KINDS.values()}),
        # When and where this request ran: lets a checklist prove the concurrency limit.
        "served": {"pid": os.getpid(), "started_at": started, "finished_at": time.time()},
    }


def output_fn(prediction: dict[str, Any], accept: str) -> tuple[str, str]:
    return json.dumps(prediction), "application/json"
