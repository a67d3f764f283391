"""A handler with all four functions: a logistic score over the numeric fields."""

import csv
import io
import json
import math
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        weights = json.load(f)
    with open(os.path.join(model_dir, "hyperparameters.json")) as f:
        hp = json.load(f)
    dropped = (hp.get("label_name", "label"), hp.get("id_name", "id"))
    fields = [n for n in hp["full_field_list"] if n not in dropped]
    return {"fields": fields, "weights": weights["weights"], "bias": weights["bias"]}


def input_fn(request_body, request_content_type):
    if request_content_type == "application/x-parquet":  # needs pyarrow in the image
        import pyarrow as pa
        import pyarrow.parquet as pq

        return pq.read_table(pa.BufferReader(request_body)).to_pylist()
    text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
    if request_content_type == "application/json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:  # NDJSON: one record a line
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        return data if isinstance(data, list) else [data]
    if request_content_type == "text/csv":
        return [row for row in csv.reader(io.StringIO(text)) if row]
    raise ValueError(f"unsupported content type: {request_content_type}")


def predict_fn(input_data, model):
    scores = []
    for record in input_data:
        values = (
            record if isinstance(record, dict) else dict(zip(model["fields"], record, strict=False))
        )
        z = model["bias"] + sum(w * float(values.get(n, 0.0)) for n, w in model["weights"].items())
        scores.append(1.0 / (1.0 + math.exp(-z)))
    return scores


def output_fn(prediction, accept):
    if accept == "application/json":
        return json.dumps({"scores": prediction}), accept
    if accept == "text/csv":
        return "".join(f"{s:.6f}\n" for s in prediction), accept
    raise ValueError(f"unsupported accept type: {accept}")
