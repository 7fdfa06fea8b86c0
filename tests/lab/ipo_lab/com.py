"""The COM (Customer Operations Manager) simulator: the far end of every emulated IP Office's subscription link.

COM listens on one loopback address at two ports (standing for 443 and 8443)
and speaks the protocol of ``comproto.py``: TLS 1.2 with mutual
authentication (the client certificate's subject CN names the system), then an
HTTP WebSocket upgrade on ``comproto.LINK_PATH``. Customers and their
subscriptions start from the topology (``world.com``) and can be changed at run
time; each change is pushed at once to the customer's connected links.

COM ties each certificate to one system and one customer: the topology
registers systems to customers (``world.com.customers.<id>.systems``). A
request from a certificate that names no registered system is answered HTTP 403
(the WebSocket upgrade included), its record closed with the reason; a hello
that names another system than the certificate's, or another customer than the
system's, is rejected (``identity_mismatch``).

Design: each port has its own plain, non-blocking listening socket watched
with ``loop.add_reader``; accepted sockets are handed to
``loop.connect_accepted_socket`` with the port's TLS context and an aiohttp
low-level ``web.Server`` (``web.WebSocketResponse`` on the link path, 404
elsewhere). Owning the listening socket makes the port modes exact, which a
ready-made server (aiohttp's sites, the websockets library) would not:

- ``refuse`` closes the listening socket itself, so a connect gets
  ECONNREFUSED (and switching back binds it again);
- ``silent`` still accepts TCP but never starts TLS: no ServerHello, and
  bytes read are discarded;
- handshake failures (no client certificate, TLS 1.3 only, a client that
  refuses the rogue certificate) surface as the exception of
  ``connect_accepted_socket`` and are recorded with their reason (OpenSSL's
  code, e.g. ``PEER_DID_NOT_RETURN_A_CERTIFICATE``). asyncio drops the
  socket without flushing COM's TLS alert, so such a client sees an EOF
  during the handshake rather than an alert; it fails all the same.

Port modes (``world.PORT_MODES``) and certificate switch (``world.CERT_MODES``):

=======  =====================================================================
accept   TLS, WebSocket, the protocol
refuse   no listening socket; switching to it closes the port's connections
drop     the hello is answered (welcome or reject), then COM closes the link;
         switching to it closes the port's connections at once
silent   new TCP connections get nothing; established links read but never
         answer (no heartbeat_ack, no licences, no pong) and stay open
lab      certificate signed by the lab CA; ``rogue``: by the rogue CA, as a
         TLS-intercepting proxy would present
=======  =====================================================================

WebSocket close codes COM sends: 1008 after a reject, 1002 after a message
before hello, 1001 when a port mode, a reset or ``stop`` closes a link.

Every connection (from TCP accept on) has a record, see ``connections()``.
All methods except ``start``/``stop`` are synchronous and must be called on
the event loop's thread (the control API's handlers are).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket

from aiohttp import WSMsgType, web

from . import comproto
from .control import BadRequest, NotFound, answer, body, since_param
from .topology import TopologyError
from .world import CERT_MODES, PORT_MODES, SubscriptionSpec, check_subscription, is_loopback

LOG = logging.getLogger('ipo_lab.com')

KEEP_RECORDS = 5000
CLOSE_TIMEOUT = 2.0          # a closing link waits this long for the peer's close frame before the socket is aborted
SSL_SHUTDOWN_TIMEOUT = 2.0   # ... and for the peer's TLS close_notify
MAX_MESSAGE = 1024 * 1024    # largest frame COM reads; the protocol's messages are small
ACCEPT_BATCH = 64            # connections accepted per readable event, so one busy port cannot starve the loop

CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY = 1008

RECORD_FIELDS = ('id', 'port', 'peer', 'peer_port', 'stage', 'tls_version', 'identity', 'customer_id', 'system', 'system_details',
                 'opened', 'closed', 'state', 'close_reason', 'messages_in', 'messages_out', 'last_heartbeat')
STAGES = ('tcp', 'tls', 'websocket', 'linked')   # how far a connection got


def _text(value, field):
    if not isinstance(value, str) or not value.strip():
        raise ValueError('%s: %r is not a non-empty string' % (field, value))
    return value


def _integer(value, field, minimum=None):
    """A whole number (or its decimal string); ValueError naming the field otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError('%s: %r is not a whole number' % (field, value))
    try:
        number = int(value)
    except ValueError:
        raise ValueError('%s: %r is not a whole number' % (field, value))
    if minimum is not None and number < minimum:
        raise ValueError('%s: %r is less than %d' % (field, value, minimum))
    return number


