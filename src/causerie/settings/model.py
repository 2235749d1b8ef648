"""`Settings`: every setting of every area in one typed, immutable object, built once at start by
`load_settings` and passed explicitly (docs/settings.md)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Self
from urllib.parse import urlsplit

from pydantic import PrivateAttr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from causerie.settings.declare import ENV_PREFIX
from causerie.settings.lifetimes import LifetimeSettings
from causerie.settings.limits import LimitSettings
from causerie.settings.logs import LogSettings
from causerie.settings.outbound import OutboundSettings
from causerie.settings.server import ServerSettings


# pydantic puts the fields of the last base first: the areas are listed backwards so that the
# settings keep the order of docs/settings.md (the first bad one in that order is reported).
class Settings(
    LogSettings, OutboundSettings, LifetimeSettings, LimitSettings, ServerSettings, BaseSettings
):
    # The areas defer building their own validators (never used alone); Settings builds one
    # for all at import, about half the cost of building each area's too.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_default=True, defer_build=False
    )

    _sources: Mapping[str, str] = PrivateAttr(default_factory=dict)
    _unknown_variables: tuple[str, ...] = PrivateAttr(default=())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings built directly take only the values given: `load_settings` alone reads the
        # environment and the data folder, with sources of its own (settings/sources.py).
        return (init_settings,)

    @model_validator(mode="after")
    def _s3_endpoint_needs_s3(self) -> Self:
        if self.s3_endpoint and self.file_store is None:
            raise ValueError(
                "CAUSERIE_S3_ENDPOINT is set, but CAUSERIE_FILE_STORE is not an s3:// URL: "
                "files would stay in the data folder"
            )
        return self

    @property
    def sources(self) -> Mapping[str, str]:
        """Where each value came from: the command line, the environment, causerie.toml or the
        default."""
        return self._sources

    def _set_sources(self, sources: Mapping[str, str]) -> None:
        self._sources = MappingProxyType(dict(sources))

    @property
    def unknown_variables(self) -> tuple[str, ...]:
        """The `CAUSERIE_*` variables of the environment that name no setting and are close to
        none (a plugin's own, or a mistake): Causerie ignores them, and its commands warn."""
        return self._unknown_variables

    def _set_unknown_variables(self, names: tuple[str, ...]) -> None:
        self._unknown_variables = names

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sender(self) -> str:
        """Who the mail Causerie sends is from."""
        host = urlsplit(self.public_url).hostname or "localhost"
        return self.mail_from or f"Causerie <causerie@{host}>"
