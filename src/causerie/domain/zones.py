"""Time zones are IANA names (docs/api.md "Time zones"): `Europe/Paris`, `UTC`, `Etc/GMT-3`.

`ZoneInfo` opens more than those: any file of the server's zone folder, such as `localtime` (the
server's own zone, a link to /etc/localtime), `posixrules`, `posix/...` or `right/...`, whose
meaning depends on the machine. What a client names is looked up in the set of IANA names the
server knows (`zoneinfo.available_timezones`, which leaves `posix/`, `right/` and `posixrules`
out) without `localtime`; anything else, POSIX TZ strings (`UTC+3`, `<+03>-3`) included, is
refused by the caller with its own error.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Names in the zone folder that are no IANA zone (`available_timezones` keeps any that exist).
NOT_IANA = frozenset({"localtime"})


@cache
def iana_zones() -> frozenset[str]:
    """The IANA zone names the server's tzdata holds (read once: a walk of the zone folder)."""
    return frozenset(available_timezones() - NOT_IANA)


def iana_zone(name: str) -> ZoneInfo | None:
    """The zone named `name` if it is an IANA name the server knows, else None."""
    return ZoneInfo(name) if name in iana_zones() else None
