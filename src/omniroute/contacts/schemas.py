from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OptOutOut(BaseModel):
    channel_id: str
    opted_out_at: datetime
    source: str


class ContactOut(BaseModel):
    id: str
    object: Literal["contact"] = "contact"
    address: str
    name: str | None
    opt_outs: list[OptOutOut]
    created_at: datetime


class OptOutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: str = Field(min_length=1, max_length=40)
