"""An upload whose body ends before its closing multipart boundary (docs/api.md, "Files"): the
body is incomplete, 400 `invalid_multipart` saying so, and nothing is stored. It answered 422
`missing_file`, as if the client had left the part out."""

from __future__ import annotations

import httpx

from tests.conftest import ORIGIN, Harness, Site
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session

BOUNDARY = "causerie-test-boundary"
WHOLE = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="client_id"\r\n\r\n'
    "c1\r\n"
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    "Content-Type: text/plain\r\n\r\n"
    "hello there\r\n"
    f"--{BOUNDARY}--\r\n"
).encode()


def _post(http: httpx.Client, token: str, body: bytes) -> httpx.Response:
    return http.post(
        "/api/widget/v1/session/files",
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Origin": ORIGIN,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )


def test_a_body_cut_before_its_closing_boundary_is_told_incomplete(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    cuts = {
        "in the file's bytes": WHOLE[: WHOLE.index(b"there")],
        "after the file's bytes": WHOLE[: WHOLE.rindex(b"\r\n--")],
        "in the closing boundary": WHOLE[: WHOLE.rindex(b"--\r\n")],
        "after the first part": WHOLE[: WHOLE.index(b"c1\r\n") + 4],
    }
    for where, body in cuts.items():
        error = error_of(_post(http, token, body), 400)
        assert error["code"] == "invalid_multipart", (where, error)
        assert "ends before its closing boundary" in error["message"], (where, error)
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT count(*) FROM files") == 0

    # The whole body, and the same with an epilogue after the closing boundary, are taken.
    assert _post(http, token, WHOLE).status_code == 201
    again = _post(http, token, WHOLE.replace(b"c1", b"c2") + b"an epilogue\r\n")
    assert again.status_code == 201, again.text
    # A body with no `file` part at all, but whole, is still `missing_file`.
    no_file = WHOLE[: WHOLE.index(b"c1\r\n") + 4] + f"--{BOUNDARY}--\r\n".encode()
    assert error_of(_post(http, token, no_file), 422)["code"] == "missing_file"
