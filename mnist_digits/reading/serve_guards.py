"""What keeps the `serve` page safe to leave running while its user browses other websites:
same-origin requests only (Host and Origin checked before a body is read), a bounded queue of
work, memory given back, and connections that must send their request headers in time."""
import asyncio
import ctypes
import ipaddress
import socket
import sys

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10  # a connection has this long to send a request's headers


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def host_name(host: str) -> str:
    """'localhost:8000' -> 'localhost'; '[::1]:8000' -> '::1'."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(bound: str) -> tuple[set[str], bool]:
    """The names the page may be reached by, and whether any IP address will do (a wildcard
    bind: the computer's own addresses; an IP cannot be rebound to another site by DNS)."""
    names = {"localhost", "127.0.0.1", "::1", bound.strip("[]").lower()}
    wildcard = bound in ("0.0.0.0", "::", "")
    if wildcard:
        names |= {socket.gethostname().lower(), socket.gethostname().lower() + ".local"}
    return names, wildcard


class SameOrigin:
    """ASGI middleware: refuse (403), before reading any body, a request whose Host is not this
    server's (DNS rebinding) or, for anything but GET and HEAD, one that another site's page
    sent (its Origin is not this server, or the browser says Sec-Fetch-Site: cross-site)."""

    def __init__(self, app, bound: str):
        self.app, (self.names, self.any_ip) = app, allowed_hosts(bound)

    def refusal(self, scope) -> str | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        name = host_name(host).lower()
        if name not in self.names and not (self.any_ip and is_ip(name)):
            return (f"refused: this page answers only at the address it was started on, not "
                    f"{host!r}. Open it at http://localhost:PORT/.")
        if scope["method"] in ("GET", "HEAD"):
            return None
        origin, site = headers.get("origin"), headers.get("sec-fetch-site")
        if (origin is not None and origin != f"http://{host}") or \
                site not in (None, "same-origin", "none"):
            return "refused: requests from other websites are not accepted."
        return None

    async def __call__(self, scope, receive, send):
        why = self.refusal(scope) if scope["type"] == "http" else None
        if why:
            return await JSONResponse({"error": why}, 403)(scope, receive, send)
        await self.app(scope, receive, send)


class Queue:
    """At most `workers` images are worked on at once, in their own threads; the uploads that
    wait their turn hold at most `budget` bytes and `places` requests, else 503."""

    def __init__(self, workers: int, budget: int, places: int):
        from concurrent.futures import ThreadPoolExecutor
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="digit")
        self.budget, self.places, self.held, self.waiting = budget, places, 0, 0

    def admit(self, size: int) -> bool:
        if self.held + size > self.budget or self.waiting >= self.places:
            return False
        self.held, self.waiting = self.held + size, self.waiting + 1
        return True

    def leave(self, size: int) -> None:
        self.held, self.waiting = self.held - size, self.waiting - 1

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)


def busy() -> JSONResponse:
    return JSONResponse({"error": "the server is busy: try again in a moment."}, 503,
                        headers={"Retry-After": "1"})


class TimelyProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, but a connection that has not sent a whole request's
    headers within HEADER_SECONDS of starting to (or of connecting) is closed."""

    clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.start_clock()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self.stop_clock()  # a request is under way: the app's own timeouts apply
        elif self.clock is None:
            self.start_clock()

    def connection_lost(self, exc) -> None:
        self.stop_clock()
        super().connection_lost(exc)

    def start_clock(self) -> None:
        self.clock = asyncio.get_running_loop().call_later(HEADER_SECONDS, self.expire)

    def stop_clock(self) -> None:
        if self.clock is not None:
            self.clock.cancel()
            self.clock = None

    def expire(self) -> None:
        self.clock = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


def give_memory_back() -> None:
    """glibc keeps large freed blocks for reuse, in one arena per thread, so each worker that
    decoded a large image would go on holding it: blocks over 4 MB are given back to the
    system when freed instead (Linux with glibc; elsewhere nothing to do)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").mallopt(-3, 4 * 2**20)  # M_MMAP_THRESHOLD
        except (OSError, AttributeError):  # another C library (musl)
            pass
