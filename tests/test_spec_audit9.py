"""Contracts of SPEC.md's second wave checked from outside (ninth outside audit, branch audit9,
2026-12-08): files, Web Push and the installable inbox, background work.

A real `causerie serve` (data folder and S3 through moto), httpx, raw sockets and the `causerie`
command found these (each test fails before its fix): a JPEG a phone writes with a second image
in it (MPO: the multi-picture format of portrait and stereo modes) was a 500 (Pillow has no
writer for several JPEG frames); a push subscription's `p256dh` of 65 bytes starting with 0x04
but no point of P-256 was stored, and every push to it then failed at the encryption, retried
eight times; an endpoint (or a webhook's URL) with a port out of 1-65535 was stored, and every
send failed; a file name kept C1 control characters (the bytes a non-UTF-8 name decodes to) and
the bidi marks U+200E, U+200F and U+061C; two `client_id` parts in one upload were taken, the last
one winning; a `Content-Type` that only starts with `multipart/form-data` was read as an empty
form; NAT64 and 6to4 addresses of loopback or link-local IPv4 ones were public targets, at
subscription and at each push; an endpoint on an IPv6 address was stored, and no push to it could
ever be signed; a thumbnail (WebP) was served under the name of its image (`photo.jpg`).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from causerie.domain.push import PushSubscription
from causerie.push.webpush import WebPushSender
from causerie.settings import Settings
from tests.conftest import Harness, Site
from tests.files_support import GPS, has_no_metadata
from tests.support import Visitor, new_visitor
from tests.test_push import Browser, b64

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

UPLOAD = "/api/widget/v1/session/files"
SUBSCRIPTIONS = "/api/v1/push/subscriptions"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(upload_rate="600/m", network_upload_rate="600/m")


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def upload(http: httpx.Client, who: Visitor, data: bytes, name: str = "a.bin") -> httpx.Response:
    return http.post(UPLOAD, headers=who.headers(), files={"file": (name, data, "image/png")})


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    return error


# -- files: images -------------------------------------------------------------------------------


def mpo_with_gps() -> bytes:
    """A JPEG with a second image after the first (MPO), GPS in its EXIF: what phones write."""
    from PIL.ExifTags import IFD

    exif = Image.Exif()
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[1], gps[2] = "N", GPS
    frames = [Image.new("RGB", (400, 300), (200, 30 * i, 30)) for i in range(2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:], exif=exif.tobytes())
    return buffer.getvalue()


def test_a_jpeg_with_a_second_picture_is_kept_as_its_first_without_metadata(
    http: httpx.Client, site: Site
) -> None:
    """Was a 500: Pillow reads such a JPEG as two frames and cannot write JPEG frames."""
    who = new_visitor(http, site.website_id)
    original = mpo_with_gps()
    assert not has_no_metadata(original)
    sent = upload(http, who, original, "portrait.jpg")
    assert sent.status_code == 201, sent.text
    file = sent.json()["message"]["file"]
    assert file["content_type"] == "image/jpeg" and "thumbnail_url" in file
    stored = http.get(file["url"], headers=who.headers())
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert has_no_metadata(stored.content) and b"MPF" not in stored.content
    with Image.open(io.BytesIO(stored.content)) as image:
        assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
        assert image.size == (400, 300)
    # Its thumbnail is a WebP, named so (it was named portrait.jpg: saved, a WebP named .jpg).
    thumbnail = http.get(file["thumbnail_url"], headers=who.headers())
    assert thumbnail.headers["content-type"] == "image/webp"
    assert thumbnail.headers["content-disposition"].startswith('inline; filename="portrait.webp"')


# -- files: names and multipart bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("re\u0080\u009fport.txt", "report.txt"),  # C1 controls: a non-UTF-8 name's bytes
        ("\u200fcv\u200e.txt", "cv.txt"),  # right-to-left and left-to-right marks
        ("\u061cfile.txt", "file.txt"),  # the Arabic letter mark
    ],
)
def test_a_file_name_keeps_no_control_or_bidi_character(
    http: httpx.Client, site: Site, sent: str, shown: str
) -> None:
    who = new_visitor(http, site.website_id)
    made = upload(http, who, b"plain words\n", sent)
    assert made.status_code == 201, made.text
    assert made.json()["message"]["file"]["name"] == shown
    assert made.json()["message"]["body"] == shown


BOUNDARY = "audit9-boundary"


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    """A multipart/form-data body of `(name, data, filename)` parts, as a client writes it."""
    body = b""
    for name, data, filename in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(http: httpx.Client, who: Visitor, body: bytes) -> httpx.Response:
    headers = {**who.headers(), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return http.post(UPLOAD, headers=headers, content=body)


def test_two_client_ids_in_one_upload_are_refused_naming_client_id(
    http: httpx.Client, site: Site
) -> None:
    """The last one was taken: a retry sending them in the other order was a second message."""
    who = new_visitor(http, site.website_id)
    body = multipart(
        ("file", b"words\n", "a.txt"), ("client_id", b"one", None), ("client_id", b"two", None)
    )
    error = error_of(post_multipart(http, who, body), 422)
    assert error["code"] == "invalid_client_id"
    assert error["message"].startswith("client_id: ")
    page = http.get("/api/widget/v1/session/messages", headers=who.headers())
    assert page.status_code in (200, 404) and "words" not in page.text


@pytest.mark.parametrize("media_type", ["multipart/form-dataX", "multipart/form-data-x"])
def test_a_media_type_that_only_starts_like_multipart_form_data_is_415(
    http: httpx.Client, site: Site, media_type: str
) -> None:
    """It was read as a form without parts: 422 `missing_file`, though the part was there."""
    who = new_visitor(http, site.website_id)
    headers = {**who.headers(), "Content-Type": f"{media_type}; boundary={BOUNDARY}"}
    sent = http.post(UPLOAD, headers=headers, content=multipart(("file", b"words\n", "a.txt")))
    assert error_of(sent, 415)["code"] == "unsupported_media_type"


# -- push subscriptions --------------------------------------------------------------------------


def subscription(endpoint: str, p256dh: str | None = None) -> dict[str, object]:
    browser = Browser()
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh or browser.p256dh,
            "auth": b64(browser.auth)}}  # fmt: skip


def test_a_p256dh_that_is_no_point_of_the_curve_is_refused(http: httpx.Client, site: Site) -> None:
    """65 bytes starting with 0x04 were enough; each push to it then failed eight times."""
    off_curve = b64(b"\x04" + bytes(range(1, 65)))
    made = http.post(
        SUBSCRIPTIONS,
        headers=owner(site),
        json=subscription("https://push.example/send/1", off_curve),
    )
    error = error_of(made, 422)
    assert error["code"] == "invalid_subscription"
    assert error["message"].startswith("keys.p256dh: ")
    assert http.get(SUBSCRIPTIONS, headers=owner(site)).json()["subscriptions"] == []


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_an_endpoint_or_webhook_with_a_port_out_of_range_is_refused(
    http: httpx.Client, site: Site, port: str
) -> None:
    made = http.post(
        SUBSCRIPTIONS,
        headers=owner(site),
        json=subscription(f"https://push.example:{port}/send/1"),
    )
    error = error_of(made, 422)
    assert error["code"] == "invalid_subscription"
    assert error["message"] == "endpoint: the port must be a number from 1 to 65535"
    hooks = f"/api/v1/websites/{site.website_id}/webhooks"
    hooked = http.post(
        hooks,
        headers=owner(site),
        json={"url": f"https://hooks.example:{port}/in", "events": ["message.created"]},
    )
    error = error_of(hooked, 422)
    assert error["code"] == "invalid_webhook_url"
    assert error["message"] == "url: the port must be a number from 1 to 65535"
    assert http.get(SUBSCRIPTIONS, headers=owner(site)).json()["subscriptions"] == []
    assert http.get(hooks, headers=owner(site)).json()["webhooks"] == []


@pytest.mark.parametrize("host", ["[64:ff9b::7f00:1]", "[2002:a9fe:a9fe::1]"])
def test_an_ipv6_address_carrying_a_private_ipv4_one_is_refused(
    http: httpx.Client, site: Site, host: str
) -> None:
    """NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses of 127.0.0.1 and 169.254.169.254
    were taken as public: a gateway sends them on to the IPv4 address they carry."""
    made = http.post(SUBSCRIPTIONS, headers=owner(site), json=subscription(f"https://{host}/1"))
    assert error_of(made, 422)["code"] == "invalid_subscription"
    hooks = f"/api/v1/websites/{site.website_id}/webhooks"
    hook = {"url": f"https://{host}/in", "events": ["message.created"]}
    hooked = http.post(hooks, headers=owner(site), json=hook)
    assert error_of(hooked, 422)["code"] == "webhook_target_refused"
    assert http.get(SUBSCRIPTIONS, headers=owner(site)).json()["subscriptions"] == []
    assert http.get(hooks, headers=owner(site)).json()["webhooks"] == []


def test_an_ipv6_literal_endpoint_is_refused_as_no_push_can_be_signed_for_it(
    http: httpx.Client, site: Site
) -> None:
    """It was stored, then every push failed at the signature (py_vapid takes no `[...]` host in
    the JWT's `aud`: "Missing 'aud' from claims"), eight times."""
    made = http.post(
        SUBSCRIPTIONS, headers=owner(site), json=subscription("https://[2606:4700::1111]/send/1")
    )
    error = error_of(made, 422)
    assert error["code"] == "invalid_subscription"
    assert error["message"].startswith("endpoint: an IPv6 address cannot be signed for")
    assert http.get(SUBSCRIPTIONS, headers=owner(site)).json()["subscriptions"] == []


def test_a_push_to_a_nat64_address_of_loopback_is_never_sent(harness: Harness) -> None:
    """The sender's own check at each push (a name's addresses, or a subscription stored before
    the rule) took `64:ff9b::7f00:1` for public."""
    browser = Browser()
    stored = PushSubscription(
        id="s", operator_id="o", endpoint="https://[64:ff9b::7f00:1]/send/1",
        p256dh=browser.p256dh, auth=b64(browser.auth), device="Browser",
        created_at=harness.clock.now(),
    )  # fmt: skip
    sender = WebPushSender("secret", contact="https://causerie.example", allow_private=False)
    outcome = harness.run(sender.send(stored, b"{}", 60))
    assert outcome.refused and outcome.gone
