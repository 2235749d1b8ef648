"""Where settings come from, highest priority first: the command line, the environment
(`CAUSERIE_*`), `causerie.toml` in the data folder, the data folder itself (the SQLite file and
the secret key), then the declared defaults (docs/settings.md).

Every source gives text keyed by the setting's name, and remembers it: an error then names the
source of the bad value, and `Settings.sources` where each value came from.
"""

from __future__ import annotations

import difflib
import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from causerie.settings.declare import ENV_PREFIX, env_name
from causerie.settings.errors import SettingsError
from causerie.settings.server import parse_secret

DEFAULT = "the default"


class TextSource(PydanticBaseSettingsSource):
    """Settings given as text by one source; `label` says which, in errors and `sources`."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str], label: str):
        super().__init__(settings_cls)
        self.values = dict(values)
        self.label = label

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def command_line(settings_cls: type[BaseSettings], overrides: Mapping[str, str]) -> TextSource:
    return TextSource(settings_cls, overrides, "the command line")


def environment(settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> TextSource:
    """`CAUSERIE_NAME` for each declared `name` (exactly so written; other variables ignored)."""
    names = {env_name(name): name for name in settings_cls.model_fields}
    values = {names[key]: value for key, value in environ.items() if key in names}
    return TextSource(settings_cls, values, "the environment")


# An unknown name this close to a setting's (difflib's ratio) is taken for a misspelling of it. The
# variables plugins and tools read under the prefix (CAUSERIE_BRIDGE_URL, CAUSERIE_TEST_REDIS)
# are 0.67 at most from any setting; a letter missing, doubled or swapped is 0.9 and more.
MISSPELLING = 0.75


@dataclass(frozen=True)
class Unknown:
    """A `CAUSERIE_*` variable (or a causerie.toml key) that names no setting, and the setting
    it is probably a misspelling of, if any."""

    name: str
    closest: str | None

    def describe(self, where: str) -> str:
        guess = f"; did you mean {env_name(self.closest)}?" if self.closest else ""
        return f"{self.name} ({where}) is not a setting{guess}"


def closest_setting(settings_cls: type[BaseSettings], name: str) -> str | None:
    """The setting `name` (without the prefix, any case) is probably a misspelling of."""
    names = {field.upper(): field for field in settings_cls.model_fields}
    found = difflib.get_close_matches(name.upper(), names, n=1, cutoff=MISSPELLING)
    return names[found[0]] if found else None


def unknown_variables(
    settings_cls: type[BaseSettings], environ: Mapping[str, str]
) -> tuple[Unknown, ...]:
    """The variables under the prefix, in any case, that name no setting, sorted by name."""
    known = {env_name(name) for name in settings_cls.model_fields}
    return tuple(
        Unknown(key, closest_setting(settings_cls, key[len(ENV_PREFIX) :]))
        for key in sorted(environ)
        if key.upper().startswith(ENV_PREFIX) and key not in known
    )


def toml_file(settings_cls: type[BaseSettings], path: Path) -> TextSource:
    """`causerie.toml`: a key is a setting's name (`max_body`) or its variable's name as the
    environment takes it (`CAUSERIE_MAX_BODY`), nothing in between; values are written as in the
    environment (a TOML boolean or number is taken as its text)."""
    fields = settings_cls.model_fields
    variables = {env_name(name): name for name in fields}
    values: dict[str, str] = {}
    keys: dict[str, str] = {}  # setting -> the key it was written under
    raw = _read_toml(path) if path.exists() else {}
    for key, value in raw.items():
        name = key if key in fields else variables.get(key)
        if name is None:
            meant = key.lower().removeprefix("causerie_")
            if meant in fields:
                raise SettingsError(
                    f"{path}: {key!r} is not how a setting is written: "
                    f"write {meant!r} (or {env_name(meant)!r})"
                )
            closest = closest_setting(settings_cls, meant)
            guess = f"; did you mean {closest!r}?" if closest else ""
            raise SettingsError(f"{path}: unknown setting {key!r}{guess}")
        if name == "data_dir":
            raise SettingsError(f"{path}: data_dir cannot be set in the file that lives in it")
        if name in keys:  # under its name and its variable's: which one was meant?
            raise SettingsError(
                f"{path}: {name} is set twice, as {keys[name]!r} and as {key!r}: keep one"
            )
        keys[name] = key
        values[name] = _toml_text(path, name, value, fields[name])
    return TextSource(settings_cls, values, "causerie.toml")


def _toml_text(path: Path, name: str, value: Any, field: FieldInfo) -> str:
    """A TOML value as the environment would give it: a boolean or number as its text, a list
    setting's array of texts joined by commas. Any other array, a table or a date is refused
    naming the key (Python's text of it named no value the owner wrote)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and get_origin(field.annotation) in (tuple, frozenset):
        if all(isinstance(item, str) for item in value):
            return ",".join(value)
        raise SettingsError(
            f'{path}: {name}: an array of texts is expected, such as ["10.0.0.1", "10.0.0.2"] '
            '(or one text, comma-separated: "10.0.0.1, 10.0.0.2")'
        )
    raise SettingsError(
        f'{path}: {name} takes one value, written as text ("64KiB", "30d", "https://...")'
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None


class DataFolderSource(TextSource):
    """The settings kept in the data folder unless given: the SQLite database, and the secret
    key, created on first use. Asked last, it reads only what the sources above left unset."""

    def __init__(self, settings_cls: type[BaseSettings], data_dir: Path):
        super().__init__(settings_cls, {}, DEFAULT)
        self.data_dir = data_dir

    def __call__(self) -> dict[str, Any]:
        if "database_url" not in self.current_state:
            self.values["database_url"] = f"sqlite:///{self.data_dir / 'causerie.db'}"
        if "secret_key" not in self.current_state:
            try:
                self.values["secret_key"] = _secret_key(self.data_dir)
            except OSError as exc:
                raise unusable(self.data_dir, exc) from None
        return dict(self.values)


def _secret_key(data_dir: Path) -> str:
    """Read the data folder's secret key, creating it (mode 600) on first run.

    The key is written to a private temporary file and linked into place, so a process starting
    at the same moment sees either no key or a whole one, never a half-written file.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        temporary = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink()
    try:
        return parse_secret(path.read_text("ascii").strip())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not a usable secret key ({exc})") from None


def unusable(data_dir: Path, exc: OSError) -> SettingsError:
    where = f" ({exc.filename})" if exc.filename else ""
    return SettingsError(
        f"CAUSERIE_DATA_DIR: cannot use {data_dir}: {exc.strerror or exc}{where}; "
        "it must be a folder this account can read and write"
    )


def source_of(name: str, sources: tuple[TextSource, ...]) -> str:
    """Where the value of `name` came from: the first source that gave it, else the default."""
    return next((source.label for source in sources if name in source.values), DEFAULT)
