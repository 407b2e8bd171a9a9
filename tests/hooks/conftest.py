import httpx
import pytest

from tests.conftest import Tenant
from tests.providers.meta.live import MetaChannel, create_meta_channel


@pytest.fixture
async def meta(tenant: Tenant, anonymous: httpx.AsyncClient) -> MetaChannel:
    """A live meta channel of the tenant's workspace, Graph API unreachable."""
    return await create_meta_channel(tenant.live, anonymous)
