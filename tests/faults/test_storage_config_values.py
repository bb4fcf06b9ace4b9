"""Token store settings a client library refuses at first use with its own raw ``ValueError``
(redis-py: a bad IPv6 literal, a port out of range, another scheme; botocore: an invalid region,
a bad endpoint; ``open()``: a NUL in the directory) are ``ConfigError``s naming
``oauth.storage.<kind>.<key>`` at load — without the URL, which may hold a password (found by
the adversarial review, issue #10 class 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError

PASSWORD = "pw-Zq81kd02"
BAD: dict[str, tuple[str, dict[str, Any], str]] = {
    "redis bad IPv6": ("redis", {"url": f"redis://:{PASSWORD}@[::1:6379/0"}, "url"),
    "redis port out of range": ("redis", {"url": f"redis://:{PASSWORD}@127.0.0.1:99999/0"}, "url"),
    "redis other scheme": ("redis", {"url": f"http://:{PASSWORD}@127.0.0.1:6379/0"}, "url"),
    "redis line break": ("redis", {"url": f"redis://:{PASSWORD}@127.0.0.1:6379/0\n"}, "url"),
    "file NUL in directory": ("file", {"directory": "/tmp/tok\x00ens"}, "directory"),
    "aws invalid region": ("aws_secrets_manager", {"region": "not a region!"}, "region"),
    "aws bad endpoint": ("aws_secrets_manager", {"endpoint_url": "http://[::1"}, "endpoint_url"),
    "aws endpoint other scheme": ("aws_secrets_manager", {"endpoint_url": "ftp://127.0.0.1"}, "endpoint_url"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_unusable_store_settings_are_config_errors(tmp_path: Path, case: str) -> None:
    kind, fields, key = BAD[case]
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"oauth": {"storage": {"kind": kind, kind: fields}}}))
    with pytest.raises(ConfigError, match=rf"oauth\.storage\.{kind}\.{key}") as caught:
        load_settings(path, env={}, dotenv=None)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("redis", {"url": "redis://127.0.0.1:6379/0"}),
        ("redis", {"url": "rediss://user:pw@[::1]:6380/2"}),
        ("redis", {"url": "unix:///run/redis.sock?db=1"}),
        ("aws_secrets_manager", {"region": "eu-central-1", "endpoint_url": "http://127.0.0.1:4566"}),
        ("file", {"directory": "~/tokens dir/with space"}),
    ],
)
def test_usable_store_settings_still_load(tmp_path: Path, kind: str, fields: dict[str, Any]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"oauth": {"storage": {"kind": kind, kind: fields}}}))
    load_settings(path, env={}, dotenv=None)
