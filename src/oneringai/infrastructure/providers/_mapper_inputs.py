"""What a caller hands ``ProviderErrorMapper.from_http_response`` besides the body, as the mapper
reads it: the status code as an int (or none) and only the text values of the headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["TextHeaders", "status_code_of", "text_headers"]


class TextHeaders(Mapping[str, str]):
    """The caller's headers as the mapper reads them: only text values count. ``headers`` is
    typed ``Mapping[str, str]``, but a port passing a dict of JSON values (``{"retry-after": 5}``,
    a list) got ``AttributeError``/``TypeError``/``OverflowError`` from deep inside the mapper.
    ``get`` goes to the caller's mapping, so a case-insensitive one (httpx, aiohttp) stays so."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[Any, Any]) -> None:
        self._headers = headers

    def get(self, key: str, default: Any = None) -> Any:
        value = self._headers.get(key)
        return value if isinstance(value, str) else default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return (key for key in self._headers if isinstance(key, str))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def status_code_of(value: object) -> int | None:
    """``status_code`` as an int: a digit string (``"429"``) read, anything else not a status
    (a boolean, a float, a word, 10**5000: the body alone decides, as for ``None``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= 999 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value)
    return None


def text_headers(headers: object) -> TextHeaders | None:
    """``headers`` read through ``TextHeaders``; ``None`` when there are none (or it is no mapping)."""
    return TextHeaders(headers) if isinstance(headers, Mapping) and headers else None