def _date(value, field):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError('%s: %r is not a date (YYYY-MM-DD)' % (field, value))


def _why(exc):
    """A short reason for a failed handshake: OpenSSL's reason code when there is one."""
    return getattr(exc, 'reason', None) or str(exc) or type(exc).__name__


def _common_name(peercert):
    for rdn in (peercert or {}).get('subject', ()):
        for name, value in rdn:
            if name == 'commonName':
                return value
    return ''


class _Port:
    def __init__(self, number):
        self.number = number
        self.mode = 'accept'
        self.cert = 'lab'
        self.sock = None
        self.context = None
        self.conns = {}       # record id -> _Conn: every connection of this port not closed yet, at any stage

    def links(self):
        return [conn.link for conn in self.conns.values() if conn.link is not None and not conn.link.closing]

    def describe(self):
        return {'port': self.number, 'mode': self.mode, 'cert': self.cert, 'listening': self.sock is not None,
                'open_connections': len(self.conns), 'open_links': len(self.links())}


class _Conn:
    """One accepted TCP connection, whatever stage it reached."""

    def __init__(self, port, record):
        self.port = port
        self.record = record
        self.task = None        # the silent hold, or the TLS handshake while it runs
        self.handler = None     # aiohttp's protocol object for this connection
        self.transport = None   # the TLS transport once the handshake succeeded
        self.link = None        # the _Link once upgraded to a WebSocket


class _LinkServer(web.Server):
    """aiohttp's low-level server, telling COM when a TLS connection comes up and goes away."""

    def __init__(self, service, **kwargs):
        super().__init__(service._handle_request, **kwargs)
        self.service = service

    def connection_made(self, handler, transport):
        super().connection_made(handler, transport)
        self.service._tls_up(handler, transport)

    def connection_lost(self, handler, exc=None):
        super().connection_lost(handler, exc)
        self.service._tls_down(handler, exc)


