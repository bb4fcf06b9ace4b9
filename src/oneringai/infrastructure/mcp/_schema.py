"""The part of a server's ``inputSchema`` the kit checks arguments against before a call.

A server's schema is outside input. Two of its keywords are regular expressions — ``pattern``
and ``patternProperties`` (which also decides what ``additionalProperties`` covers) — and
Python's ``re`` runs them by backtracking, holding the GIL: ``"^(a+)+$"`` against 30 ``a``
and a ``!`` takes minutes, with the whole event loop stopped, and no timeout can interrupt it.
So those keywords are left to the server, which checks its own input anyway; everything else
(types, required fields, enums, ranges, nested objects) is still checked here, so the model gets
a precise ``invalid_arguments`` for the usual mistakes without a round trip.
"""

from __future__ import annotations

from typing import Any

__all__ = ["checkable_schema"]

#: Keywords whose value is one subschema, a list of them, or a mapping of name to subschema.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedProperties", "unevaluatedItems", "additionalItems", "contentSchema")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("properties", "$defs", "definitions", "dependentSchemas")
_MAX_DEPTH = 64


def checkable_schema(schema: Any, _depth: int = 0) -> Any:
    """``schema`` without its regular expressions (a copy; the model still sees the original).

    Deeper than 64 levels the rest is accepted as it is (``True``): the server judges it."""
    if not isinstance(schema, dict):
        return schema
    if _depth > _MAX_DEPTH:
        return True
    made = dict(schema)
    if isinstance(made.get("pattern"), str):
        del made["pattern"]
    if "patternProperties" in made:  # which names it covers is a regex question too
        for key in ("patternProperties", "additionalProperties", "unevaluatedProperties"):
            made.pop(key, None)
    depth = _depth + 1
    for key in _ONE:
        if isinstance(made.get(key), dict):
            made[key] = checkable_schema(made[key], depth)
    for key in _LIST:
        if isinstance(made.get(key), list):
            made[key] = [checkable_schema(item, depth) for item in made[key]]
    for key in _MAP:
        value = made.get(key)
        if isinstance(value, dict):
            made[key] = {name: checkable_schema(sub, depth) for name, sub in value.items()}
    return made
