from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.channels.schemas import ChannelCreate, ChannelRead, ChannelUpdate, TestQueued
from api.channels.service import ChannelService


def _service(request: Request) -> ChannelService:
    return ChannelService(request.app.state.pool, request.user.account_id, request.app.state.settings)


class ChannelController(Controller):
    path = "/channels"
    tags = ["channels"]

    @post(operation_id="createChannel")
    async def create_channel(self, request: Request, data: JSONBody[ChannelCreate]) -> ChannelRead:
        return ChannelRead(**await _service(request).create(data))

    @get(operation_id="listChannels")
    async def list_channels(self, request: Request,
                            limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                            after: Annotated[int, QueryParameter(ge=0, description="id to list after")] = 0,
                            ) -> list[ChannelRead]:
        return [ChannelRead(**c) for c in await _service(request).list(limit, after)]

    @get("/{channel_id:int}", operation_id="getChannel")
    async def get_channel(self, request: Request, channel_id: FromPath[int]) -> ChannelRead:
        return ChannelRead(**await _service(request).get(channel_id))

    @patch("/{channel_id:int}", operation_id="updateChannel")
    async def update_channel(self, request: Request, channel_id: FromPath[int],
                             data: JSONBody[ChannelUpdate]) -> ChannelRead:
        return ChannelRead(**await _service(request).update(channel_id, data))

    @delete("/{channel_id:int}", operation_id="deleteChannel")
    async def delete_channel(self, request: Request, channel_id: FromPath[int]) -> None:
        await _service(request).delete(channel_id)

    @post("/{channel_id:int}/test", operation_id="testChannel", status_code=202)
    async def test_channel(self, request: Request, channel_id: FromPath[int]) -> TestQueued:
        """Queue a test notification through the outbox; follow it at /notifications/{id}."""
        return TestQueued(**await _service(request).send_test(channel_id))