class _Link:
    """One WebSocket on the link path: the protocol of comproto.py."""

    def __init__(self, service, conn, ws):
        self.service = service
        self.conn = conn
        self.record = conn.record
        self.ws = ws
        self.customer_id = None
        self.welcomed = False
        self.closing = False
        # Pushes run in their own tasks: one lock keeps frames whole and in order.
        self.lock = asyncio.Lock()

    @property
    def silent(self):
        return self.conn.port.mode == 'silent'

    def _count_in(self):
        self.record['messages_in'] += 1
        self.service.totals['messages_in'] += 1

    async def _write(self, frame):
        try:
            async with self.lock:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
        except (ConnectionError, RuntimeError) as exc:
            LOG.debug('link %d: send failed: %s', self.record['id'], exc)
            return False
        self.record['messages_out'] += 1
        self.service.totals['messages_out'] += 1
        return True

    async def send(self, kind, **fields):
        return await self._write(comproto.message(kind, **fields))

    async def send_licenses(self):
        entitlements = self.service.entitlements(self.customer_id) or []
        return await self.send(comproto.LICENSES, entitlements=entitlements, time=self.service.clock.now())

    def push_licenses(self):
        """Send the current licences unsolicited; False when this link cannot take them now."""
        if not self.welcomed or self.closing or self.silent:
            return False
        self.service._spawn(self.send_licenses())
        return True

    def close(self, reason, code=CLOSE_GOING_AWAY):
        """Close the link (from any task); the first reason given is the one recorded."""
        if self.closing:
            return
        self.closing = True
        if not self.record['close_reason']:
            self.record['close_reason'] = reason
        self.service._spawn(self._close(code, reason))

    async def _close(self, code, reason):
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode('utf-8')[:120]), 2 * CLOSE_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            # A peer that stopped reading must not keep the link open: drop the socket.
            if self.conn.transport is not None:
                self.conn.transport.abort()

    async def run(self):
        while True:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.CLOSE:
                self.record['close_reason'] = self.record['close_reason'] or 'client closed'
                break
            if msg.type == WSMsgType.ERROR:
                self.record['close_reason'] = self.record['close_reason'] or 'link error: %s' % (msg.data,)
                break
            if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                break
            if msg.type == WSMsgType.PING:
                if not self.silent:
                    await self.ws.pong(msg.data)
                continue
            if msg.type == WSMsgType.PONG:
                continue
            self._count_in()
            if self.silent or self.closing:
                continue
            await self.dispatch(msg)

    async def protocol_error(self, text):
        await self.send(comproto.ERROR, text=text)
        if not self.welcomed:
            self.close('protocol error: %s' % text, CLOSE_PROTOCOL_ERROR)

    async def dispatch(self, msg):
        if msg.type != WSMsgType.TEXT:
            await self.protocol_error('binary frames are not part of the link protocol')
            return
        try:
            data = comproto.parse(msg.data)
        except ValueError:
            await self.protocol_error('not a link message (a JSON object with "type")')
            return
        kind = data['type']
        if not self.welcomed:
            if kind == comproto.HELLO:
                await self.hello(data)
            else:
                await self.protocol_error('%s before hello' % kind)
        elif kind == comproto.HELLO:
            await self.send(comproto.ERROR, text='hello already received on this link')
        elif kind in (comproto.LICENSE_REQUEST, comproto.LICENSE_CHECK):
            keys = data.get('keys', [])
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                await self.send(comproto.ERROR, text='%s: keys must be a list of strings' % kind)
            else:
                # license_check answers with the whole current state: the system compares it with what it holds.
                await self.send_licenses()
        elif kind == comproto.HEARTBEAT:
            self.record['last_heartbeat'] = round(self.service.clock.now(), 3)
            await self.send(comproto.HEARTBEAT_ACK, seq=data.get('seq'), time=self.service.clock.now())
        elif kind == comproto.SPEEDTEST:
            size = data.get('bytes')
            if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= comproto.SPEEDTEST_MAX_BYTES:
                await self.send(comproto.ERROR, text='speedtest: bytes must be a whole number from 1 to %d, not %r'
                                % (comproto.SPEEDTEST_MAX_BYTES, size))
            else:
                # Random bytes: a throughput check must not be helped by any compression on the path.
                await self._write(os.urandom(size))
        else:
            await self.send(comproto.ERROR, text='unknown message type %r' % kind)

    async def reject(self, reason, text):
        self.service.totals['rejected'] += 1
        self.record['close_reason'] = 'rejected: %s' % reason
        await self.send(comproto.REJECT, reason=reason, text=text)
        self.close('rejected: %s' % reason, CLOSE_POLICY)

    async def hello(self, data):
        service = self.service
        customer_id, system, when = data.get('customer_id'), data.get('system'), data.get('time')
        if isinstance(customer_id, str):
            self.record['customer_id'] = customer_id
        if isinstance(system, dict):
            self.record['system'] = system.get('name') if isinstance(system.get('name'), str) else ''
            self.record['system_details'] = system
        if not isinstance(customer_id, str) or not customer_id:
            await self.reject(comproto.REJECT_BAD_HELLO, 'hello: customer_id must be a non-empty string')
        elif not isinstance(system, dict) or not isinstance(system.get('name'), str):
            await self.reject(comproto.REJECT_BAD_HELLO, 'hello: system must be an object with a name')
        elif isinstance(when, bool) or not isinstance(when, (int, float)):
            await self.reject(comproto.REJECT_BAD_HELLO, 'hello: time must be seconds since the epoch')
        elif system['name'] != self.record['identity']:
            await self.reject(comproto.REJECT_IDENTITY_MISMATCH, 'the hello names system %s, but the client certificate is %s\'s'
                              % (system['name'], self.record['identity']))
        elif customer_id not in service.customers:
            await self.reject(comproto.REJECT_UNKNOWN_CUSTOMER, 'customer %s is not known to COM' % customer_id)
        elif customer_id != service.registrations[self.record['identity']]:
            await self.reject(comproto.REJECT_IDENTITY_MISMATCH, 'system %s is registered to customer %s, not %s'
                              % (self.record['identity'], service.registrations[self.record['identity']], customer_id))
        elif abs(when - service.clock.now()) > service.spec.max_clock_skew:
            await self.reject(comproto.REJECT_CLOCK_SKEW, 'system clock differs from COM by %+.0f s (at most %g s allowed)'
                              % (when - service.clock.now(), service.spec.max_clock_skew))
        else:
            self.welcomed = True
            self.customer_id = customer_id
            self.record['stage'] = 'linked'
            service.totals['welcomed'] += 1
            await self.send(comproto.WELCOME, link_id=self.record['id'], heartbeat_seconds=service.heartbeat_seconds,
                            time=service.clock.now())
            if self.conn.port.mode == 'drop':
                self.close('dropped by port mode')


