"""Attaching a file to a record, once, with its hash proven; reading it back as the reader may.

The order of the steps is the point: the file is streamed to a scratch file and hashed, checked against the
hash the device computed before sending (a file changed on the way is refused), told by its content (type and
size), read (a photo's EXIF, a thumbnail) and only then named by its hash in the store, before the database
row that names it commits. A resend of the same file to the same record finds it attached: the unique
constraint on (record, hash) decides, across processes. A body's file is also a link of its chain of custody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pyproj import Geod
from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peacewatch.core.auth import INTERNAL_ROLES, User
from peacewatch.core.blobs import SHA256_HEX, BlobStore, StoreFull, Swept, TooLarge, chunks_of
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.i18n import N_, Sentence
from peacewatch.core.problems import Conflict, InsufficientStorage, Invalid, NotFound
from peacewatch.core.visibility import where_visible
from peacewatch.evidence import media
from peacewatch.evidence.models import Attachment, RecordKind
from peacewatch.evidence.records import find_holder, held_publicly, may_attach
from peacewatch.incidents.models import Incident
from peacewatch.remains.custody_chain import EVIDENCE_NOTE, append_custody, where_held
from peacewatch.remains.models import CustodyKind
from peacewatch.remains.registry import Context

GEOD = Geod(ellps="WGS84")
STORE_FULL = N_("the file store is full: nothing was stored; tell the administrator, then send it again")


@dataclass(frozen=True)
class Arriving:
    """A file as a device sends it, with what it says of it."""

    stream: BinaryIO
    filename: str = ""
    sha256: str | None = None  # computed on the device before sending
    caption: str = ""
    captured_at: datetime | None = None
    kept_at: datetime | None = None  # when it entered the device's outbox: how long it waited there
    copy_of: str | None = None  # a smaller copy sent ahead of its original: the original's SHA-256
    client_id: str | None = None
    public: bool = False


def attach(session: Session, blobs: BlobStore, work: media.MediaWork, ctx: Context, user: User, kind: RecordKind, key: str,
           arriving: Arriving) -> tuple[Attachment, bool]:
    """The attachment and True, or the one already holding these bytes on this record and False (a resend)."""
    holder = find_holder(session, user, kind, key)
    may_attach(user, holder)
    declared = arriving.sha256.lower() if arriving.sha256 else None
    if declared is not None and not SHA256_HEX.match(declared):
        raise Invalid("is not a SHA-256 (64 hexadecimal digits)", field="sha256")
    if arriving.public and not holder.public:
        raise Invalid("only a public record's files can be made public", field="public")
    captured_at = ctx.instant(arriving.captured_at, "captured_at") if arriving.captured_at is not None else None
    kept_at = ctx.instant(arriving.kept_at, "kept_at") if arriving.kept_at is not None else None
    copy_of = arriving.copy_of.lower() if arriving.copy_of else None
    if copy_of is not None and not SHA256_HEX.match(copy_of):
        raise Invalid("is not a SHA-256 (64 hexadecimal digits)", field="copy_of")
    if declared is not None:  # a resend of a file already on the record: the stored copy stands, nothing is read again
        existing = _attached(session, holder.kind, holder.key, declared)
        if existing is not None:
            return existing, False
    try:
        incoming = blobs.receive(chunks_of(arriving.stream), max_bytes=media.LARGEST)
    except TooLarge as exc:
        raise Invalid("the file is over {limit} MiB", field="file", limit=exc.limit // media.MiB) from None
    except StoreFull:
        raise InsufficientStorage(STORE_FULL) from None
    with incoming:
        if declared is not None and incoming.sha256 != declared:
            raise Invalid("the file changed on the way: it arrived with SHA-256 {arrived}, the device sent {declared}; "
                          "nothing was stored, send it again", field="sha256", arrived=incoming.sha256, declared=declared)
        if incoming.size == 0:
            raise Invalid("the file is empty", field="file")
        media_type = media.sniffed_type(incoming.head)
        if media_type is None:
            raise Invalid("its content is not a photo (JPEG, PNG, WebP, HEIC), a video (MP4, QuickTime, WebM) or a PDF",
                          field="file")
        if incoming.size > media.LIMITS[media_type]:
            raise Invalid("a {media_type} file may be at most {limit} MiB", field="file", media_type=media_type,
                          limit=media.LIMITS[media_type] // media.MiB)
        if arriving.public and media_type not in media.IMAGES:
            raise Invalid("only photos can be made public: their public copy is re-encoded without metadata", field="public")
        facts, small = media.PhotoFacts(), None
        if media_type in media.IMAGES:
            facts, small = _photo(blobs, work, incoming.path)
        incoming.keep()  # named before the row that names it commits: a committed row never lacks its file
    try:
        thumbnail_sha256 = blobs.put_bytes(small) if small else None
    except StoreFull:  # the file just kept is named by no row: the sweep takes it (sweep_store)
        raise InsufficientStorage(STORE_FULL) from None
    with transaction(session, user.username):
        existing = _attached(session, holder.kind, holder.key, incoming.sha256)
        if existing is not None:
            return existing, False
        attachment = Attachment(
            record_kind=holder.kind, record_key=holder.key, sha256=incoming.sha256, size=incoming.size, media_type=media_type,
            filename=arriving.filename[:200], caption=arriving.caption, added_by=user.username, added_at=utcnow(),
            captured_at=captured_at, kept_at=kept_at, copy_of_sha256=copy_of, client_id=arriving.client_id,
            exif_clock=facts.clock, exif_taken_at=facts.taken_at,
            exif_lat=facts.lat, exif_lon=facts.lon, thumbnail_sha256=thumbnail_sha256, public=arriving.public)
        try:
            with session.begin_nested():  # a resend racing this one on another process: the database keeps one
                session.add(attachment)
                session.flush()
        except IntegrityError:
            existing = _attached(session, holder.kind, holder.key, incoming.sha256)
            if existing is None:
                raise
            return existing, False
        if holder.body is not None:
            append_custody(session, ctx, holder.body, user, kind=CustodyKind.evidence, at=attachment.added_at,
                           place=where_held(session, holder.body), released_by="", received_by="",
                           note=EVIDENCE_NOTE.format(sha256=attachment.sha256, media_type=media_type,
                                                     filename=attachment.filename or "unnamed"))
    return attachment, True


def _photo(blobs: BlobStore, work: media.MediaWork, path: Path) -> tuple[media.PhotoFacts, bytes | None]:
    """A photo's EXIF facts and thumbnail, read by a media worker; refused (422) above the pixel budget or the
    worker's bounds; a photo no decoder makes sense of is kept as it came, without either."""
    try:
        thumbnail = blobs.scratch()
    except StoreFull:
        raise InsufficientStorage(STORE_FULL) from None
    try:
        facts = work.inspect(path, thumbnail)
        return (facts, thumbnail.read_bytes() or None) if facts is not None else (media.PhotoFacts(), None)
    except media.Unreadable as exc:
        raise Invalid("the photo was refused: {reason}; nothing was stored", field="file", reason=exc.reason) from None
    finally:
        thumbnail.unlink(missing_ok=True)


