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
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
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
