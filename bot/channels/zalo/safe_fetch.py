"""Downloading what people send (photos, files) from the URL in a Zalo event, without letting a
forged or hostile event make the bot fetch something else (blind SSRF):

- only `https` (or `http` when private hosts are allowed for a local fake) URLs whose host is one
  of the platform's file hosts (suffix match: `zdn.vn` allows `f21-zpc.zdn.vn`);
- every address the host resolves to must be public: loopback, private, link-local, multicast,
  reserved and unspecified addresses are refused at connection time (the resolver checks what it
  hands to the connector, so DNS rebinding between check and connect does not help);
- no redirects; a size cap, read in chunks, checked before and while reading."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class TooLarge(Exception):
    """A download went over its size cap."""


class Refused(Exception):
    """The URL is not one of the platform's file hosts, or resolves to a private address."""


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in (a.lower().strip(".") for a in allowed))


def public_address(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver and refuses non-public addresses."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        bad = [r["host"] for r in results if not public_address(r["host"])]
        if bad or not results:
            raise Refused(f"{host} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


class FileFetcher:
    """One HTTP session for downloads from Zalo's file hosts."""

    def __init__(self, hosts: tuple[str, ...], *, allow_private: bool = False) -> None:
        self.hosts = hosts
        self.allow_private = allow_private
        self._http: aiohttp.ClientSession | None = None

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        schemes = ("https", "http") if self.allow_private else ("https",)
        if parts.scheme not in schemes or not parts.hostname:
            raise Refused(f"scheme {parts.scheme!r} not allowed")
        if not host_allowed(parts.hostname, self.hosts):
            raise Refused(f"host {parts.hostname!r} is not a Zalo file host")
        if parts.username or parts.password:
            raise Refused("credentials in URL")
        if not self.allow_private:
            try:
                literal = ipaddress.ip_address(parts.hostname)
            except ValueError:
                return
            if not public_address(str(literal)):
                raise Refused("private address")

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            kwargs: dict[str, Any] = {}
            if not self.allow_private:
                kwargs["resolver"] = PublicOnlyResolver()
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(**kwargs))
        return self._http

    async def fetch(self, url: str, cap: int) -> bytes:
        """The body of `url`; Refused, TooLarge, aiohttp.ClientError or TimeoutError otherwise."""
        self.check(url)
        try:
            async with self._session().get(
                url, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=60)
            ) as resp:
                if resp.status != 200:
                    raise aiohttp.ClientResponseError(
                        resp.request_info, resp.history, status=resp.status, message="not 200"
                    )
                if resp.content_length is not None and resp.content_length > cap:
                    raise TooLarge(url)
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(256 * 1024):
                    size += len(chunk)
                    if size > cap:
                        raise TooLarge(url)
                    chunks.append(chunk)
                return b"".join(chunks)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, Refused) or isinstance(exc.__cause__, Refused):
                raise Refused(str(exc)) from None
            raise

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
