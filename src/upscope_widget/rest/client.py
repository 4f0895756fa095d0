"""The synchronous REST client, :class:`UpscopeClient`, and :func:`watch_url_for_visitor`."""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Any, cast

import httpx
from pydantic import SecretStr

from . import _answers, _core
from . import _validation as check
from .errors import UpscopeAPIError
from .models import Naked, Permissions, Visitor

__all__ = ["UpscopeClient", "watch_url_for_visitor"]


class UpscopeClient(_core.ClientBase):
    """A client of Upscope's REST API (blocking; see :class:`AsyncUpscopeClient` for asyncio).

    Args:
        api_key: The REST API key. Defaults to the ``UPSCOPE_API_KEY`` environment variable;
            with neither, :class:`MissingAPIKeyError` (a ``ValueError``) is raised. The key is
            sent only in the ``X-Api-Key`` header and never shown (``repr`` shows ``'***'``).
        base_url: The service's address. Defaults to ``UPSCOPE_API_BASE_URL`` if set, else
            ``https://api.upscope.io``. Must be ``https:``; ``http:`` is accepted only for
            localhost / 127.0.0.1 / [::1] (tests, local proxies).
        version: The API version path segment.
        timeout: The most seconds one request may take, from connecting to the last byte of
            the answer (each retry of a GET gets the same again). An :class:`httpx.Timeout`
            sets httpx's limits per phase as given, and the largest of them bounds the whole
            request; ``httpx.Timeout(None)`` removes every limit.
        max_retries: How many times a failed GET is sent again (on timeouts, connection
            errors, 429 and 5xx). POSTs are never retried. ``0`` disables retries.
        backoff: The wait before the first retry, in seconds; it doubles on each retry.
        max_backoff: The longest single wait, in seconds. A 429's ``Retry-After`` is honoured;
            one longer than this ends the retries and raises :class:`RateLimitedError`.
        sleep: The function used to wait between retries (default :func:`time.sleep`).
        http_client: An :class:`httpx.Client` to send requests with (proxies, certificates,
            event hooks...). It is not closed by :meth:`close`; its own base URL is ignored.
        transport: An :class:`httpx.BaseTransport` for the client this object makes (not
            together with ``http_client``).

    Use it as a context manager, or call :meth:`close` when done. Every error raised derives
    from :class:`UpscopeAPIError`, whatever the service answers, except ``ValueError`` for
    invalid arguments (raised before anything is sent). When ``timeout`` is set (it is by
    default), each request runs in a short-lived worker thread, so that the call returns at
    its deadline even while the service is still sending; ``http_client`` event hooks run in
    that thread.

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
        sleep: Callable[[float], object] | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ValueError(f"http_client must be an httpx.Client, got {type(http_client)!r}")
        self._core = _core.Core(
            api_key=api_key,
            base_url=base_url,
            version=version,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
        )
        self._sleep: Callable[[float], object] = sleep or time.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport, timeout=self._core.timeout, follow_redirects=False
        )
        self._closed = False

    def __enter__(self) -> UpscopeClient:
        """Return the client itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        self.close()

    def close(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in). Idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                self._http.close()

    def watch_url(
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

        Sends ``POST {base_url}/{version}/visitors/{visitor_id}/watch_url`` once (never
        retried: a retry could make a second link).

        Args:
            visitor_id: The visitor's short id.
            agent_id: Your id for the agent who will watch.
            agent_name: The agent's name, shown to the visitor.
            naked: ``"page_only"`` hides all Upscope UI (for an iframe), ``True`` hides the
                logo, ``False`` shows everything.
            permissions: What the agent may do, e.g. ``{"allow_type": False}``; names not given
                keep the service's defaults. See :class:`Permissions`.
            metadata: A flat mapping of str keys to str / int / float / bool, kept with the
                session.
            retry_url: An ``https:`` URL offered when the session cannot start.
            on_end_url: An ``https:`` URL opened when the session ends.

        Raises:
            ValueError: An argument is invalid (nothing was sent).
            UpscopeAPIError: A subclass saying what went wrong and what to do.

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
        return _answers.parse_watch_url(self._send(call))

    def find_visitors(self, search: str, *, max_results: int | None = None) -> list[Visitor]:
        """Return the visitors matching ``search`` (``GET /{version}/list?search=...``).

        Args:
            search: The text to look for (name, email, lookup code...).
            max_results: At most this many visitors (``1`` is fastest).

        """
        call = _core.find_visitors_call(search, max_results=max_results)
        return _answers.parse_visitors(self._send(call))

    def get_visitor(self, short_id: str) -> Visitor:
        """Return one visitor by short id (``GET /{version}/visitors/{short_id}``).

        Raises:
            VisitorNotFoundError: No visitor has this id.

        """
        call = _core.get_visitor_call(short_id)
        return _answers.parse_visitor(self._send(call))

    def _send(self, call: _core.Call) -> _core.Reply:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed; make a new one")
        attempts = 0
        while True:
            attempts += 1
            outcome = self._send_once(call, attempts)
            if isinstance(outcome, _core.Reply):
                return outcome
            delay = self._core.retry_delay(call, outcome)
            if delay is None:
                # Raised here, outside any ``except``: no httpx exception (which holds the
                # request and its key) is chained to it.
                raise outcome
            self._sleep(delay)

    def _send_once(self, call: _core.Call, attempts: int) -> _core.Reply | UpscopeAPIError:
        request = self._core.build_request(self._http, call)
        limit = self._core.total_timeout
        if limit is None:
            result = self._exchange(request, None)
        else:
            within = self._exchange_within(request, limit)
            if within is None:
                return self._core.deadline_error(call, attempts)
            result = within
        if isinstance(result, httpx.HTTPError):
            return self._core.transport_error(call, result, attempts)
        return self._core.outcome(call, result, attempts)

    def _exchange_within(
        self, request: httpx.Request, limit: float
    ) -> _core.Answer | httpx.HTTPError | None:
        """Run the exchange in a worker thread; ``None`` if it did not end within ``limit`` s.

        httpx's timeouts bound each read, not the whole request: a server sending a byte now
        and then would hold the call for as long as it likes. So the caller waits at most
        ``limit`` seconds, then the watchdog shuts the connection down, which ends the worker's
        read at once.
        """
        watchdog = _Watchdog()
        request.extensions["trace"] = watchdog.trace
        done = threading.Event()
        box: list[object] = []
        context = contextvars.copy_context()

        def work() -> None:
            try:
                box.append(context.run(self._exchange, request, watchdog))
            except BaseException as exc:  # handed to the caller, raised there
                box.append(exc)
            finally:
                done.set()

        threading.Thread(target=work, name="upscope-rest-request", daemon=True).start()
        try:
            in_time = done.wait(limit)
        except BaseException:  # KeyboardInterrupt while waiting: end the request too
            watchdog.expire()
            raise
        if not in_time and watchdog.expire():
            return None
        done.wait()
        result = box[0]
        if isinstance(result, BaseException) and not isinstance(result, httpx.HTTPError):
            raise result
        return cast("_core.Answer | httpx.HTTPError", result)

    def _exchange(
        self, request: httpx.Request, watchdog: _Watchdog | None
    ) -> _core.Answer | httpx.HTTPError:
        """Send ``request`` and read at most ``MAX_BODY_BYTES`` of the answer."""
        try:
            response = self._http.send(request, stream=True, follow_redirects=False)
        except BaseException as exc:
            if watchdog is not None:
                watchdog.finish()
            if isinstance(exc, httpx.HTTPError):
                return exc
            raise
        try:
            if watchdog is not None:
                watchdog.watch(response.extensions.get("network_stream"))
            if response.is_stream_consumed:  # read already: by a response hook, a mock
                reader = _core.BodyReader(response, decoded=True)
                reader.feed(response.content)
                return reader.answer()
            reader = _core.BodyReader(response)
            if not reader.done:
                chunks = cast(Generator[bytes, None, None], response.iter_raw())
                with contextlib.closing(chunks):
                    for chunk in chunks:
                        if not reader.feed(chunk) or (watchdog is not None and watchdog.expired):
                            break
            return reader.answer()
        except httpx.HTTPError as exc:
            return exc
        finally:
            if watchdog is not None:
                watchdog.finish()
            response.close()


class _Watchdog:
    """Ends one request at its deadline by shutting down the connection it reads from.

    The connection is found through httpcore's ``trace`` extension when it is made, and
    through the answer's ``network_stream`` when an open one was reused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: list[object] = []
        self._finished = False
        self.expired = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """Note each connection made for the request (httpcore's ``trace`` extension)."""
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            self.watch(info.get("return_value"))

    def watch(self, stream: object) -> None:
        """Note a network stream of the request; shut it at once if the deadline passed."""
        if stream is None:
            return
        with self._lock:
            self._streams.append(stream)
            if self.expired:
                _shut(stream)

    def finish(self) -> None:
        """Mark the request done: from now on its connection may go back to the pool."""
        with self._lock:
            self._finished = True

    def expire(self) -> bool:
        """End the request unless it is done; return whether it was ended."""
        with self._lock:
            if self._finished:
                return False
            self.expired = True
            for stream in self._streams:
                _shut(stream)
            return True


def _shut(stream: object) -> None:
    get_extra_info = getattr(stream, "get_extra_info", None)
    sock = get_extra_info("socket") if callable(get_extra_info) else None
    if isinstance(sock, socket.socket):
        # socket.socket's own shutdown, not SSLSocket's: that one would drop the TLS object
        # under the reading thread's feet. A shutdown wakes a blocked read; close() would not.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def watch_url_for_visitor(
    visitor_id: str,
    *,
    agent: tuple[str, str],
    client: UpscopeClient | None = None,
    permissions: Mapping[str, bool] | Permissions | None = None,
    metadata: Mapping[str, str | int | float | bool] | None = None,
) -> str:
    """Make a watch link for an embedded iframe (``naked="page_only"``) and return it.

    This is what ``UpscopeSession.for_visitor`` calls.

    Args:
        visitor_id: The visitor's short id.
        agent: ``(agent_id, agent_name)``, two non-empty strings.
        client: The client to use. Without one, a client is made from the environment
            (``UPSCOPE_API_KEY``, optionally ``UPSCOPE_API_BASE_URL``) and closed afterwards.
        permissions: As for :meth:`UpscopeClient.watch_url`.
        metadata: As for :meth:`UpscopeClient.watch_url`.

    Raises:
        ValueError: An argument is invalid, or no API key is configured
            (:class:`MissingAPIKeyError`).
        UpscopeAPIError: The service refused or failed; see the subclass.

    """
    agent_id, agent_name = check.agent_pair(agent)
    options: dict[str, Any] = {
        "agent_id": agent_id,
        "agent_name": agent_name,
        "naked": "page_only",
        "permissions": permissions,
        "metadata": metadata,
    }
    # Validate everything before a client is made, so a bad argument is reported as such.
    _core.watch_url_call(visitor_id, retry_url=None, on_end_url=None, **options)
    if client is not None:
        if not isinstance(client, UpscopeClient):
            raise ValueError(f"client must be an UpscopeClient, got {type(client)!r}")
        return client.watch_url(visitor_id, **options)
    with UpscopeClient() as own_client:
        return own_client.watch_url(visitor_id, **options)