def _attached(session: Session, kind: RecordKind, key: str, sha256: str) -> Attachment | None:
    return session.scalar(select(Attachment).where(Attachment.record_kind == kind, Attachment.record_key == key,
                                                   Attachment.sha256 == sha256))


def attachments_of(session: Session, user: User, kind: RecordKind, key: str) -> list[Attachment]:
    """The files on a record the reader may read, oldest first; a smaller copy sent ahead of its original is left out
    once the original is there (it stays stored: it is what the headquarters saw first)."""
    holder = find_holder(session, user, kind, key)
    found = list(session.scalars(select(Attachment).where(Attachment.record_kind == holder.kind, Attachment.record_key == holder.key)
                                 .order_by(Attachment.id)))
    arrived = {a.sha256 for a in found}
    return [a for a in found if a.copy_of_sha256 is None or a.copy_of_sha256 not in arrived]


def files_on(session: Session, kind: RecordKind, keys: Iterable[str]) -> dict[str, int]:
    """How many files each of these records carries (records the caller has already read in the reader's scope)."""
    wanted = list(keys)
    if not wanted:
        return {}
    counted = session.execute(select(Attachment.record_key, func.count()).where(
        Attachment.record_kind == kind, Attachment.record_key.in_(wanted)).group_by(Attachment.record_key))
    return {str(key): int(count) for key, count in counted}


