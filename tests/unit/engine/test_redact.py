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


SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_bare_secret_keys_are_masked_where_the_context_names_them() -> None:
    for text in (
        f"secret {SECRET_KEY}",
        f"Secret key: {SECRET_KEY}.",
        f"client_secret='{SECRET_KEY}'",
        f"export AWS_SECRET_ACCESS_KEY={SECRET_KEY}",
        f'{{"SecretAccessKey": "{SECRET_KEY}"}}',
        f"AKIAIOSFODNN7EXAMPLE {SECRET_KEY}",
        f"user1,AKIAIOSFODNN7EXAMPLE,{SECRET_KEY}",
    ):
        out = redact_text(text)
        assert SECRET_KEY not in out and MASK in out, text
        assert "AKIAIOSFODNN7EXAMPLE" not in out, text


def test_session_tokens_are_masked_without_a_label() -> None:
    tokens = [
        "IQoJb3JpZ2luX2VjEHkaCXVzLWVhc3QtMSJHMEUCIQD" + "q" * 50,
        "FwoGZXIvYXdzEJr//////////wEaDN" + "a1" * 30,
        "AQoDYXdzEJr1K3pLzIT6yrnBL5pHa/wDo" + "Zz" * 20,
    ]
    for token in tokens:
        out = redact_text(f"token {token} expires soon")
        assert out == f"token {MASK} expires soon", token


def test_forty_character_data_that_is_not_a_secret_is_left_alone() -> None:
    sha1 = "0f3a9c1b2d4e5f60718293a4b5c6d7e8f9012345"
    etag = "3858f62230ac3c915f300c664312c63f"
    base64ish = "Qm9vdHN0cmFwIG1vZGVsIG91dHB1dCAxMjM0NTY3"
    for text in (
        f"commit {sha1}",
        f'"ETag": "\\"{etag}\\""',
        f"prediction {base64ish}",
        f"key: models/{base64ish}",
        f'{{"output": "{base64ish}", "sha1": "{sha1}"}}',
    ):
        assert redact_text(text) == text
    assert redact({"etag": etag, "hash": sha1, "data": [base64ish]}) == {
        "etag": etag,
        "hash": sha1,
        "data": [base64ish],
    }


def test_a_known_secret_value_is_masked_whatever_its_shape() -> None:
    assert redact_text(f"output {SECRET_KEY[::-1]} end", [SECRET_KEY[::-1]]) == f"output {MASK} end"
