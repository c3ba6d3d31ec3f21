"""HTTP handlers for photos: upload (multipart, field ``file``) and fetch."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.runtime.access import Principal
from rounds.runtime.storage import access, service
from rounds.runtime.storage.models import Photo
from rounds.runtime.storage.store import PhotoStore, photo_store
from rounds.settings import Settings

# Room for the multipart framing around a photo of the largest size we accept, so that a
# photo just over the limit gets our 413 (which says the limit) rather than the server's.
_BODY_LIMIT = service.MAX_PHOTO_BYTES + 1024 * 1024


class PhotoOut(msgspec.Struct):
    id: str
    url: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None


def photo_out(store: PhotoStore, photo: Photo) -> PhotoOut:
    return PhotoOut(id=photo.id, url=store.url(photo.storage_key) or f"/api/photos/{photo.id}",
                    content_type=photo.content_type, size=photo.size, sha256=photo.sha256,
                    width=photo.width, height=photo.height)


class PhotoController(Controller):
    path = "/api/photos"
    tags = ("photos",)

    @post("/", status_code=201, request_max_body_size=_BODY_LIMIT,
          summary="Upload a photo (multipart, field `file`): JPEG, PNG, WebP or HEIC, "
                  "at most 10 MB; answers and evidence refer to it by the id returned",
          description="The image is decoded and stored re-encoded without metadata (EXIF, "
          "GPS); HEIC is stored as JPEG. 415 not an image type we accept, 422 not a readable "
          "image, 413 over 10 MB or over the pixel limit, 429 over the rate or the daily "
          "quota (with Retry-After).")
    async def upload(self, request: Request[Any, Any, Any], principal: Principal,
                     settings: Settings,
                     data: Annotated[dict[str, Any],
                                     Body(media_type=RequestEncodingType.MULTI_PART)]
                     ) -> PhotoOut:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the photo as a multipart form field named 'file'",
                               [Problem("/file", "a file is required", "required")])
        content = await upload.read()
        store = photo_store(settings.data_dir)
        return photo_out(store, await service.receive(
            request.app.state.sessions, store, principal, content, settings.uploads))

    @get("/{photo_id:str}", summary="A photo's bytes: for its uploader and whoever may see a "
                                    "submission or issue that uses it")
    async def fetch(self, db: AsyncSession, principal: Principal, settings: Settings,
                    photo_id: str) -> Response[bytes]:
        photo = await access.visible_photo(db, principal, photo_id)
        store = photo_store(settings.data_dir)
        try:
            content = await store.open(photo.storage_key)
        except FileNotFoundError:
            raise NotFound(f"the file of photo {photo_id} is missing") from None
        # A photo never changes (content-addressed), but who may see it can: private cache.
        return Response(content, media_type=photo.content_type, headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{photo.sha256}"', "X-Content-Type-Options": "nosniff"})


def handlers() -> list[Any]:
    return [PhotoController]
