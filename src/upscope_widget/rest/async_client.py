"""The asyncio REST client, :class:`AsyncUpscopeClient`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import cast

import anyio
import httpx
from pydantic import SecretStr

from . import _answers, _core
from .errors import UpscopeAPIError
from .models import Naked, Permissions, Visitor

__all__ = ["AsyncUpscopeClient"]


class AsyncUpscopeClient(_core.ClientBase):
    """The asyncio twin of :class:`UpscopeClient`: the same arguments, methods as coroutines.

    Args:
        api_key: The REST API key; defaults to ``UPSCOPE_API_KEY`` (see :class:`UpscopeClient`).
        base_url: Defaults to ``UPSCOPE_API_BASE_URL`` if set, else ``https://api.upscope.io``.
        version: The API version path segment.
        timeout: The most seconds one request may take, answer included (see
            :class:`UpscopeClient`); on expiry the request is cancelled.
        max_retries: How many times a failed GET is sent again; POSTs are never retried.
        backoff: The wait before the first retry, in seconds; it doubles on each retry.
        max_backoff: The longest single wait, in seconds (also caps a 429's ``Retry-After``).
        sleep: The coroutine function used to wait (default :func:`asyncio.sleep`).
        http_client: An :class:`httpx.AsyncClient` to use; not closed by :meth:`aclose`.
        transport: An :class:`httpx.AsyncBaseTransport` for the client this object makes.

    Use it with ``async with``, or await :meth:`aclose` when done.

    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        version: str = _core.DEFAULT_VERSION,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ValueError(f"http_client must be an httpx.AsyncClient, got {type(http_client)!r}")
        self._core = _core.Core(
            api_key=api_key,
            base_url=base_url,
            version=version,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
        )
        self._sleep: Callable[[float], Awaitable[object]] = sleep or asyncio.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, timeout=self._core.timeout, follow_redirects=False
        )
        self._closed = False

    async def __aenter__(self) -> AsyncUpscopeClient:
        """Return the client itself."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in). Idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                await self._http.aclose()

    async def watch_url(
        self,
        visitor_id: str,
        *,
        agent_id: str,
        agent_name: str,
        naked: Naked = "page_only",
        permissions: Mapping[str, bool] | Permissions | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
        retry_url: str | None = None,
        on_end_url: str | None = None,
    ) -> str:
        """Make a secure watch link for a visitor and return it (always an ``https:`` URL).

        The arguments and errors are those of :meth:`UpscopeClient.watch_url`; the POST is
        sent once, never retried.
        """
        call = _core.watch_url_call(
            visitor_id,
            agent_id=agent_id,
            agent_name=agent_name,
            naked=naked,
            permissions=permissions,
            metadata=metadata,
            retry_url=retry_url,
            on_end_url=on_end_url,
        )
        return _answers.parse_watch_url(await self._send(call))

    async def find_visitors(self, search: str, *, max_results: int | None = None) -> list[Visitor]:
        """Return the visitors matching ``search`` (see :meth:`UpscopeClient.find_visitors`)."""
        call = _core.find_visitors_call(search, max_results=max_results)
        return _answers.parse_visitors(await self._send(call))

    async def get_visitor(self, short_id: str) -> Visitor:
        """Return one visitor by short id (see :meth:`UpscopeClient.get_visitor`)."""
        call = _core.get_visitor_call(short_id)
        return _answers.parse_visitor(await self._send(call))

    async def _send(self, call: _core.Call) -> _core.Reply:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed; make a new one")
        attempts = 0
        while True:
            attempts += 1
            outcome = await self._send_once(call, attempts)
            if isinstance(outcome, _core.Reply):
                return outcome
            delay = self._core.retry_delay(call, outcome)
            if delay is None:
                # Raised outside any ``except``: no httpx exception is chained to it.
                raise outcome
            await self._sleep(delay)

    async def _send_once(self, call: _core.Call, attempts: int) -> _core.Reply | UpscopeAPIError:
        request = self._core.build_request(self._http, call)
        try:
            # httpx's timeouts bound each read; this bounds the whole exchange.
            with anyio.fail_after(self._core.total_timeout):
                result = await self._exchange(request)
        except TimeoutError:
            return self._core.deadline_error(call, attempts)
        if isinstance(result, httpx.HTTPError):
            return self._core.transport_error(call, result, attempts)
        return self._core.outcome(call, result, attempts)

    async def _exchange(self, request: httpx.Request) -> _core.Answer | httpx.HTTPError:
        """Send ``request`` and read at most ``MAX_BODY_BYTES`` of the answer."""
        try:
            response = await self._http.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            return exc
        try:
            if response.is_stream_consumed:  # read already: by a response hook, a mock
                reader = _core.BodyReader(response, decoded=True)
                reader.feed(response.content)
                return reader.answer()
            reader = _core.BodyReader(response)
            if not reader.done:
                chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
                async with contextlib.aclosing(chunks):
                    async for chunk in chunks:
                        if not reader.feed(chunk):
                            break
            return reader.answer()
        except httpx.HTTPError as exc:
            return exc
        finally:
            await response.aclose()
