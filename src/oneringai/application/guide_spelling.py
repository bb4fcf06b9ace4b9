"""Catch the guide's TypeScript method names on custom classes before they silently never run.

A provider ported from the guide may define ``validateProviderSpecificKeyFormat`` or
``isDestroyed``. Abstract methods already fail loudly when misspelt (``TypeError: Can't
instantiate abstract class ... stream_generate``), but a hook with a default in the kit
(``validate_provider_specific_key_format``, ``is_destroyed``, ``list_models``) would keep its
default and the user's code would never be called. ``check_guide_spelling`` finds such
methods where an instance enters the kit and names the Python spelling.

A class that defines both spellings (a camelCase alias on purpose) passes.
"""

from __future__ import annotations

import re

__all__ = ["check_guide_spelling", "snake_case"]

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KIT = "oneringai."


def snake_case(name: str) -> str:
    """``streamGenerate`` -> ``stream_generate``."""
    return _HUMP.sub("_", name).lower()


def _is_kit(cls: type) -> bool:
    return cls.__module__.startswith(_KIT) or cls is object


def check_guide_spelling(obj: object, *, role: str) -> None:
    """Raise ``TypeError`` when ``obj``'s own classes define a camelCase method whose snake_case
    name is one the kit calls (defined by a oneringai base) and the class does not define."""
    cls = type(obj)
    own = [klass for klass in cls.__mro__ if not _is_kit(klass)]
    own_names = {name for klass in own for name in vars(klass)}
    kit_names = {name for klass in cls.__mro__ if _is_kit(klass) for name in vars(klass)}
    for name in sorted(own_names):
        if name.startswith("_") or name.islower():
            continue
        python = snake_case(name)
        if python != name and python in kit_names and python not in own_names:
            raise TypeError(
                f"{role} {cls.__name__} defines {name!r}, the guide's TypeScript spelling: "
                f"oneringai calls {python!r} — rename it (as written it would never be called)"
            )
