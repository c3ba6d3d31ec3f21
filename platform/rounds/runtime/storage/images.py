"""Uploaded images decoded for real, checked and re-encoded (Pillow): no DB, no web.

An upload is only a photo if it decodes: a PNG signature in front of random bytes is not a
PNG. Before any pixel is decoded, the dimensions in the header are checked against a pixel
limit, so a small file that would unpack into gigabytes (a decompression bomb) is refused
cheaply. What is stored is a new encoding of the decoded pixels, turned upright by the EXIF
orientation: EXIF (GPS position, device, time), XMP, comments and text chunks are left
behind; only the colour profile is kept, so colours look the same. HEIC, which most browsers
cannot show, is stored as JPEG.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import pillow_heif
import puremagic
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from rounds.errors import RoundsError

pillow_heif.register_heif_opener()

ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx")
# Pillow format names allowed for each sniffed type (MPO: the multi-picture JPEG of phones).
_FORMATS = {"image/jpeg": ["JPEG", "MPO"], "image/png": ["PNG"], "image/webp": ["WEBP"],
            "image/heic": ["HEIF"], "image/heif": ["HEIF"]}
JPEG_QUALITY = 88
# Decoding a large photo takes a few hundred MB at its peak: at most two at a time per
# process, whatever the number of requests.
_DECODING = threading.BoundedSemaphore(2)


class UnsupportedPhotoType(RoundsError, code="unsupported_photo_type", status=415,
                           title="Not a photo type we accept"):
    """The bytes are not a JPEG, PNG, WebP or HEIC image, whatever the upload claims."""


class PhotoUnreadable(RoundsError, code="photo_unreadable", status=422,
                      title="The photo cannot be read"):
    """It starts like an accepted image but does not decode completely."""


class PhotoTooManyPixels(RoundsError, code="photo_too_many_pixels", status=413,
                         title="Photo too large in pixels"):
    """Its header promises more pixels than we decode (a decompression bomb, or near one)."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The content type of an accepted photo, from its first bytes; None for anything else."""
    try:
        found = puremagic.magic_string(data[:4096])
    except (puremagic.PureError, ValueError):
        return None
    for match in found:
        mime = match.mime_type
        if mime in ACCEPTED_TYPES:
            if mime == "image/heif" and data[8:12] in _HEIC_BRANDS:
                return "image/heic"
            return str(mime)
    return None


def _unreadable(kind: str) -> PhotoUnreadable:
    name = kind.removeprefix("image/").upper()
    return PhotoUnreadable(f"this file starts like a {name} image but is not one that can be "
                           "read (damaged, cut short or not an image); take the photo again")


def clean(data: bytes, *, max_pixels: int) -> CleanImage:
    """Decode ``data``, check it, and encode it again without metadata.

    Raises ``UnsupportedPhotoType`` (not JPEG, PNG, WebP or HEIC), ``PhotoTooManyPixels``
    (more than ``max_pixels``, found from the header before decoding) or ``PhotoUnreadable``
    (it does not decode).
    """
    kind = sniff(data)
    if kind is None:
        raise UnsupportedPhotoType("only JPEG, PNG, WebP and HEIC photos are accepted "
                                   "(the type is read from the file's content, not its name)")
    with _DECODING:
        return _clean(data, kind, max_pixels)


def _clean(data: bytes, kind: str, max_pixels: int) -> CleanImage:
    try:
        im = Image.open(io.BytesIO(data), formats=_FORMATS[kind])
        width, height = im.size  # from the header: nothing decoded yet
        if width * height > max_pixels:
            raise _too_many(width, height, max_pixels)
        im.load()  # the whole image: a truncated or corrupt one fails here
        upright = ImageOps.exif_transpose(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise _unreadable(kind) from e
    if width <= 0 or height <= 0:
        raise _unreadable(kind)
    return _encode(upright, kind, im.info.get("icc_profile"))


def _too_many(width: int, height: int, max_pixels: int) -> PhotoTooManyPixels:
    return PhotoTooManyPixels(
        f"this image is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
        f"at most {max_pixels / 1e6:g} megapixels are accepted (a phone photo has 12 to 50)")


def _encode(im: Image.Image, kind: str, icc: bytes | None) -> CleanImage:
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if kind == "image/png":
        if im.mode not in ("1", "L", "LA", "RGB", "RGBA", "I;16"):
            im = im.convert("RGBA" if _has_alpha(im) else "RGB")
        elif im.mode in ("L", "RGB") and "transparency" in im.info:
            im = im.convert("RGBA")
        _bare(im).save(out, "PNG", compress_level=6, **extra)
        content_type = "image/png"
    elif kind == "image/webp":
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if _has_alpha(im) else "RGB")
        _bare(im).save(out, "WEBP", quality=JPEG_QUALITY, **extra)
        content_type = "image/webp"
    else:  # JPEG, and HEIC stored as JPEG (browsers show it)
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        _bare(im).save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **extra)
        content_type = "image/jpeg"
    return CleanImage(out.getvalue(), content_type, im.width, im.height)


def _bare(im: Image.Image) -> Image.Image:
    # Encoders may copy EXIF or XMP from ``info``: they get nothing to copy.
    im.info = {}
    return im


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info


# A truncated file is an error, not a half-grey photo.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's own global limit would refuse a bomb without telling its size; ``_clean`` checks
# every image against the configured limit before decoding instead.
Image.MAX_IMAGE_PIXELS = None
