"""Time and peak memory to create a campaign from a CSV of N recipients (default 100,000):
the rows are read from the file as a stream, screened and inserted in multi-row INSERTs.

    .venv/bin/python benchmarks/campaign_csv.py [--rows 100000] [--database-url URL]

Without --database-url it uses a new SQLite file. Prints one JSON line.
"""

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from omniroute.campaigns import service
from omniroute.campaigns.recipients import from_csv
from omniroute.campaigns.schemas import CampaignSettings
from omniroute.channels.models import Channel, ChannelType
from omniroute.core.db import Database
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.migrations.runner import upgrade
from omniroute.policy.templates import TemplateStatus
from omniroute.templates.models import Template
from omniroute.templates.variables import expected_variables
from omniroute.workspaces import service as workspaces

BODY = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped and will arrive soon."}


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as file:
        file.write("to,1,2,reference\n")
        for index in range(rows):
            file.write(f"+23480{index:08d},Ada,#{index},ref-{index}\n")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(url: str, rows: int) -> dict[str, object]:
    db = Database(url)
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "campaign benchmark")
        channel = await session.scalar(
            select(Channel).where(Channel.workspace_id == workspace.id, Channel.type == ChannelType.WHATSAPP)
        )
        assert channel is not None
        session.add(
            Template(
                id=new_id("tpl"),
                workspace_id=workspace.id,
                mode=Mode.TEST,
                channel_id=channel.id,
                name="order_update",
                language="en",
                category="MARKETING",
                status=TemplateStatus.APPROVED,
                components=[BODY],
                variables=expected_variables([BODY]),
            )
        )
        tenant, now, channel_id = TenantRef(workspace.id, Mode.TEST), workspace.now(Mode.TEST), channel.id
    csv = Path(tempfile.mkdtemp()) / "recipients.csv"
    write_csv(csv, rows)
    settings = CampaignSettings.model_validate(
        {"channel_id": channel_id, "name": "benchmark", "template": {"name": "order_update", "language": "en"}}
    )
    before = peak_rss_mb()
    started = time.perf_counter()
    with csv.open("rb") as file:
        async with db.transaction() as session:
            campaign = await service.create(session, tenant, now, settings, lambda v: from_csv(file, v))
            total = campaign.total
    seconds = time.perf_counter() - started
    await db.dispose()
    return {
        "database": url.split(":", 1)[0],
        "rows": total,
        "csv_mb": round(csv.stat().st_size / 2**20, 1),
        "seconds": round(seconds, 2),
        "rows_per_second": round(total / seconds),
        "peak_rss_mb_before": round(before, 1),
        "peak_rss_mb_after": round(peak_rss_mb(), 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    print(json.dumps(asyncio.run(main(url, args.rows))))
