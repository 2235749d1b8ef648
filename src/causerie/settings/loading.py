"""`load_settings`: the settings from their sources, checked, or one error naming the first bad
one and where it came from (docs/settings.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import ValidationError

from causerie.private_files import make_private_dir
from causerie.settings.addresses import parse_data_dir
from causerie.settings.declare import env_name
from causerie.settings.errors import SettingsError
from causerie.settings.model import Settings
from causerie.settings.sources import (
    DataFolderSource,
    TextSource,
    command_line,
    environment,
    source_of,
    toml_file,
    unknown_variables,
    unusable,
)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: str) -> Settings:
    """Build the settings from overrides, then the environment, then causerie.toml, then defaults.

    Creates the data folder (its owner's only, tightened if an older version left it readable)
    and its secret key on first use. Raises SettingsError naming the first bad setting, or the
    first `CAUSERIE_*` variable that names no setting but is close to one (a misspelling, or a
    setting's name in the wrong case); the other unknown variables are left in
    `Settings.unknown_variables`, for the command to warn of.
    """
    env = os.environ if environ is None else environ
    unknown = unknown_variables(Settings, env)
    misspelt = next((u for u in unknown if u.closest), None)
    if misspelt is not None:
        raise SettingsError(misspelt.describe("from the environment"))
    given = (command_line(Settings, overrides), environment(Settings, env))
    data_dir_text = next((s.values["data_dir"] for s in given if "data_dir" in s.values), None)
    data_dir = parse_data_dir(data_dir_text or str(Settings.model_fields["data_dir"].default))
    try:
        make_private_dir(data_dir)
    except OSError as exc:
        raise unusable(data_dir, exc) from None
    try:
        in_file = toml_file(Settings, data_dir / "causerie.toml")
    except OSError as exc:
        raise unusable(data_dir, exc) from None
    sources = (*given, in_file, DataFolderSource(Settings, data_dir))
    try:
        # BaseSettings takes its sources as a keyword argument, which mypy does not see: it reads
        # the constructor pydantic declares from the fields.
        settings = Settings(_build_sources=(sources, {}))  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _first_error(exc, sources) from None
    settings._set_sources({name: source_of(name, sources) for name in Settings.model_fields})
    settings._set_unknown_variables(tuple(u.name for u in unknown))
    return settings


def _first_error(exc: ValidationError, sources: tuple[TextSource, ...]) -> SettingsError:
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    reason = str(cause) if cause is not None else error["msg"]
    if not error["loc"]:  # a rule between settings: its message names them
        return SettingsError(reason)
    name = str(error["loc"][0])
    shown = "(value hidden)" if not Settings.model_fields[name].repr else f"= {error['input']!r}"
    return SettingsError(f"{env_name(name)} {shown} (from {source_of(name, sources)}): {reason}")
