"""Secret redaction: var values, AWS keys, presigned URLs, credential-named keys."""

from __future__ import annotations

from runner.engine.redact import MASK, redact, redact_text


def test_secret_values_are_masked_inside_longer_strings() -> None:
    assert redact_text("Bearer abc-secret-123!", ["abc-secret-123"]) == f"Bearer {MASK}!"


def test_aws_access_key_ids_and_labelled_secret_keys() -> None:
    text = (
        "key AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "
        '"SessionToken": "FwoGZXIvYXdzEJr//////////wEaDN"'
    )
    out = redact_text(text)
    assert "AKIAIOSFODNN7EXAMPLE" not in out
    assert "wJalrXUtnFEMI" not in out
    assert "FwoGZXIvYXdzEJr" not in out


def test_presigned_url_signature_and_credential_are_masked() -> None:
    url = (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=ASIAXXXXXXXXXXXXXXXX%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Signature=deadbeef0123&X-Amz-Security-Token=tok"
    )
    out = redact_text(url)
    assert "deadbeef0123" not in out and "ASIAXXXX" not in out and "=tok" not in out
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in out


def test_nested_values_and_credential_keys() -> None:
    value = {
        "headers": {"Authorization": "Basic Zm9v", "Accept": "json"},
        "items": [("pw", b"pw is hunter22")],
        "password": "x1",
        "count": 3,
    }
    out = redact(value, ["hunter22"])
    assert out == {
        "headers": {"Authorization": MASK, "Accept": "json"},
        "items": [["pw", f"pw is {MASK}"]],
        "password": MASK,
        "count": 3,
    }


def test_huge_strings_are_truncated() -> None:
    out = redact_text("x" * 50, max_chars=10)
    assert out.startswith("x" * 10) and "truncated, 40 more characters" in out