def get_attachment(session: Session, user: User, attachment_id: int) -> Attachment:
    """The attachment if its record is one the reader may read; "not found" otherwise, whatever the reason."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is not None:
        try:
            find_holder(session, user, attachment.record_kind, attachment.record_key)
            return attachment
        except NotFound:
            pass
    raise NotFound("attachment {attachment_id} not found", attachment_id=attachment_id)


def publish(session: Session, user: User, attachment_id: int, public: bool) -> Attachment:
    """Mark a file for the public copies (the bulletin, the public reading of the file), or take the mark back.

    Only a photo of a public record qualifies: a photo's public copy is re-encoded without its metadata, which
    cannot be promised of a video or a PDF. Taking the mark back is always allowed.
    """
    with transaction(session, user.username):
        attachment = get_attachment(session, user, attachment_id)
        if public and not held_publicly(session, attachment.record_kind, attachment.record_key):
            raise Invalid("only a public record's files can be made public", field="body.public")
        if public and attachment.media_type not in media.IMAGES:
            raise Invalid("only photos can be made public: their public copy is re-encoded without metadata", field="body.public")
        attachment.public = public
    return attachment


def public_file(session: Session, attachment_id: int) -> Attachment:
    """A file marked public whose record is public now; "not found" for any other, whatever the reason."""
    attachment = session.get(Attachment, attachment_id)
    if (attachment is None or not attachment.public or attachment.media_type not in media.IMAGES
            or not held_publicly(session, attachment.record_kind, attachment.record_key)):
        raise NotFound("attachment {attachment_id} not found", attachment_id=attachment_id)
    return attachment


def published_on(session: Session, kind: RecordKind, keys: Iterable[str]) -> list[Attachment]:
    """The photos marked public on these records (records the caller read in the public scope), oldest first."""
    wanted = list(keys)
    if not wanted:
        return []
    return list(session.scalars(select(Attachment).where(
        Attachment.record_kind == kind, Attachment.record_key.in_(wanted), Attachment.public.is_(True),
        Attachment.media_type.in_(media.IMAGES)).order_by(Attachment.id)))


def arrivals(session: Session, user: User, since: datetime, until: datetime, limit: int) -> list[tuple[Attachment, Incident]]:
    """The files that arrived on incidents between ``since`` and ``until``, newest first, on the incidents the
    reader may see (the operations map shows them where the incident happened)."""
    incident_key = cast(Incident.id, String)
    query = (select(Attachment, Incident)
             .join(Incident, (Attachment.record_kind == RecordKind.incident) & (Attachment.record_key == incident_key))
             .where(Attachment.added_at >= since, Attachment.added_at < until)
             .order_by(Attachment.added_at.desc(), Attachment.id.desc()).limit(limit))
    return [(attachment, incident) for attachment, incident in session.execute(where_visible(query, Incident.visibility, user.readable))]


def metres_from(attachment: Attachment, lat: float, lon: float) -> float | None:
    """How far the photo's EXIF place lies from the place the reporter stated; None without an EXIF place."""
    if attachment.exif_lat is None or attachment.exif_lon is None:
        return None
    return float(GEOD.inv(lon, lat, attachment.exif_lon, attachment.exif_lat)[2])


def copy_for(user: User) -> bool:
    """Whether the reader gets a copy without metadata: anyone outside the mission (a side's liaison)."""
    return user.role not in INTERNAL_ROLES


CLEAN = "clean"


def clean_copy(blobs: BlobStore, work: media.MediaWork, attachment: Attachment) -> BinaryIO:
    """The stored file re-made without its metadata (a photo as JPEG, a video remuxed, a PDF stripped), made by a
    media worker on first need and kept beside the file, named by its hash: a bulletin's photos, read by every
    reader, are made once, and the copy never goes stale on any process. Refused (409), never the original,
    when no such copy can be made."""
    kept = blobs.open_derived(attachment.sha256, CLEAN)
    if kept is not None:
        return kept
    try:
        made = blobs.scratch()
    except StoreFull:
        raise InsufficientStorage("the file store is full: no copy of the file could be made; tell the administrator") from None
    try:
        work.strip(blobs.local_path(attachment.sha256), attachment.media_type, made)
        if made.stat().st_size == 0:
            raise media.Unreadable(Sentence("the copy came out empty"))
        blobs.keep_derived(attachment.sha256, CLEAN, made)
    except media.Unreadable as exc:
        raise Conflict("attachment {attachment_id}: no copy of this file without its metadata can be made ({reason}), so it "
                       "is not given outside the mission", attachment_id=attachment.id, reason=exc.reason) from None
    finally:
        made.unlink(missing_ok=True)
    kept = blobs.open_derived(attachment.sha256, CLEAN)
    assert kept is not None
    return kept


def content(blobs: BlobStore, work: media.MediaWork, attachment: Attachment, *, clean: bool) -> tuple[BinaryIO, str]:
    """The file as stored, or its copy without metadata when ``clean``; with the media type of what is given."""
    if not clean:
        return blobs.open(attachment.sha256), attachment.media_type
    return clean_copy(blobs, work, attachment), media.copy_type(attachment.media_type)


def sweep_store(session: Session, blobs: BlobStore, grace_s: float) -> Swept:
    """What crashes and failed writes left in the file store, deleted once older than ``grace_s``: scratch files,
    files and copies no committed attachment names (kept before their row committed, by a process killed in
    between). Run when a server starts and by the cluster's periodic work."""

    def named() -> set[str]:
        hashes = set(session.scalars(select(Attachment.sha256)))
        hashes.update(session.scalars(select(Attachment.thumbnail_sha256).where(Attachment.thumbnail_sha256.is_not(None))))
        session.rollback()
        return hashes

    return blobs.sweep(named, grace_s)
