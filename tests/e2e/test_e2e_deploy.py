"""The production topology as processes: PostgreSQL, two `tocns run` workers in webhook mode for one
bot, and one port in front of them (a round-robin HTTP proxy standing in for Caddy/nginx). Both
workers answer /readyz; updates spread over both; a conversation started on one worker continues on
the other (dialog state lives in the database); /metrics counts what each worker did."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port
from tests.e2e.test_telegram_e2e import command_update

pytestmark = pytest.mark.e2e


class RoundRobin:
    """One public port, requests handed to the workers in turn (as `lb_policy round_robin`)."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = itertools.cycle(backends)
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def forward(self, request: web.Request) -> web.Response:
        backend = next(self.backends)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, f"http://127.0.0.1:{backend}{request.rel_url}", data=body, headers=headers
            ) as resp,
        ):
            return web.Response(status=resp.status, body=await resp.read(), content_type=resp.content_type)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def front() -> AsyncIterator[RoundRobin]:
    proxy = RoundRobin([])
    yield proxy
    await proxy.stop()


async def test_two_webhook_workers_behind_one_port(
    start_bot, tg_user, tg_session, pg_behind_proxy, front
) -> None:
    url, _ = pg_behind_proxy
    token = f"9{uuid.uuid4().int % 10**8}:e2e-deploy-{uuid.uuid4().hex[:8]}"
    secret = f"e2e-{uuid.uuid4().hex}"
    public = f"http://127.0.0.1:{front.port}"
    first = await start_bot(
        mode="webhook", database_url=url, token=token, secret=secret, public_url=public, seed=True
    )
    second = await start_bot(mode="webhook", database_url=url, token=token, secret=secret, public_url=public)
    front.backends = itertools.cycle([first.web_port, second.web_port])
    await front.start()

    for worker in (first, second):
        async with tg_session.get(f"http://127.0.0.1:{worker.web_port}/readyz") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["ready"] is True, body
    for _ in range(2):  # through the one public port: each worker answers in turn
        async with tg_session.get(f"{public}/readyz") as resp:
            assert resp.status == 200

    lan = tg_user(first, "Lan", user_id=7301)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    commands = ["/help", "/toi", "/ngonngu", "/help"]
    for n, text in enumerate(commands, start=1):
        update = command_update(900 + n, 7301, text)
        async with tg_session.post(f"{public}/telegram/webhook", json=update, headers=headers) as resp:
            assert resp.status == 200
    # Telegram may redeliver: the same update through the other worker is processed once.
    async with tg_session.post(
        f"{public}/telegram/webhook", json=command_update(904, 7301, "/help"), headers=headers
    ) as resp:
        assert resp.status == 200
    deadline = asyncio.get_running_loop().time() + 20
    while len(await lan.messages()) < len(commands) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a duplicate reply, if any, would arrive now
    replies = [m.text for m in await lan.messages()]
    assert len(replies) == len(commands), replies

    handled = []
    for worker in (first, second):
        async with tg_session.get(f"http://127.0.0.1:{worker.web_port}/metrics") as resp:
            families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
        handled.append(sum(s.value for s in families["tocns_updates"].samples if s.name.endswith("_total")))
    assert handled[0] >= 1 and handled[1] >= 1, handled  # both workers took updates
