"""``client.oauth(name)``: one ``OAuthManager`` per configured connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oneringai.application.oauth.manager import OAuthManager
from oneringai.domain.errors import ConfigError, brief_repr
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.telemetry import Telemetry

if TYPE_CHECKING:
    from oneringai.application.oauth.config import OAuthFlowSettings

__all__ = ["OAuthRegistry"]


class OAuthRegistry:
    def __init__(
        self,
        settings: OAuthFlowSettings,
        storage: IOAuthTokenStorage,
        http_client: Callable[[], Any] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._settings = settings
        self._telemetry = telemetry
        self._storage = storage
        self._http_client = http_client
        self._managers: dict[str, OAuthManager] = {}

    def names(self) -> list[str]:
        return sorted(self._settings.connections)

    def get(self, name: str) -> OAuthManager:
        text = isinstance(name, str)  # ``client.oauth(["a"])`` was a TypeError (unhashable)
        manager = self._managers.get(name) if text else None
        if manager is None:
            config = self._settings.connections.get(name) if text else None
            if config is None:
                raise ConfigError(
                    f"no OAuth connection {brief_repr(name)} (configured: {', '.join(self.names()) or 'none'})",
                    path=f"oauth.connections.{name if text and len(name) <= 80 else '<name>'}",
                )
            manager = self._managers[name] = OAuthManager(
                config,
                storage=self._storage,
                name=name,
                http_client=self._http_client,
                refresh_skew=self._settings.refresh_skew,
                state_ttl=self._settings.state_ttl,
                telemetry=self._telemetry,
            )
        return manager
