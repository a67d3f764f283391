"""load_handler + HandlerRuntime follow SageMaker's handler conventions."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from runner.model import (
    HandlerError,
    HandlerRuntime,
    UnsupportedFormatError,
    framework_from_image,
    load_handler,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "models"


def _runtime(name: str, env: dict[str, str] | None = None, framework: str | None = None):
    model_dir = FIXTURES / name
    runtime = HandlerRuntime(load_handler(model_dir, env), model_dir, framework)
    runtime.load_model()
    return runtime


def test_code_inference_py_with_four_functions() -> None:
    runtime = _runtime("echo")
    body, content_type = runtime.invoke(b'{"value": 7}', "application/json", "application/json")
    assert content_type == "application/json"
    assert json.loads(body)["echo"] == 7
    assert json.loads(body)["greeting"] == "hello"


def test_context_argument_passed_when_declared() -> None:
    runtime = _runtime("context_args")
    body, _ = runtime.invoke(b"[1, 2]", "application/json", "application/json")
    result = json.loads(body)
    assert result["result"] == [3, 6]
    assert result["calls"][-3:] == ["input_fn", "predict_fn", "output_fn"]
    assert runtime.handler.module.CALLS[0] == ("model_fn", True)


def test_transform_fn_takes_over_the_chain() -> None:
    runtime = _runtime("transform")
    assert runtime.invoke(b"abc", "text/plain", "text/plain") == (b"ABC", "text/plain")


def test_program_at_archive_root_with_submit_directory() -> None:
    env = {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model"}
    runtime = _runtime("program_root", env)
    body, content_type = runtime.invoke(b'{"text": "hi"}', "application/json", "*/*")
    assert (json.loads(body), content_type) == ({"shouted": "HI!"}, "application/json")


def test_missing_entry_names_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(HandlerError, match=r"code/inference\.py"):
        load_handler(tmp_path)


def test_import_error_is_reported_as_handler_error(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("import checkrun_no_such_module\n")
    with pytest.raises(HandlerError, match="checkrun_no_such_module"):
        load_handler(tmp_path)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "expected_body", "expected_type"),
    [
        (b"[1, 2, 3]", "application/json", "application/json", b"[2, 4, 6]", "application/json"),
        (b"1,2\n3,4\n", "text/csv", "text/csv", None, "text/csv"),
        (b"[[1.5]]", "application/json; charset=utf-8", "", b"[[3.0]]", "application/json"),
    ],
)
def test_default_decode_predict_encode(
    body: bytes, content_type: str, accept: str, expected_body: bytes | None, expected_type: str
) -> None:
    runtime = _runtime("defaults")
    out, out_type = runtime.invoke(body, content_type, accept)
    assert out_type == expected_type
    if expected_body is not None:
        assert out == expected_body
    else:
        assert np.allclose(np.loadtxt(io.StringIO(out.decode()), delimiter=","), [[2, 4], [6, 8]])


def test_default_npy_round_trip() -> None:
    runtime = _runtime("defaults")
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3))
    out, out_type = runtime.invoke(buffer.getvalue(), "application/x-npy", "application/x-npy")
    assert out_type == "application/x-npy"
    assert np.load(io.BytesIO(out)).tolist() == [0, 2, 4]


def test_default_decoder_refuses_unknown_type_with_415() -> None:
    runtime = _runtime("defaults")
    with pytest.raises(UnsupportedFormatError) as info:
        runtime.invoke(b"\x00", "image/jpeg", "application/json")
    assert info.value.status == 415


def test_legacy_sagemaker_containers_handler_with_sklearn_defaults() -> None:
    runtime = _runtime("legacy_sklearn", framework="sklearn")
    body, content_type = runtime.invoke(b"1,2\n3,4", "text/csv", "application/json")
    assert content_type == "application/json"
    assert json.loads(body) == {"sums": [3.0, 7.0]}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/x-dict", (b'{"n": 5}', "application/json")),
        ("application/x-list", (b"[5]", "application/json")),
        ("text/x-str", (b"n=5", "text/x-str")),
        ("application/x-bytes", (b"raw-bytes", "application/x-bytes")),
        ("anything/else", (b"5", "text/x-tuple")),
    ],
)
def test_output_fn_return_types(accept: str, expected: tuple[bytes, str]) -> None:
    assert _runtime("output_variants").invoke(b"hello", "text/plain", accept) == expected


def test_flask_images_send_plain_str_as_html() -> None:
    runtime = _runtime("output_variants", framework="sklearn")
    assert runtime.invoke(b"hello", "text/plain", "text/x-str") == (
        b"n=5",
        "text/html; charset=utf-8",
    )


def test_same_module_name_from_two_models_does_not_shadow(tmp_path: Path) -> None:
    for name, word in (("a", "alpha"), ("b", "beta")):
        code = tmp_path / name / "code"
        code.mkdir(parents=True)
        (code / "inference.py").write_text(f"def model_fn(d):\n    return lambda x: {word!r}\n")
    assert _load_word(tmp_path / "a") == "alpha"
    assert _load_word(tmp_path / "b") == "beta"


def _load_word(model_dir: Path) -> str:
    runtime = HandlerRuntime(load_handler(model_dir), model_dir)
    return str(runtime.load_model()(None))


def test_broken_model_fn_raises_its_own_error(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "broken_load", tmp_path / "m")
    runtime = HandlerRuntime(load_handler(tmp_path / "m"), tmp_path / "m")
    with pytest.raises(RuntimeError, match=r"model\.pth is missing"):
        runtime.load_model()


@pytest.mark.parametrize(
    ("uri", "framework"),
    [
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1", "sklearn"),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
        ("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310", "pytorch"),
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2",
            "huggingface",
        ),
        ("my-registry/custom:latest", None),
        (None, None),
    ],
)
def test_framework_from_image(uri: str | None, framework: str | None) -> None:
    assert framework_from_image(uri) == framework


def test_inference_toolkit_imports_work_without_the_toolkit() -> None:
    runtime = _runtime("toolkit_imports")
    assert runtime.invoke(b"[1, 2]", "application/json", "application/json") == (
        b"[2, 3]",
        "application/json",
    )


def test_xgboost_image_loads_a_pickled_model_without_model_fn(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(
        "class SumModel:\n    def predict(self, data):\n        return data.sum(axis=1)\n"
    )
    handler = load_handler(tmp_path)
    import pickle

    (tmp_path / "xgboost-model").write_bytes(pickle.dumps(handler.module.SumModel()))
    runtime = HandlerRuntime(handler, tmp_path, "xgboost")
    runtime.load_model()
    body, _ = runtime.invoke(b"1:1 2:2\n0:5", "text/libsvm", "application/json")
    assert json.loads(body) == [3.0, 5.0]


def test_sklearn_image_without_model_fn_asks_for_one(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("")
    runtime = HandlerRuntime(load_handler(tmp_path), tmp_path, "sklearn")
    with pytest.raises(HandlerError, match="define model_fn"):
        runtime.load_model()
