"""Compatibility: ``DirectToolExecutor`` lives in ``oneringai.application.tools`` (it does no I/O).

Also importable as ``from oneringai import DirectToolExecutor``.
"""

from oneringai.application.tools.direct_executor import DirectToolExecutor, serialise_output

__all__ = ["DirectToolExecutor", "serialise_output"]
