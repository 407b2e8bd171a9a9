from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.pagination import Page, PageParams, page_params
from omniroute.events.types import EventType
from omniroute.logs import service
from omniroute.logs.schemas import EventOut, LogEntryOut, RequestLogOut
from omniroute.workspaces.auth import Auth

router = api_router(tags=["logs"])


@router.get("/logs", summary="API requests and events, newest first")
async def list_logs(
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[
        service.Kind | None, Query(description="Only requests or only events (default: both).")
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Entries written at or after this time.")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Entries written before this time.")] = None,
    message_id: Annotated[str | None, Query(max_length=40, description="Events of this message.")] = None,
    campaign_id: Annotated[str | None, Query(max_length=40, description="Events of this campaign.")] = None,
    type: Annotated[EventType | None, Query(description="Events of this type.")] = None,
) -> Page[LogEntryOut]:
    where = service.LogFilter(kind, since, until, message_id, campaign_id, type.value if type else None)
    rows, has_more = await service.read(session, auth, where, page.limit, page.starting_after)
    data: list[LogEntryOut] = [
        EventOut.model_validate(row) if row.id.startswith("evt_") else RequestLogOut.of(row) for row in rows
    ]
    return Page(data=data, has_more=has_more, next_cursor=rows[-1].id if has_more and rows else None)
