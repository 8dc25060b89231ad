from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile

from peacewatch.core.blobs import blob_store
from peacewatch.core.problems import Invalid, problem_responses, reader_gettext
from peacewatch.core.web import Operations, SessionDep, SettingsDep
from peacewatch.courier import service
from peacewatch.courier.outbox_file import NotAnOutbox
from peacewatch.courier.schemas import OutboxTakenInOut, OutcomeOut
from peacewatch.evidence import media
from peacewatch.live.api import IngestDep

router = APIRouter(prefix="/api/v1/field-outboxes", tags=["field"], responses=problem_responses(401, 403, 413, 422))
MAX_OUTBOX_BYTES = 4 * 2**30  # a day of a patrol's photos, in base64
MAX_LINE_BYTES = media.LARGEST * 4 // 3 + 2**20  # one item: the largest file in base64 and its fields; never more in memory


@router.post("", response_model=OutboxTakenInOut, summary="Take in a field device's outbox carried as a file: each item "
             "stored as its maker's, in the device's order")
def take_in_outbox(
    request: Request, session: SessionDep, settings: SettingsDep, ingest: IngestDep, user: Operations,
    file: Annotated[UploadFile, File(description="The outbox as the field page exported it (peacewatch-outbox-….jsonl)")],
) -> Any:
    desk = service.Desk(settings, ingest, blob_store(settings), media.media_work(settings))
    try:
        taken = service.take_in(session, desk, user, iter(lambda: file.file.readline(MAX_LINE_BYTES), b""), reader_gettext(request))
    except NotAnOutbox as failure:
        raise Invalid(failure.template, field="file", **failure.values) from None
    return OutboxTakenInOut(file_sha256=taken.file_sha256, whole=taken.whole, received=len(taken.outcomes),
                            stored=taken.count("stored"), duplicates=taken.count("already_stored"),
                            refused=taken.count("refused"), held=taken.count("held"),
                            outcomes=[OutcomeOut(**o.__dict__) for o in taken.outcomes])
