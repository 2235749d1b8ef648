"""Images of the chat, cleaned before they are stored (docs/privacy.md "Files").

Pillow decodes each PNG, JPEG, GIF or WebP upload, applies its EXIF orientation and encodes it
again without any metadata: no EXIF (above all no GPS position), no XMP, no comment, no colour
profile; what is stored and served is pixels only. An image larger than `THUMBNAIL_SIZE` also
gets a WebP thumbnail. Images of more than `MAX_PIXELS` pixels are refused before they are
decoded (decompression bombs). Synchronous and CPU-bound: callers run it in a worker thread
(`asyncio.to_thread`), and at most `PARALLEL` run at once per process, which bounds the memory
decoded images take. Pillow is imported at the first image (a server that receives none does
without it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from io import BytesIO
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

MAX_PIXELS = 40_000_000
"""The most pixels an image (all its frames together) may have: about 8000 x 5000."""
THUMBNAIL_SIZE = 320
THUMBNAIL_TYPE = "image/webp"
PARALLEL = 2

_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# The formats whose frames are an animation, kept whole. A JPEG's further frames (MPO, the
# multi-picture format phones write for portrait or stereo shots: depth maps, previews) are not
# shown by browsers, and JPEG has no writer for them: only the first picture is kept.
_ANIMATED = frozenset({"PNG", "GIF", "WEBP"})
_slots = threading.BoundedSemaphore(PARALLEL)
_TOO_MANY = f"the image has too many pixels: at most {MAX_PIXELS} are accepted (all frames)"


class ImageRefused(Exception):
    """The upload claims by its bytes to be an image but cannot be kept as one."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


@dataclass(frozen=True)
class Cleaned:
    width: int
    height: int
    thumbnail: bytes | None  # WebP, when the image is larger than the thumbnail


def clean(source: IO[bytes], content_type: str, out: IO[bytes]) -> Cleaned:
    """Write to `out` the image `source` holds (of `content_type`, as sniffed), oriented and
    without metadata; refuse (`ImageRefused`) what is not a whole image of that type or is too
    large."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    # Pillow's own guard, at our limit: whatever path decodes an image refuses a bomb.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    fmt = _FORMATS[content_type]
    with _slots:
        try:
            with Image.open(source, formats=[fmt]) as image:
                frames = getattr(image, "n_frames", 1) if fmt in _ANIMATED else 1
                width, height = image.size
                if width * height * frames > MAX_PIXELS:
                    raise ImageRefused(_TOO_MANY, too_large=True)
                if frames > 1:
                    _save_animation(image, fmt, out)
                    first = image.copy()
                else:
                    image.load()
                    first = _stripped(ImageOps.exif_transpose(image))
                    _save(first, fmt, out)
                thumbnail = _thumbnail(first)
                return Cleaned(first.width, first.height, thumbnail)
        except ImageRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own guard, met before ours when its header is read (a warning raised as
            # an error where warnings are errors).
            raise ImageRefused(_TOO_MANY, too_large=True) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRefused(f"the image cannot be read: {exc}") from None


def _stripped(image: Image.Image) -> Image.Image:
    """The pixels of `image` with none of what came with them (EXIF, XMP, comments, profiles)."""
    image.info = {}
    return image


def _save(image: Image.Image, fmt: str, out: IO[bytes]) -> None:
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:
        image.save(out, fmt, optimize=True)


def _save_animation(image: Image.Image, fmt: str, out: IO[bytes]) -> None:
    from PIL import ImageSequence

    frames = [_stripped(frame.copy()) for frame in ImageSequence.Iterator(image)]
    durations = image.info.get("duration", 100)
    loop = image.info.get("loop", 0)
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=durations, loop=loop)


def _thumbnail(image: Image.Image) -> bytes | None:
    if max(image.size) <= THUMBNAIL_SIZE:
        return None
    small = image.copy()
    if small.mode not in ("RGB", "RGBA"):
        small = small.convert("RGBA")
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = BytesIO()
    _stripped(small).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()
