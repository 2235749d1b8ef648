"""Settings: one typed, immutable object built once at start (docs/settings.md).

Each setting is declared once, by area (server, limits, lifetimes, outbound, logs), with its
default, its type (which parses its text: units.py, addresses.py) and its documentation; it is
read from the command line, the environment (`CAUSERIE_*`) or `causerie.toml` in the data folder,
in that order of priority (sources.py, loading.py).
"""

from causerie.settings.addresses import IpNetwork
from causerie.settings.errors import SettingsError
from causerie.settings.file_store import S3Location
from causerie.settings.loading import load_settings
from causerie.settings.model import Settings
from causerie.settings.units import parse_duration, parse_rate, parse_size

__all__ = [
    "IpNetwork",
    "S3Location",
    "Settings",
    "SettingsError",
    "load_settings",
    "parse_duration",
    "parse_rate",
    "parse_size",
]