class ComSimulator:
    def __init__(self, spec, clock, authority, heartbeat_seconds=3, handshake_timeout=10.0, keep=KEEP_RECORDS):
        if not is_loopback(spec.address):
            raise ValueError('COM address %r is not on 127.0.0.0/8' % (spec.address,))
        self.spec = spec
        self.clock = clock
        self.authority = authority
        self.heartbeat_seconds = heartbeat_seconds
        self.handshake_timeout = handshake_timeout
        self.keep = keep
        self.ports = dict((number, _Port(number)) for number in spec.ports)
        self.customers = self._spec_customers()
        self.registrations = spec.registrations()   # system name -> customer_id; fixed by the topology
        self.records = []
        self.next_id = 0
        self.totals = self._zero_totals()
        self._loop = None
        self._server = None
        self._by_handler = {}
        self._tasks = set()

    # -- state ----------------------------------------------------------------------------------------------------------------------

    def _spec_customers(self):
        return dict((customer_id, dict((item.key, SubscriptionSpec(item.key, item.display_name, item.license_type, item.quantity, item.expires))
                                       for item in customer.subscriptions))
                    for customer_id, customer in self.spec.customers.items())

    @staticmethod
    def _zero_totals():
        return {'connections': 0, 'handshake_failures': 0, 'refused': 0, 'links': 0, 'welcomed': 0, 'rejected': 0, 'messages_in': 0,
                'messages_out': 0}

    def entitlements(self, customer_id):
        """The customer's subscriptions as comproto entitlements, or None for a customer COM does not know."""
        if customer_id not in self.customers:
            return None
        return [comproto.entitlement(item.key, item.display_name, item.license_type, item.quantity, item.expires)
                for item in self.customers[customer_id].values()]

    def _push(self, customer_id):
        """Send the current licences to every connected link of the customer; returns how many got them."""
        return sum(1 for port in self.ports.values() for link in port.links()
                   if link.customer_id == customer_id and link.push_licenses())

    def set_subscription(self, customer_id, key, expires=None, quantity=None, display_name=None, license_type=None, remove=False):
        """Create, change or remove one subscription; returns the number of links the new state was pushed to."""
        customer_id = _text(customer_id, 'customer_id')
        key = _text(key, 'key')
        expires = None if expires is None else _date(expires, 'expires')
        quantity = None if quantity is None else _integer(quantity, 'quantity', 0)
        license_type = None if license_type is None else _integer(license_type, 'type', 0)
        if display_name is not None and not isinstance(display_name, str):
            raise ValueError('display_name: %r is not a string' % (display_name,))
        if not isinstance(remove, bool):
            raise ValueError('remove: %r is not true or false' % (remove,))
        if remove:
            if key not in self.customers.get(customer_id, {}):
                return 0
            del self.customers[customer_id][key]
        else:
            items = self.customers.setdefault(customer_id, {})
            if key not in items:
                # The same defaults as a topology entry without these fields (world.check_subscription).
                items[key] = SubscriptionSpec(key, key.replace('Subscription ', ''), 0, 1, self.clock.today() + datetime.timedelta(days=365))
            item = items[key]
            item.expires = item.expires if expires is None else expires
            item.quantity = item.quantity if quantity is None else quantity
            item.display_name = item.display_name if display_name is None else display_name
            item.license_type = item.license_type if license_type is None else license_type
        LOG.info('COM: subscription %s of %s %s', key, customer_id, 'removed' if remove else 'set')
        return self._push(customer_id)

    def set_customer(self, customer_id, subscriptions):
        """Replace a customer's subscriptions (SubscriptionSpec or topology-style dicts); None removes the customer.

        Links of a removed customer stay up and are told they hold nothing.
        Returns the number of links the new state was pushed to.
        """
        customer_id = _text(customer_id, 'customer_id')
        if subscriptions is None:
            self.customers.pop(customer_id, None)
            LOG.info('COM: customer %s removed', customer_id)
            return self._push(customer_id)
        if not isinstance(subscriptions, (list, tuple)):
            raise ValueError('subscriptions: expected a list, not %r' % (subscriptions,))
        items = {}
        for index, entry in enumerate(subscriptions):
            where = 'subscriptions[%d]' % index
            if not isinstance(entry, SubscriptionSpec):
                try:
                    entry = check_subscription(entry, self.clock.today(), where)
                except (TopologyError, OverflowError) as exc:
                    raise ValueError('%s: %s' % (where, exc) if isinstance(exc, OverflowError) else str(exc))
            if entry.key in items:
                raise ValueError('%s.key: %r appears twice' % (where, entry.key))
            items[entry.key] = SubscriptionSpec(entry.key, entry.display_name, entry.license_type, entry.quantity, entry.expires)
        self.customers[customer_id] = items
        LOG.info('COM: customer %s set with %d subscriptions', customer_id, len(items))
        return self._push(customer_id)

    # -- records --------------------------------------------------------------------------------------------------------------------

    def _new_record(self, port, peer):
        self.next_id += 1
        record = dict.fromkeys(RECORD_FIELDS)
        record.update(id=self.next_id, port=port, peer=peer[0], peer_port=peer[1], stage='tcp', tls_version='', identity='',
                      customer_id='', system='', system_details={}, opened=round(self.clock.now(), 3), state='open',
                      close_reason='', messages_in=0, messages_out=0)
        self.records.append(record)
        if len(self.records) > self.keep:
            del self.records[:len(self.records) - self.keep]
        self.totals['connections'] += 1
        return record

    def connections(self, since=0):
        """Copies of the connection records with id > since, oldest first."""
        return [dict(record, system_details=dict(record['system_details'])) for record in self.records if record['id'] > since]

    def _finish(self, conn, reason):
        record = conn.record
        conn.port.conns.pop(record['id'], None)
        if conn.handler is not None:
            self._by_handler.pop(conn.handler, None)
        if record['state'] == 'closed':
            return
        record['state'] = 'closed'
        record['closed'] = round(self.clock.now(), 3)
        record['close_reason'] = record['close_reason'] or reason

    # -- ports ----------------------------------------------------------------------------------------------------------------------

    def _open_listener(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.spec.address, port.number))
            sock.listen(1024)  # 200 systems may connect at once after a reset or a port switch
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        port.sock = sock
        self._loop.add_reader(sock.fileno(), self._accept, port)

    def _close_listener(self, port):
        if port.sock is not None:
            self._loop.remove_reader(port.sock.fileno())
            port.sock.close()
            port.sock = None

    def _close_conn(self, conn, reason):
        """Close one connection at whatever stage it is; the record closes when the socket does."""
        if conn.link is not None:
            conn.link.close(reason)
            return
        if not conn.record['close_reason']:
            conn.record['close_reason'] = reason
        if conn.transport is not None:
            conn.transport.abort()
        elif conn.task is not None:
            conn.task.cancel()

    def _close_port_conns(self, port, reason):
        for conn in list(port.conns.values()):
            self._close_conn(conn, reason)

    def set_port(self, port, mode=None, cert=None):
        """Switch a port's mode and/or certificate; returns the port's description. KeyError: no such port."""
        if port not in self.ports:
            raise KeyError('COM has no port %r (ports: %s)' % (port, ', '.join(str(number) for number in self.ports)))
        if mode is not None and mode not in PORT_MODES:
            raise ValueError('mode: %r is not one of %s' % (mode, ', '.join(PORT_MODES)))
        if cert is not None and cert not in CERT_MODES:
            raise ValueError('cert: %r is not one of %s' % (cert, ', '.join(CERT_MODES)))
        state = self.ports[port]
        if cert is not None:
            state.cert = cert   # read by the TLS context at every new handshake
        if mode is not None and mode != state.mode:
            if self._loop is not None:
                if mode == 'refuse':
                    self._close_listener(state)
                    self._close_port_conns(state, 'refused by port mode')
                elif state.mode == 'refuse':
                    self._open_listener(state)
                if mode == 'drop':
                    self._close_port_conns(state, 'dropped by port mode')
            state.mode = mode
        LOG.info('COM port %d: mode %s, cert %s', port, state.mode, state.cert)
        return state.describe()

    # -- connections ----------------------------------------------------------------------------------------------------------------

    def _spawn(self, coro):
        task = self._loop.create_task(coro)
        # The loop keeps only weak references to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _accept(self, port):
        budget = ACCEPT_BATCH
        while budget > 0 and port.sock is not None:
            budget -= 1
            try:
                sock, peer = port.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                LOG.warning('COM port %d: accept failed: %s', port.number, exc)
                return
            sock.setblocking(False)
            conn = _Conn(port, self._new_record(port.number, peer))
            port.conns[conn.record['id']] = conn
            if port.mode == 'silent':
                conn.task = self._spawn(self._hold_silent(conn, sock))
            else:
                conn.task = self._spawn(self._serve_tls(conn, sock))

    async def _hold_silent(self, conn, sock):
        reason = 'client closed'
        try:
            # Read and forget: a silent port never answers, not even with a ServerHello.
            while await self._loop.sock_recv(sock, 65536):
                pass
        except OSError as exc:
            reason = 'connection lost: %s' % exc
        finally:
            sock.close()
            conn.task = None
            self._finish(conn, reason)

    def _make_handler(self, conn):
        conn.handler = self._server()
        self._by_handler[conn.handler] = conn
        return conn.handler

    async def _serve_tls(self, conn, sock):
        try:
            await self._loop.connect_accepted_socket(lambda: self._make_handler(conn), sock, ssl=conn.port.context,
                                                     ssl_handshake_timeout=self.handshake_timeout,
                                                     ssl_shutdown_timeout=SSL_SHUTDOWN_TIMEOUT)
        except asyncio.CancelledError:
            sock.close()
            self._finish(conn, 'closed during the TLS handshake')
        except Exception as exc:  # any failure here is the peer's handshake failing: record it, keep serving others
            sock.close()
            self.totals['handshake_failures'] += 1
            self._finish(conn, 'handshake failed: %s' % _why(exc))
        finally:
            conn.task = None

    def _tls_up(self, handler, transport):
        conn = self._by_handler.get(handler)
        if conn is None:
            return
        conn.transport = transport
        ssl_object = transport.get_extra_info('ssl_object')
        conn.record['stage'] = 'tls'
        conn.record['tls_version'] = ssl_object.version() if ssl_object is not None else ''
        conn.record['identity'] = _common_name(transport.get_extra_info('peercert'))

    def _tls_down(self, handler, exc):
        conn = self._by_handler.get(handler)
        if conn is not None:
            self._finish(conn, 'client closed' if exc is None else 'connection lost: %s' % exc)

    async def _handle_request(self, request):
        conn = self._by_handler.get(request.protocol)
        if conn is None or conn.record['state'] != 'open':
            raise web.HTTPServiceUnavailable()
        identity = conn.record['identity']
        if identity not in self.registrations:
            # The CA signed it, but COM knows no such system: refused as a server refuses a client it does not know.
            self.totals['refused'] += 1
            reason = 'certificate %r names no system registered to a customer' % identity
            conn.record['close_reason'] = conn.record['close_reason'] or 'refused: %s' % reason
            return web.Response(status=403, text='forbidden: %s\n' % reason, headers={'Connection': 'close'})
        if request.path != comproto.LINK_PATH:
            return web.Response(status=404, text='not found\n')
        ws = web.WebSocketResponse(autoping=False, compress=False, timeout=CLOSE_TIMEOUT, max_msg_size=MAX_MESSAGE)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text='expected a WebSocket upgrade\n')
        await ws.prepare(request)
        conn.link = _Link(self, conn, ws)
        conn.record['stage'] = 'websocket'
        self.totals['links'] += 1
        try:
            await conn.link.run()
        finally:
            # The link is over even when the peer closed it: no more pushes, not counted as open.
            conn.link.closing = True
        return ws

    # -- life cycle -----------------------------------------------------------------------------------------------------------------

    async def start(self):
        if self._loop is not None:
            raise RuntimeError('COM simulator already started')
        self._loop = asyncio.get_running_loop()
        self._server = _LinkServer(self, access_log=None)
        try:
            for port in self.ports.values():
                # One context per port: each reads its own port's certificate switch.
                port.context = self.authority.com_context(self.spec.names, self.spec.address, lambda port=port: port.cert)
                if port.mode != 'refuse':
                    self._open_listener(port)
        except BaseException:
            await self.stop()
            raise
        LOG.info('COM listening on %s ports %s', self.spec.address, ', '.join(str(number) for number in self.ports))

    async def stop(self):
        if self._loop is None:
            return
        for port in self.ports.values():
            self._close_listener(port)
            self._close_port_conns(port, 'COM stopped')
        # Let the closes run (each bounded by CLOSE_TIMEOUT and the TLS shutdown timeout).
        deadline = self._loop.time() + 2 * CLOSE_TIMEOUT + SSL_SHUTDOWN_TIMEOUT
        while self._tasks and self._loop.time() < deadline:
            await asyncio.wait(list(self._tasks), timeout=deadline - self._loop.time())
        for task in list(self._tasks):
            task.cancel()
        for port in self.ports.values():
            for conn in list(port.conns.values()):
                if conn.transport is not None:
                    conn.transport.abort()
                self._finish(conn, 'COM stopped')
        await self._server.shutdown(1.0)
        self._loop = None
        LOG.info('COM stopped')

    def reset(self):
        """Ports back to accept with the lab certificate, subscriptions back to the topology, records cleared, links closed."""
        for port in self.ports.values():
            if self._loop is not None and port.sock is None:
                self._open_listener(port)
            port.mode = 'accept'
            port.cert = 'lab'
            if self._loop is not None:
                self._close_port_conns(port, 'lab reset')
            # Forget them now: after a reset nothing of the old links may show or be pushed to.
            port.conns.clear()
        self.customers = self._spec_customers()
        self.records = []
        self.totals = self._zero_totals()

    def describe(self):
        totals = dict(self.totals)
        totals['open_connections'] = sum(len(port.conns) for port in self.ports.values())
        totals['open_links'] = sum(len(port.links()) for port in self.ports.values())
        return {
            'address': self.spec.address,
            'names': list(self.spec.names),
            'running': self._loop is not None,
            'max_clock_skew': self.spec.max_clock_skew,
            'heartbeat_seconds': self.heartbeat_seconds,
            'ports': [port.describe() for port in self.ports.values()],
            'customers': dict((customer_id, self.entitlements(customer_id)) for customer_id in self.customers),
            'registrations': dict(self.registrations),
            'totals': totals,
            'last_id': self.next_id,
        }


