"""A shaping TCP proxy in user space: added latency and a rate limit between the systems and COM.

The kernel of the test machines has no netem, so delay cannot come from
``tc``. For each port the proxy listens on ``address:port`` and forwards every
connection to ``target:port``. In each direction every chunk read at time t
is delivered at t + latency_ms / 2 (order kept, chunks not serialised behind
one another's sleep, so throughput is not divided by the latency), after a
token bucket of ``rate_kbps`` kilobits per second (0: unlimited) with a small
burst. Changes through ``configure()`` apply to open connections too (chunks
already queued keep their delivery time).

When the target refuses (or does not accept within CONNECT_TIMEOUT), the
client's connection, already accepted, is reset at once (SO_LINGER 0): to the
client it looks like a refused port that "accepted and reset", which a TLS
client reports as a connection reset / EOF during the handshake.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import socket
import struct

LOG = logging.getLogger('ipo_lab.shaper')

CHUNK = 65536                  # read size without a rate limit
MIN_BURST = 4096               # token bucket depth: at least this ...
BURST_SECONDS = 0.02           # ... or 20 ms worth of the rate, whichever is larger (capped at CHUNK)
QUEUE_LIMIT = 4 * 1024 * 1024  # bytes in flight per direction before the reader waits (back pressure)
CONNECT_TIMEOUT = 30.0
BACKLOG = 1024                 # 200 systems may connect at once; the default 100 would make some wait for a SYN retry (1 s)


def check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError('%s: %r is not a number' % (name, value))
    if value < 0:
        raise ValueError('%s: %r must not be negative' % (name, value))
    return float(value)


def _reset(writer):
    """Close with an RST rather than a FIN, as close as user space gets to "refused" after accept."""
    sock = writer.get_extra_info('socket')
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class _Direction:
    """One direction of one connection: read, wait for tokens, stamp the due time, queue; deliver when due."""

    def __init__(self, proxy, counter, reader, writer):
        self.proxy = proxy
        self.counter = counter
        self.reader = reader
        self.writer = writer
        self.queue = collections.deque()
        self.queued = 0
        self.ready = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self.tokens = None
        self.stamp = 0.0

    def _throttle(self, size, now):
        """Seconds to wait before these bytes may pass the token bucket (0 without a limit)."""
        rate = self.proxy.rate_bytes()
        if rate <= 0:
            self.tokens = None
            return 0.0
        burst = _burst(rate)
        if self.tokens is None:
            self.tokens = burst
        else:
            self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        self.tokens -= size
        return -self.tokens / rate if self.tokens < 0 else 0.0

    async def read_loop(self):
        loop = asyncio.get_running_loop()
        while True:
            rate = self.proxy.rate_bytes()
            data = await self.reader.read(_burst(rate) if rate > 0 else CHUNK)
            if data:
                wait = self._throttle(len(data), loop.time())
                if wait > 0:
                    await asyncio.sleep(wait)
            self.queue.append((loop.time() + self.proxy.one_way_delay(), data))
            self.queued += len(data)
            self.ready.set()
            if not data:
                return
            if self.queued > QUEUE_LIMIT:
                self.room.clear()
                await self.room.wait()

    async def write_loop(self):
        loop = asyncio.get_running_loop()
        while True:
            while not self.queue:
                self.ready.clear()
                await self.ready.wait()
            due, data = self.queue[0]
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.queue.popleft()
            self.queued -= len(data)
            if self.queued <= QUEUE_LIMIT:
                self.room.set()
            if not data:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                return
            self.proxy.counters[self.counter] += len(data)
            self.writer.write(data)
            await self.writer.drain()


def _burst(rate):
    return int(min(CHUNK, max(MIN_BURST, rate * BURST_SECONDS)))


class ShapingProxy:
    def __init__(self, spec):
        self.spec = spec
        self.servers = []
        self.tasks = set()
        self.writers = set()
        self.latency_ms = 0.0
        self.rate_kbps = 0.0
        self.counters = {}
        self.reset()

    # -- settings -----------------------------------------------------------

    def one_way_delay(self):
        return self.latency_ms / 2000.0

    def rate_bytes(self):
        return self.rate_kbps * 125.0   # kilobits (1000 bits) per second -> bytes per second

    def reset(self):
        """Latency and rate back to the topology, counters to zero; open connections stay open."""
        self.latency_ms = float(self.spec.latency_ms)
        self.rate_kbps = float(self.spec.rate_kbps)
        self.counters = {'connections_opened': 0, 'connections_refused': 0, 'bytes_to_target': 0, 'bytes_to_client': 0}

    def configure(self, latency_ms=None, rate_kbps=None):
        """Change latency and/or rate for new and open connections; both are checked before either is set."""
        latency = self.latency_ms if latency_ms is None else check_number('latency_ms', latency_ms)
        rate = self.rate_kbps if rate_kbps is None else check_number('rate_kbps', rate_kbps)
        self.latency_ms = latency
        self.rate_kbps = rate
        return self.describe()

    def describe(self):
        return dict(self.counters, address=self.spec.address, target=self.spec.target, ports=list(self.spec.ports),
                    latency_ms=self.latency_ms, rate_kbps=self.rate_kbps, connections_open=len(self.tasks))

    # -- life cycle ---------------------------------------------------------

    async def start(self):
        try:
            for port in self.spec.ports:
                server = await asyncio.start_server(lambda reader, writer, port=port: self._connection(reader, writer, port),
                                                    self.spec.address, port, reuse_address=True, backlog=BACKLOG)
                self.servers.append(server)
        except OSError:
            await self.stop()
            raise

    async def stop(self):
        for server in self.servers:
            server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in self.servers:
            await server.wait_closed()
        self.servers = []

    # -- forwarding ---------------------------------------------------------

    async def _connection(self, client_reader, client_writer, port):
        task = asyncio.current_task()
        self.tasks.add(task)
        self.writers.add(client_writer)
        self.counters['connections_opened'] += 1
        target_writer = None
        try:
            try:
                target_reader, target_writer = await asyncio.wait_for(asyncio.open_connection(self.spec.target, port), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as exc:
                self.counters['connections_refused'] += 1
                LOG.debug('%s:%d -> %s:%d: %s', self.spec.address, port, self.spec.target, port, exc)
                _reset(client_writer)
                return
            self.writers.add(target_writer)
            await self._pump(client_reader, client_writer, target_reader, target_writer)
        except asyncio.CancelledError:
            # Only stop() cancels this task, and asyncio's stream callback would log a cancelled handler as an error.
            pass
        finally:
            for writer in (client_writer, target_writer):
                if writer is not None:
                    self.writers.discard(writer)
                    writer.close()
            self.tasks.discard(task)

    async def _pump(self, client_reader, client_writer, target_reader, target_writer):
        """Both directions until both have ended; on any error (reset, broken pipe) both sides are aborted."""
        upstream = _Direction(self, 'bytes_to_target', client_reader, target_writer)
        downstream = _Direction(self, 'bytes_to_client', target_reader, client_writer)
        steps = (upstream.read_loop(), upstream.write_loop(), downstream.read_loop(), downstream.write_loop())
        tasks = [asyncio.ensure_future(step) for step in steps]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        failed = [task.exception() for task in done if not task.cancelled() and task.exception() is not None]
        for exc in failed:
            if not isinstance(exc, OSError):  # resets and broken pipes are the peers' business; anything else is a bug here
                LOG.error('shaper connection failed: %r', exc)
        if failed or pending:
            for writer in (client_writer, target_writer):
                writer.transport.abort()
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def control_routes(service):
    """(method, path, handler) for the control API: /lab/shaper."""
    # Imported here so control.py can import this module without an import cycle.
    from .control import BadRequest, answer, body

    async def describe(request):
        return answer(service.describe())

    async def configure(request):
        data = await body(request)
        unknown = set(data) - {'latency_ms', 'rate_kbps'}
        if unknown:
            raise BadRequest('unknown keys: %s (use latency_ms and/or rate_kbps)' % ', '.join(sorted(unknown)))
        for key in ('latency_ms', 'rate_kbps'):
            if key in data and data[key] is None:
                raise BadRequest('%s must not be null' % key)
        try:
            result = service.configure(latency_ms=data.get('latency_ms'), rate_kbps=data.get('rate_kbps'))
        except ValueError as exc:
            raise BadRequest(str(exc))
        return answer(dict(result, ok=True))

    return [
        ('GET', '/lab/shaper', describe),
        ('POST', '/lab/shaper', configure),
    ]
