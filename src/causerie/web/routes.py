"""What each `/api/v1` route requires, declared on the route and published in OpenAPI.

`x-causerie-access` is one of: `public` (no credential), `login` (any operator, acting on their
own account), `agent` / `admin` / `owner` (that role or above on the website the object belongs
to). The role tests walk the route table and read it (tests/test_api_roles.py).
"""

from __future__ import annotations

from typing import Literal

Access = Literal["public", "login", "agent", "admin", "owner"]


def access(level: Access) -> dict[str, object]:
    return {"x-causerie-access": level}