# -- control API ----------------------------------------------------------------------------------------------------------------------

SUBSCRIPTION_FIELDS = ('key', 'expires', 'expires_in_days', 'quantity', 'display_name', 'type', 'remove')


def _unknown_fields(data, allowed):
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest('unknown field%s: %s (allowed: %s)' % ('s' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(allowed)))


def control_routes(service):
    """(method, path, handler) for the control app; handlers raise control.BadRequest / NotFound."""

    async def get_com(request):
        return answer(service.describe())

    async def post_port(request):
        text = request.match_info['port']
        try:
            port = int(text)
        except ValueError:
            raise BadRequest('port: %r is not a number' % text)
        data = await body(request)
        _unknown_fields(data, ('mode', 'cert'))
        try:
            result = service.set_port(port, mode=data.get('mode'), cert=data.get('cert'))
        except KeyError:
            raise NotFound('COM port %d' % port)
        except ValueError as exc:
            raise BadRequest(str(exc))
        except OSError as exc:
            raise BadRequest('port %d: cannot listen again: %s' % (port, exc))
        return answer({'ok': True, 'port': result})

    async def get_connections(request):
        return answer(service.connections(since_param(request)))

    def customer_answer(customer_id, pushed):
        return answer({'ok': True, 'customer_id': customer_id, 'known': customer_id in service.customers,
                       'subscriptions': service.entitlements(customer_id) or [], 'pushed': pushed})

    async def post_subscription(request):
        customer_id = request.match_info['customer_id']
        data = await body(request)
        _unknown_fields(data, SUBSCRIPTION_FIELDS)
        if 'key' not in data:
            raise BadRequest('key: missing')
        if 'expires' in data and 'expires_in_days' in data:
            raise BadRequest('expires, expires_in_days: give one of them, not both')
        try:
            expires = data.get('expires')
            if 'expires_in_days' in data:
                days = _integer(data['expires_in_days'], 'expires_in_days')
                try:
                    expires = service.clock.today() + datetime.timedelta(days=days)
                except OverflowError:
                    raise ValueError('expires_in_days: %r is out of range' % (data['expires_in_days'],))
            elif expires is not None and not isinstance(expires, str):
                raise ValueError('expires: %r is not a date (YYYY-MM-DD)' % (expires,))
            pushed = service.set_subscription(customer_id, data['key'], expires=expires, quantity=data.get('quantity'),
                                              display_name=data.get('display_name'), license_type=data.get('type'),
                                              remove=data.get('remove', False))
        except ValueError as exc:
            raise BadRequest(str(exc))
        return customer_answer(customer_id, pushed)

    async def post_customer(request):
        customer_id = request.match_info['customer_id']
        data = await body(request)
        _unknown_fields(data, ('subscriptions',))
        if 'subscriptions' not in data:
            raise BadRequest('subscriptions: missing (a list, or null to remove the customer)')
        try:
            pushed = service.set_customer(customer_id, data['subscriptions'])
        except ValueError as exc:
            raise BadRequest(str(exc))
        return customer_answer(customer_id, pushed)

    return [
        ('GET', '/lab/com', get_com),
        ('POST', '/lab/com/ports/{port}', post_port),
        ('GET', '/lab/com/connections', get_connections),
        ('POST', '/lab/com/customers/{customer_id}/subscriptions', post_subscription),
        ('POST', '/lab/com/customers/{customer_id}', post_customer),
    ]
