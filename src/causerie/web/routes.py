"""What each `/api/v1` route requires, declared on the route and published in OpenAPI.

`x-causerie-access` is one of: `public` (no credential), `login` (any operator, acting on their
own account), `agent` / `admin` / `owner` (that role or above on the website the object belongs
to). The role tests walk the route table and read it (tests/test_api_roles.py).

`x-causerie-scope` is the API token scope the route needs: `read` for GET and for the few POST
routes that only read (they take a person's email in the body to keep it out of URLs and logs),
`write` for everything else.
"""

from __future__ import annotations

from typing import Literal

Access = Literal["public", "login", "agent", "admin", "owner"]
Scope = Literal["read", "write"]


def access(level: Access, scope: Scope | None = None) -> dict[str, object]:
    extra: dict[str, object] = {"x-causerie-access": level}
    if scope is not None:
        extra["x-causerie-scope"] = scope
    return extra
