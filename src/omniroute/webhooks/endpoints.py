from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import select

from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.services import ServicesDep, wake_workers_after_commit
from omniroute.webhooks import service
from omniroute.webhooks.models import WebhookDelivery, WebhookEndpoint
from omniroute.webhooks.schemas import (
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)
from omniroute.workspaces.auth import Auth

router = api_router(prefix="/webhook-endpoints", tags=["webhooks"])


@router.post("", status_code=201, summary="Create a webhook endpoint (its secret is shown only now)")
async def create_endpoint(
    body: EndpointCreate, auth: Auth, session: SessionDep, services: ServicesDep
) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(await service.create(session, auth, body, services.settings))


@router.get("", summary="List webhook endpoints")
async def list_endpoints(
    auth: Auth, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[EndpointOut]:
    rows, has_more, cursor = await paginate(session, service.scoped(auth), WebhookEndpoint.id, page)
    return Page(data=[EndpointOut.model_validate(e) for e in rows], has_more=has_more, next_cursor=cursor)


@router.get("/{endpoint_id}", summary="Fetch a webhook endpoint")
async def get_endpoint(endpoint_id: str, auth: Auth, session: SessionDep) -> EndpointOut:
    return EndpointOut.model_validate(await service.get(session, auth, endpoint_id))


@router.patch("/{endpoint_id}", summary="Update a webhook endpoint")
async def update_endpoint(
    endpoint_id: str, body: EndpointUpdate, auth: Auth, session: SessionDep, services: ServicesDep
) -> EndpointOut:
    endpoint = await service.get(session, auth, endpoint_id)
    await service.update_endpoint(endpoint, body, auth, services.settings)
    await session.flush()
    return EndpointOut.model_validate(endpoint)


@router.delete("/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint and its deliveries")
async def delete_endpoint(endpoint_id: str, auth: Auth, session: SessionDep) -> Response:
    await session.delete(await service.get(session, auth, endpoint_id))
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Replace the signing secret (the old one keeps signing for 24 h)",
)
async def rotate_secret(endpoint_id: str, auth: Auth, session: SessionDep) -> EndpointWithSecret:
    endpoint = await service.get(session, auth, endpoint_id)
    service.rotate_secret(endpoint, auth.now())
    await session.flush()
    return EndpointWithSecret.model_validate(endpoint)


@router.get("/{endpoint_id}/deliveries", summary="Deliveries to this endpoint, each with its attempts")
async def list_deliveries(
    endpoint_id: str,
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[DeliveryOut]:
    endpoint = await service.get(session, auth, endpoint_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    rows, has_more, cursor = await paginate(session, statement, WebhookDelivery.id, page)
    attempts = await service.attempts_of(session, rows)
    return Page(data=[DeliveryOut.of(d, attempts[d.id]) for d in rows], has_more=has_more, next_cursor=cursor)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Attempt a delivery again now",
)
async def retry_delivery(
    endpoint_id: str, delivery_id: str, auth: Auth, session: SessionDep, request: Request
) -> DeliveryOut:
    endpoint = await service.get(session, auth, endpoint_id)
    delivery = await service.get_delivery(session, endpoint, delivery_id)
    service.retry_now(session, delivery)
    wake_workers_after_commit(request)
    attempts = await service.attempts_of(session, [delivery])
    return DeliveryOut.of(delivery, attempts[delivery.id])
