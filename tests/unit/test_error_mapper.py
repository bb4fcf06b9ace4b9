import time
from email.utils import formatdate

import httpx
import pytest

from oneringai import (
    ModelNotFoundError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper, redact_secrets


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None), ("nan", None),
     ("inf", None), ("1e400", None), ("Wed, 99 Foo 9999 99:99:99 GMT", None)],
)
def test_retry_after_seconds(value, expected):
    assert ProviderErrorMapper.parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = time.time()
    assert ProviderErrorMapper.parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert ProviderErrorMapper.parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error": {"message": "bad key", "type": "invalid_request_error"}}, ProviderAuthError),
        (403, {"type": "error", "error": {"type": "permission_error", "message": "no"}}, ProviderAuthError),
        (429, {"error": "slow down"}, ProviderRateLimitError),
        (400, {"error": {"message": "prompt is too long: 300000 tokens"}}, ProviderContextLengthError),
        (413, "request too large", ProviderContextLengthError),
        (404, {"error": "model 'x' not found, try pulling it first"}, ModelNotFoundError),
        (404, "<html>nope</html>", ProviderResponseError),
        (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, ProviderUnavailableError),
        (503, b"", ProviderUnavailableError),
        (422, {"detail": "bad"}, ProviderResponseError),
    ],
)
def test_status_and_body_shapes(status, body, error):
    mapped = ProviderErrorMapper.from_http_response(status, body, {"retry-after": "2"}, provider="p", model="m")
    assert type(mapped) is error and mapped.status_code == status
    assert "provider=p" in str(mapped) and "model=m" in str(mapped) and f"status={status}" in str(mapped)


def test_secrets_are_scrubbed():
    body = {"error": {"message": "Incorrect API key provided: sk-proj-abcdefghijklmnop. Bearer abc.def"}}
    mapped = ProviderErrorMapper.from_http_response(401, body, provider="p", secrets=["my-own-secret"])
    assert "sk-proj-abcdefghijklmnop" not in str(mapped) and "abc.def" not in str(mapped)
    assert redact_secrets("key my-own-secret here", ["my-own-secret"]) == "key [REDACTED] here"


def test_transport_exceptions():
    request = httpx.Request("POST", "http://h/x")
    assert isinstance(ProviderErrorMapper.map_error(httpx.ReadTimeout("t", request=request), "p"), ProviderTimeoutError)
    assert isinstance(ProviderErrorMapper.map_error(httpx.ConnectTimeout("t", request=request), "p"), ProviderTimeoutError)
    refused = ProviderErrorMapper.map_error(httpx.ConnectError("refused", request=request), "p", url="http://h/x")
    assert isinstance(refused, ProviderUnavailableError) and "http://h/x" in str(refused) and refused.is_retryable
    cut = ProviderErrorMapper.map_error(httpx.RemoteProtocolError("peer closed", request=request), "p")
    assert isinstance(cut, ProviderUnavailableError)
    assert isinstance(ProviderErrorMapper.map_error(ValueError("bad json"), "p"), ProviderResponseError)
    already = ProviderRateLimitError("x", retry_after=3)
    assert ProviderErrorMapper.map_error(already, "p") is already and already.provider == "p"
    from_dict = ProviderErrorMapper.map_error({"status": 429, "error": {"message": "limit"}}, "p")
    assert isinstance(from_dict, ProviderRateLimitError)


def test_errors_pickle():
    import pickle

    error = ProviderRateLimitError("limit", provider="p", model="m", status_code=429, retry_after=2.0)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is ProviderRateLimitError and clone.retry_after == 2.0 and str(clone) == str(error)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": {"message": "API key not valid. Please pass a valid API key."}}, ProviderAuthError),
        (400, {"error": {"message": "x", "code": "invalid_api_key"}}, ProviderAuthError),
        (422, {"error": {"type": "rate_limit_error", "message": "x"}}, ProviderRateLimitError),
        (400, {"error": {"type": "overloaded_error", "message": "x"}}, ProviderUnavailableError),
        (None, {"error": {"type": "overloaded_error", "message": "Overloaded"}}, ProviderUnavailableError),
        (None, {"error": "model 'q' not found"}, ModelNotFoundError),
        (None, "plain text", ProviderResponseError),
    ],
)
def test_a_plain_or_absent_status_defers_to_the_body(status, body, error):
    mapped = ProviderErrorMapper.from_http_response(status, body, provider="p")
    assert type(mapped) is error and mapped.status_code == status


@pytest.mark.parametrize("body", [b"\xff\xfe{", b"[" * 10_000, b'{"error": {"message": {"nested": [1, 2]}}}',
                                  b'{"error": [{"message": "first"}]}', b"42", b"null", b'"quoted"', "text", 5, None])
def test_any_error_body_shape_is_a_typed_error(body):
    mapped = ProviderErrorMapper.from_http_response(500, body, provider="p")
    assert isinstance(mapped, ProviderUnavailableError) and len(str(mapped)) < 800


def test_display_url_hides_userinfo_and_query():
    from oneringai.infrastructure.providers.error_mapper import display_url

    assert display_url("https://u:p@h:1/v1/x?key=abc#f") == "https://h:1/v1/x"
    assert display_url("https://token@h/v1") == "https://h/v1"
    assert display_url(None) == ""


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),  # OpenAI's precise header wins (its SDK reads it first)
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "nan", "retry-after": "2"}, 2.0),  # not a number: Retry-After decides
        ({"retry-after-ms": "1e400", "retry-after": "2"}, 2.0),
        ({"retry-after-ms": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after-ms": "-5"}, 0.0),
    ],
)
def test_retry_after_ms(headers, expected):
    error = ProviderErrorMapper.from_http_response(429, b"{}", headers, provider="p", model="m")
    assert error.retry_after == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [(None, ProviderResponseError), ([], ProviderResponseError), (3, ProviderResponseError),
     (True, ProviderResponseError), (b"{}", ProviderResponseError), ("boom", ProviderResponseError),
     ("rate limit reached", ProviderRateLimitError), (b'{"error": {"type": "rate_limit_error"}}', ProviderRateLimitError),
     ([{"error": {"code": "invalid_api_key", "message": "bad key"}}], ProviderAuthError), (object(), ProviderResponseError)],
)
def test_map_error_takes_any_json_value_the_guide_may_pass(body, error):
    # The guide: `throw ProviderErrorMapper.mapError(await response.json(), this.name)` — the JSON may be
    # a list (Google-style batches), text, null or a number; each was an AttributeError ('__cause__').
    mapped = ProviderErrorMapper.map_error(body, "p")
    assert type(mapped) is error and mapped.provider == "p"
