"""/api/v1/attachments: files on records, sent from the field and read back as evidence."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from peacewatch.core.auth import EVIDENCE_ADDER_ROLES, User
from peacewatch.core.blobs import blob_store, chunks_of
from peacewatch.core.db import as_utc
from peacewatch.core.problems import NotFound, problem_responses
from peacewatch.core.tabular import content_disposition
from peacewatch.core.web import CurrentUser, PressOrOperations, RecordId, SessionDep, SettingsDep, require_roles
from peacewatch.evidence import media, service
from peacewatch.evidence.models import Attachment, RecordKind
from peacewatch.evidence.schemas import AttachedOut, AttachmentChange, AttachmentOut
from peacewatch.remains.registry import Context

router = APIRouter(prefix="/api/v1/attachments", tags=["evidence"], responses=problem_responses(401, 403, 404))
MULTIPART_OVERHEAD = 64 * 1024
MAX_UPLOAD_BYTES = media.LARGEST + MULTIPART_OVERHEAD
# the roles that bring evidence from the field or the morgue; which records each may add to is the service's rule
EvidenceAdder = Annotated[User, Depends(require_roles(*EVIDENCE_ADDER_ROLES))]
Key = Annotated[str, Form(min_length=1, max_length=64, description="The record's id, or its number (bodies, missing persons)")]


EXIF_FIELDS = {"exif_clock": "", "exif_taken_at": None, "exif_lat": None, "exif_lon": None}


def _out(attachment: Attachment, user: User, model: type[AttachmentOut] = AttachmentOut, **extra: Any) -> Any:
    waited_from = attachment.kept_at or attachment.captured_at  # in the outbox; a file sent without it: since it was taken
    delay = (attachment.added_at - waited_from).total_seconds() if waited_from else None
    base = f"/api/v1/attachments/{attachment.id}"
    return model.model_validate({
        **{column: getattr(attachment, column) for column in AttachmentOut.model_fields if hasattr(attachment, column)},
        # a photo's own time and place are the mission's: a side reads the file's copy without them, and not here either
        **(EXIF_FIELDS if service.copy_for(user) else {}),
        "sync_delay_s": delay, "content_url": f"{base}/content",
        "thumbnail_url": f"{base}/thumbnail" if attachment.thumbnail_sha256 else None,
        "public_url": f"{base}/public-copy" if attachment.public else None, **extra,
    })


@router.post("", response_model=AttachedOut, status_code=201, responses=problem_responses(409, 413, 507),
             summary="Attach a photo, video or PDF to a record; checked against the SHA-256 the device computed")
def attach(
    response: Response, session: SessionDep, settings: SettingsDep, user: EvidenceAdder,
    record_kind: Annotated[RecordKind, Form(description="The kind of record the file is evidence for")],
    record_key: Key,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or HEIC photo; MP4, QuickTime or WebM video; PDF")],
    sha256: Annotated[str | None, Form(min_length=64, max_length=64, description="The file's SHA-256 as the device computed "
                                       "it before sending: a file that arrives different is refused")] = None,
    caption: Annotated[str, Form(max_length=2000)] = "",
    captured_at: Annotated[datetime | None, Form(description="When the device took or attached it (its clock)")] = None,
    kept_at: Annotated[datetime | None, Form(description="When the device kept it in its outbox, by the server's clock "
                                             "as the device knows it: how long it waited there")] = None,
    copy_of: Annotated[str | None, Form(min_length=64, max_length=64, description="This file is a smaller copy sent ahead "
                                        "of a large original: the original's SHA-256 (the original follows)")] = None,
    client_id: Annotated[str | None, Form(max_length=100, description="The device's own name for the file")] = None,
    public: Annotated[bool, Form(description="May appear in public copies, without its metadata (a public record's only)")] = False,
) -> Any:
    arriving = service.Arriving(stream=file.file, filename=file.filename or "", sha256=sha256, caption=caption,
                                captured_at=captured_at, kept_at=kept_at, copy_of=copy_of, client_id=client_id, public=public)
    attachment, created = service.attach(session, blob_store(settings), media.media_work(settings), Context.of(settings),
                                         user, record_kind, record_key, arriving)
    if not created:
        response.status_code = 200
    return _out(attachment, user, AttachedOut, already_attached=not created)


@router.get("", response_model=list[AttachmentOut], summary="The files attached to a record")
def list_attachments(session: SessionDep, user: CurrentUser, record_kind: RecordKind,
                     record_key: Annotated[str, Query(min_length=1, max_length=64)]) -> Any:
    return [_out(a, user) for a in service.attachments_of(session, user, record_kind, record_key)]


@router.get("/arrivals", response_class=JSONResponse,
            responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}, "description": "GeoJSON"}},
            summary="Files that arrived on incidents in a window, placed where the incident happened (for the map)")
def list_arrivals(session: SessionDep, user: CurrentUser, since: datetime, until: datetime,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> JSONResponse:
    start, end = as_utc(since, field="query.since"), as_utc(until, field="query.until")
    assert start is not None and end is not None
    found = service.arrivals(session, user, start, end, limit)
    features = [{
        "type": "Feature", "id": attachment.id, "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
        "properties": {**_out(attachment, user).model_dump(mode="json"), "incident_id": incident.id,
                       "incident_type": incident.type.value, "subtype": incident.subtype.value if incident.subtype else None},
    } for attachment, incident in found]
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type="application/geo+json")


@router.get("/{attachment_id}", response_model=AttachmentOut)
def read_attachment(attachment_id: RecordId, session: SessionDep, user: CurrentUser) -> Any:
    return _out(service.get_attachment(session, user, attachment_id), user)


@router.patch("/{attachment_id}", response_model=AttachmentOut, responses=problem_responses(422),
              summary="Mark a photo of a public record for the public copies (the bulletin), or take the mark back")
def change_attachment(attachment_id: RecordId, change: AttachmentChange, session: SessionDep, user: PressOrOperations) -> Any:
    return _out(service.publish(session, user, attachment_id, change.public), user)


def _streamed(handle: Any) -> Iterator[bytes]:
    with handle:
        yield from chunks_of(handle)


# a file from the field is evidence, never a page: a browser runs none of its scripts and follows none of its
# links (an SVG or HTML smuggled in a PDF), and it never guesses another type than the one given
FILE_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin"}


def _file_answer(handle: Any, media_type: str, headers: dict[str, str]) -> Response:
    return StreamingResponse(_streamed(handle), media_type=media_type, headers=FILE_HEADERS | headers)


def _given_name(attachment: Attachment, media_type: str) -> str:
    """The file's name as given to the reader: a copy in another format gets that format's extension."""
    name = attachment.filename or f"attachment-{attachment.id}"
    if media_type != attachment.media_type:
        name = name.rsplit(".", 1)[0] + media.EXTENSIONS.get(media_type, "")
    return name


@router.get("/{attachment_id}/content", response_class=Response,
            responses={200: {"content": {media_type: {} for media_type in media.LIMITS}, "description": "The file"},
                       **problem_responses(409, 507)},
            summary="The file: as stored (with its SHA-256 in Repr-Digest) for the mission, a copy without metadata for a side")
def attachment_content(attachment_id: RecordId, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> Response:
    attachment = service.get_attachment(session, user, attachment_id)
    clean = service.copy_for(user)
    handle, media_type = service.content(blob_store(settings), media.media_work(settings), attachment, clean=clean)
    shown = "inline" if media_type in media.IMAGES else "attachment"  # a video or a PDF is saved, not opened in the page
    headers = {"Cache-Control": "private, no-store", **content_disposition(_given_name(attachment, media_type), shown)}
    if not clean:  # the stored bytes: the hash they must have, for the client to check
        headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(attachment.sha256)).decode()}:"
        headers["ETag"] = f'"{attachment.sha256}"'
    return _file_answer(handle, media_type, headers)


@router.get("/{attachment_id}/public-copy", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "The photo re-encoded without metadata"},
                       **problem_responses(409, 507)},
            summary="A photo marked public, as anyone may read it (no sign-in): re-encoded without EXIF")
def public_copy(attachment_id: RecordId, session: SessionDep, settings: SettingsDep) -> Response:
    attachment = service.public_file(session, attachment_id)  # a photo: its copy is re-encoded, or refused
    handle, media_type = service.content(blob_store(settings), media.media_work(settings), attachment, clean=True)
    return _file_answer(handle, media_type, {"Cache-Control": "no-cache"})


@router.get("/{attachment_id}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "A small JPEG without metadata"}})
def attachment_thumbnail(attachment_id: RecordId, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> Response:
    attachment = service.get_attachment(session, user, attachment_id)
    if attachment.thumbnail_sha256 is None:
        raise NotFound("attachment {attachment_id} has no thumbnail (not a photo)", attachment_id=attachment_id)
    handle = blob_store(settings).open(attachment.thumbnail_sha256)
    return _file_answer(handle, "image/jpeg", {"Cache-Control": "private, max-age=86400"})
