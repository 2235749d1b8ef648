"""Files for the tests of files in the chat: images with metadata to strip, and uploads."""

from __future__ import annotations

import io

from PIL import Image, ImageOps
from PIL.ExifTags import IFD
from PIL.PngImagePlugin import PngInfo

GPS = (48.0, 51.0, 24.0)
SECRET = b"causerie-secret-comment"


def jpeg_with_metadata(width: int = 640, height: int = 400) -> bytes:
    """A JPEG `width` x `height` as stored, to be shown rotated (EXIF orientation 6: 90 degrees
    clockwise), carrying a GPS position, a comment and XMP."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 4, height))  # a blue band on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera maker"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[1] = "N"
    gps[2] = GPS
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"
    image.save(buffer, "JPEG", exif=exif.tobytes(), comment=SECRET, xmp=xmp)
    return buffer.getvalue()


def png_with_metadata(width: int = 200, height: int = 100) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 128, 0, 128))
    info = PngInfo()
    info.add_text("Comment", SECRET.decode())
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    return buffer.getvalue()


def animated_gif_with_comment() -> bytes:
    frames = [Image.new("RGB", (40, 20), (80 * i, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], comment=SECRET, duration=50, loop=0
    )
    return buffer.getvalue()


def frames_of(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return int(getattr(image, "n_frames", 1))


def has_no_metadata(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        kept = {key for key in image.info if key not in ("dpi", "jfif", "jfif_version",
                "jfif_unit", "jfif_density", "progressive", "progression", "transparency",
                "loop", "duration", "background", "version", "gamma", "extension")}  # fmt: skip
        exif = image.getexif()
    return not kept and len(exif) == 0 and SECRET not in data and b"Exif" not in data


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).size


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_AS_PNG = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
