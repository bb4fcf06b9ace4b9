"""Compatibility: ``LoginRequiredError`` lives in ``oneringai.domain.errors`` (also ``oneringai``)."""

from oneringai.domain.errors import LoginRequiredError

__all__ = ["LoginRequiredError"]
