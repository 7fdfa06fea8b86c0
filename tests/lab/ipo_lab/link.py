"""The subscription link of one emulated IP Office, run as the seeds describe it.

Once a system has its prerequisites (a default route whose gateway is on the
LAN it names, a DNS server, an SNTP time source, customer ID, subscription
server address and an enabled COMAdmin), its agent:

1. asks its configured time source for the time (SNTP, from its LAN1 address);
2. resolves the server address through ITS OWN configured DNS server (UDP,
   from its LAN1 address; the backup server when the first does not answer).
   The seeds say the destination is one static address: no address, or more
   than one, means no link, and the status says which;
3. tries the two COM ports in turn (443, 8443, 443 ...) until one carries a
   TLS 1.2 WebSocket with mutual authentication (its identity certificate from
   the lab CA; COM's certificate must chain to the lab CA and name the server);
4. sends hello, asks for its licences, then heartbeats and checks them.

The link counts as made when COM has answered the licence request. When a
made link is lost, the system enters error mode: a 30-day grace period with
one alarm a day; reconnecting clears the alarms and the error mode; when the
grace period ends, subscription features and telephony are deactivated. A
subscription whose expiry date passes while connected stops at once (its
licence reads back Expired).

Everything is measured against the lab clock (clock.py), so tests can move
days in one call. The agent only ever sends to 127.0.0.0/8: a DNS server, time
server or resolved address anywhere else counts as unreachable and nothing is
sent there.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import ipaddress
import logging
import math
import socket
import ssl
import statistics
import struct
import time

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from . import comproto
from .clock import DAY, iso
from .topology import guid_for, holds_link
from .world import is_loopback

LOG = logging.getLogger('ipo_lab.link')

NOT_APPLICABLE = 'NotApplicable'
NOT_CONFIGURED = 'NotConfigured'
CONNECTING = 'Connecting'
CONNECTED = 'Connected'
ERROR_MODE = 'ErrorMode'
EXPIRED = 'Expired'

# How often a connected system checks its licences (in heartbeats) and re-reads its time source (seconds).
LICENSE_CHECK_EVERY = 5
TIME_SYNC_SECONDS = 60.0
DNS_TIMEOUT = 2.0
SNTP_TIMEOUT = 2.0
NTP_EPOCH_OFFSET = 2208988800

LICENSE_VALID = 1
LICENSE_EXPIRED = 2
LICENSE_INVALID = 0


class LinkFailure(Exception):
    """One step of bringing the link up failed; reason is a stable code, text says why."""

    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason
        self.text = text


def _in_subnet(address, lan):
    try:
        network = ipaddress.IPv4Network('%s/%s' % (lan['IPAddress'], lan['IPMask']), strict=False)
        return ipaddress.IPv4Address(address) in network
    except ValueError:
        return False


def prerequisites(state):
    """What the stored configuration says about the link: (settings, [missing prerequisite codes])."""
    # A setting that needs a reboot (the DNS server) acts only once the system has rebooted.
    system = state.in_effect()
    missing = []
    route = None
    for candidate in state.collections['IPRoute']:
        if candidate['IPAddress'] == '0.0.0.0' and candidate['IPMask'] == '0.0.0.0':
            lan = state.lan(candidate['Destination'])
            if lan is not None and _in_subnet(candidate['GatewayIPAddress'], lan):
                route = candidate
                break
    if route is None:
        missing.append('default_route')
    dns_settings = system['DNS']
    dns_servers = [address for address in (dns_settings['DNSServerIPAddress'], dns_settings['BackupDNSServerIPAddress'])
                   if address and address != '0.0.0.0']
    if not dns_servers:
        missing.append('dns_server')
    times = system['TimeSettings']
    if times['TimeSettingConfigSource'] != 'SNTP' or not times['TimeServerAddress']:
        missing.append('time_source')
    subscription = system['Subscription']
    if not subscription['CustomerID']:
        missing.append('customer_id')
    if not subscription['ServerAddress']:
        missing.append('server_address')
    comadmin = [user for user in state.collections['ServiceUser'] if user['Name'] == 'COMAdmin']
    if not comadmin or comadmin[0]['AccountStatus'] != 'Enabled':
        missing.append('comadmin')
    settings = {
        'route': (route['GatewayIPAddress'], route['Destination']) if route else None,
        'dns_servers': tuple(dns_servers),
        'time_server': times['TimeServerAddress'],
        'customer_id': subscription['CustomerID'],
        'server_address': server_host(subscription['ServerAddress']),
    }
    return settings, missing


def server_host(value):
    """The host name of the License Server setting, entered as a bare name or in the guide's URL form
    (https://host, optionally with a port)."""
    text = value.strip()
    if '://' in text:
        text = text.split('://', 1)[1]
    text = text.split('/', 1)[0]
    if text.count(':') == 1:
        text = text.split(':', 1)[0]
    return text


MISSING_TEXT = {
    'default_route': 'no default IP route (0.0.0.0/0.0.0.0) with a gateway on the LAN it names',
    'dns_server': 'no DNS server',
    'time_source': 'no SNTP time source',
    'customer_id': 'no customer ID',
    'server_address': 'no subscription server address',
    'comadmin': 'the COMAdmin service user is missing or not enabled',
}


class LinkAgent:
    def __init__(self, state, world, clock, authority, on_event=None):
        self.state = state
        self.world = world
        self.clock = clock
        self.authority = authority
        self.on_event = on_event or (lambda *args: None)
        self.applicable = holds_link(state.spec.system_type)
        self.changed = asyncio.Event()
        self.task = None
        self.websocket = None
        self.link_settings = None
        self.generation = 0
        self.reset_state()

    # --- state ------------------------------------------------------------

    def reset_state(self):
        self.connected = False
        self.port = 0
        self.resolved = ''
        self.connected_since = 0.0
        self.last_heartbeat = 0.0
        self.last_attempt = 0.0
        self.attempts = 0
        self.attempt_log = collections.deque(maxlen=20)
        self.reason = ''
        self.reason_text = ''
        self.missing = []
        self.grace_since = 0.0          # when a made link was lost; 0: not in error mode
        self.entitlements = []          # what COM last sent
        self.entitlements_at = 0.0
        self.round_trips = collections.deque(maxlen=10)
        self.last_ack_mono = 0.0
        self.time_sync = {'synchronised': False, 'offset': 0.0, 'at': 0.0, 'mono': 0.0, 'server': '', 'error': ''}
        self.next_port = 0
        self.links_made = 0

    def reset(self):
        """Back to a system that never connected (the control API's lab reset).

        The running loop is cancelled and a new one started; the generation
        number keeps the old loop's clean-up from touching the new state.
        """
        self.generation += 1
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.websocket = None
        self.reset_state()
        self.changed.clear()
        self.start()

    def config_changed(self):
        """The stored configuration changed: re-check at once (and re-link if link settings changed)."""
        self.changed.set()

    def system_time(self):
        """The emulated system's clock: the lab clock plus what its time source taught it."""
        return self.clock.now() + (self.time_sync['offset'] if self.time_sync['synchronised'] else 0.0)

    def grace(self):
        """(days elapsed, days left, expired) of the error mode, or None when not in it."""
        if not self.grace_since:
            return None
        elapsed = max(0.0, self.clock.now() - self.grace_since) / DAY
        grace_days = self.world.link.grace_days
        return elapsed, max(0, math.ceil(grace_days - elapsed)), elapsed >= grace_days

    def link_state(self):
        if not self.applicable:
            return NOT_APPLICABLE
        if self.connected:
            return CONNECTED
        grace = self.grace()
        if grace is not None:
            return EXPIRED if grace[2] else ERROR_MODE
        return NOT_CONFIGURED if self.missing else CONNECTING

    def alarms(self):
        """One alarm per day of error mode (day 1 at the loss), and one when the grace period ends."""
        grace = self.grace()
        if grace is None:
            return []
        elapsed, left, expired = grace
        grace_days = self.world.link.grace_days
        alarms = []
        for day in range(1, min(int(elapsed) + 1, grace_days) + 1):
            alarms.append({'Day': day, 'Raised': iso(self.grace_since + (day - 1) * DAY),
                           'Text': 'Subscription server unreachable: error mode day %d of %d, %d days left'
                                   % (day, grace_days, max(0, grace_days - day + 1))})
        if expired:
            alarms.append({'Day': grace_days + 1, 'Raised': iso(self.grace_since + grace_days * DAY),
                           'Text': 'Subscription grace period expired: subscription features and telephony deactivated'})
        return alarms

    def license_status(self, expires):
        grace = self.grace()
        if grace is not None and grace[2]:
            return LICENSE_INVALID
        if self.clock.today() >= expires:
            return LICENSE_EXPIRED
        return LICENSE_VALID

    def licenses(self):
        """The subscription licences the system holds, as License objects (the guide's fields)."""
        grace = self.grace()
        in_grace = grace is not None and not grace[2]
        objects = []
        for item in self.entitlements:
            expires = datetime.date.fromisoformat(item['expires'])
            objects.append({
                '@GUID': guid_for(self.state.name, 'License', item['key']),
                'LicenseKey': item['key'], 'Source': 3, 'Type': int(item.get('type', 0)),
                'Status': self.license_status(expires), 'Quantity': int(item.get('quantity', 0)),
                'FreeInstances': int(item.get('quantity', 0)), 'ExpiryDate': expires.strftime('%Y/%m/%d'), 'Mode': 2,
                'DisplayName': item.get('display_name', item['key']), 'IsGrace': in_grace, 'PBXAddress': self.state.address,
            })
        return objects

    def status(self):
        """The SubscriptionStatus object this system serves (docs/object-model.md)."""
        state = self.link_state()
        grace = self.grace()
        features = 'None'
        if self.entitlements:
            features = 'Deactivated' if state == EXPIRED else 'Active'
        rtt = round(statistics.median(self.round_trips) * 1000) if self.round_trips else 0
        return {
            '@GUID': self.state.system['@GUID'],
            'PBXAddress': self.state.address,
            'LinkState': state,
            'Reason': self.reason if state != CONNECTED else '',
            'ReasonText': self.reason_text if state != CONNECTED else '',
            'MissingPrerequisites': '|'.join(self.missing),
            'ServerAddress': (self.link_settings or {}).get('server_address', '') if self.applicable else '',
            'ResolvedAddress': self.resolved,
            'Port': self.port if self.connected else 0,
            'ConnectedSince': iso(self.connected_since) if self.connected else '',
            'LastHeartbeat': iso(self.last_heartbeat),
            'LastAttempt': iso(self.last_attempt),
            'Attempts': self.attempts,
            'RoundTripMs': rtt,
            'ErrorModeSince': iso(self.grace_since),
            'GracePeriodDays': self.world.link.grace_days,
            'GraceDaysLeft': grace[1] if grace else self.world.link.grace_days,
            'Alarms': {'Alarm': self.alarms()},
            'Telephony': 'Deactivated' if state == EXPIRED else 'Active',
            'SubscriptionFeatures': features,
            'TimeSynchronised': self.time_sync['synchronised'],
            'TimeOffsetMs': round(self.time_sync['offset'] * 1000) if self.time_sync['synchronised'] else 0,
            'LastLicenseUpdate': iso(self.entitlements_at),
        }

    def describe(self):
        """Everything the control API shows about this link (more than the API's status object)."""
        data = self.status()
        data['Alarms'] = self.alarms()
        data['attempt_log'] = list(self.attempt_log)
        data['time_sync'] = dict(self.time_sync, at=iso(self.time_sync['at']))
        data['time_sync'].pop('mono')
        data['entitlements'] = list(self.entitlements)
        data['links_made'] = self.links_made
        data['round_trips_ms'] = [round(value * 1000, 1) for value in self.round_trips]
        return data

    # --- the loop ---------------------------------------------------------

    def start(self):
        if self.applicable and self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run(), name='link-%s' % self.state.name)

    async def stop(self):
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None

    def fail(self, reason, text):
        self.reason = reason
        self.reason_text = text

    async def pause(self, seconds):
        """Wait, but wake early when the configuration changes."""
        try:
            await asyncio.wait_for(self.changed.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def run(self):
        while True:
            self.changed.clear()
            settings, missing = prerequisites(self.state)
            self.link_settings = settings
            self.missing = missing
            if missing:
                self.fail('missing_prerequisites', '; '.join(MISSING_TEXT[code] for code in missing))
                # Nothing to try until the configuration changes.
                await self.pause(3600)
                continue
            try:
                await self.attempt(settings)
            except LinkFailure as failure:
                self.fail(failure.reason, failure.text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the lab must keep running whatever one link does
                LOG.exception('%s: link attempt failed unexpectedly', self.state.name)
                self.fail('internal_error', '%s: %s' % (type(exc).__name__, exc))
            await self.pause(self.world.link.retry_seconds)

    async def attempt(self, settings):
        await self.sync_time(settings)
        address = await self.resolve(settings)
        ports = self.world.com.ports
        port = ports[self.next_port % len(ports)]
        # The IP Office alternates between the two ports until one works.
        self.next_port += 1
        self.attempts += 1
        self.last_attempt = self.clock.now()
        try:
            await self.connect_and_serve(settings, address, port)
        except LinkFailure as failure:
            self.attempt_log.append({'time': iso(self.last_attempt), 'address': address, 'port': port, 'result': failure.reason})
            raise
        self.attempt_log.append({'time': iso(self.last_attempt), 'address': address, 'port': port, 'result': 'link ended: %s' % self.reason})

    # --- time ---------------------------------------------------------------

    async def sync_time(self, settings):
        sync = self.time_sync
        fresh = sync['at'] and time.monotonic() - sync['mono'] < TIME_SYNC_SECONDS and sync['server'] == settings['time_server']
        if fresh:
            return
        server = settings['time_server']
        sync.update(server=server, at=self.clock.now(), mono=time.monotonic())
        try:
            address = server if _is_ipv4(server) else await self.lookup(settings, server)
            offset = await self.sntp_offset(address)
        except LinkFailure as failure:
            sync.update(synchronised=False, offset=0.0, error=failure.text)
            return
        sync.update(synchronised=True, offset=offset, error='')

    async def sntp_offset(self, address):
        if not is_loopback(address):
            raise LinkFailure('time_unreachable', 'time server %s is outside the lab (127.0.0.0/8); nothing was sent' % address)
        loop = asyncio.get_running_loop()
        request = bytearray(48)
        request[0] = (4 << 3) | 3  # version 4, client
        sent = self.clock.now()
        struct.pack_into('!II', request, 40, int(sent) + NTP_EPOCH_OFFSET, int((sent % 1) * 2 ** 32))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.bind((self.state.address, 0))
            await loop.sock_connect(sock, (address, self.world.sntp.port))
            await loop.sock_sendall(sock, bytes(request))
            reply = await asyncio.wait_for(loop.sock_recv(sock, 512), SNTP_TIMEOUT)
        except asyncio.TimeoutError:
            raise LinkFailure('time_unreachable', 'time server %s did not answer within %.0f s' % (address, SNTP_TIMEOUT))
        except OSError as exc:
            raise LinkFailure('time_unreachable', 'time server %s: %s' % (address, exc.strerror or exc))
        finally:
            sock.close()
        received = self.clock.now()
        if len(reply) < 48:
            raise LinkFailure('time_unreachable', 'time server %s sent a short answer' % address)
        seconds, fraction = struct.unpack_from('!II', reply, 40)
        server_time = seconds - NTP_EPOCH_OFFSET + fraction / 2 ** 32
        return server_time - (sent + received) / 2

    # --- DNS ----------------------------------------------------------------

    async def lookup(self, settings, name):
        """A name's IPv4 addresses through the system's own DNS servers (first, then backup)."""
        errors = []
        for server in settings['dns_servers']:
            if not is_loopback(server):
                errors.append('%s is outside the lab (127.0.0.0/8); nothing was sent' % server)
                continue
            query = dns.message.make_query(name, dns.rdatatype.A)
            try:
                answer = await dns.asyncquery.udp(query, server, timeout=DNS_TIMEOUT, port=self.world.dns.port, source=self.state.address)
            except dns.exception.Timeout:
                errors.append('%s did not answer within %.0f s' % (server, DNS_TIMEOUT))
                continue
            except OSError as exc:
                errors.append('%s: %s' % (server, exc.strerror or exc))
                continue
            rcode = answer.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                raise LinkFailure('dns_name_not_found', 'DNS server %s: %s does not exist (NXDOMAIN)' % (server, name))
            if rcode != dns.rcode.NOERROR:
                errors.append('%s answered %s' % (server, dns.rcode.to_text(rcode)))
                continue
            return sorted(set(item.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A for item in rrset))
        raise LinkFailure('dns_unreachable', 'no DNS server answered for %s: %s' % (name, '; '.join(errors)))

    async def resolve(self, settings):
        server = settings['server_address']
        if _is_ipv4(server):
            addresses = [server]
        else:
            addresses = await self.lookup(settings, server)
        if not addresses:
            raise LinkFailure('dns_no_address', 'DNS has no address for %s' % server)
        if len(addresses) > 1:
            raise LinkFailure('dns_multiple_addresses', '%s resolves to %d addresses (%s); the subscription server must be one static address'
                              % (server, len(addresses), ', '.join(addresses)))
        self.resolved = addresses[0]
        if not is_loopback(self.resolved):
            raise LinkFailure('server_unreachable', '%s resolves to %s, outside the lab (127.0.0.0/8); nothing was sent' % (server, self.resolved))
        return self.resolved

    # --- the link -------------------------------------------------------------

    async def connect_and_serve(self, settings, address, port):
        loop = asyncio.get_running_loop()
        timeout = self.world.link.connect_timeout
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((self.state.address, 0))
            await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout)
        except ConnectionRefusedError:
            sock.close()
            raise LinkFailure('port_refused', 'TCP %s:%d refused the connection' % (address, port))
        except asyncio.TimeoutError:
            sock.close()
            raise LinkFailure('port_timeout', 'TCP %s:%d did not answer within %.0f s' % (address, port, timeout))
        except OSError as exc:
            sock.close()
            raise LinkFailure('port_unreachable', 'TCP %s:%d: %s' % (address, port, exc.strerror or exc))
        server_name = settings['server_address']
        context = self.authority.client_context(self.state.name)
        uri = 'wss://%s:%d%s' % (server_name, port, comproto.LINK_PATH)
        try:
            websocket = await ws_connect(uri, sock=sock, ssl=context, server_hostname=server_name, open_timeout=timeout,
                                         ping_interval=None, close_timeout=1, max_size=comproto.SPEEDTEST_MAX_BYTES + 1024)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise LinkFailure('tls_untrusted_certificate', 'port %d: the server certificate does not verify (%s): a TLS-intercepting proxy on the path?'
                              % (port, exc.verify_message or exc))
        except ssl.SSLError as exc:
            sock.close()
            raise LinkFailure('tls_failed', 'port %d: TLS handshake failed: %s' % (port, exc.reason or exc))
        except (asyncio.TimeoutError, TimeoutError):
            sock.close()
            raise LinkFailure('handshake_timeout', 'port %d: no TLS/WebSocket handshake within %.0f s' % (port, timeout))
        except (InvalidHandshake, OSError, EOFError) as exc:
            sock.close()
            raise LinkFailure('websocket_failed', 'port %d: WebSocket upgrade failed: %s' % (port, exc))
        self.websocket = websocket
        generation = self.generation
        try:
            await self.converse(websocket, settings, port)
        finally:
            if generation == self.generation:
                self.websocket = None
                self.link_lost()
            await websocket.close()

    async def request(self, websocket, kind, wanted, timeout, **fields):
        await websocket.send(comproto.message(kind, **fields))
        while True:
            reply = comproto.parse(await asyncio.wait_for(websocket.recv(), timeout))
            if reply['type'] in wanted:
                return reply
            if reply['type'] == comproto.LICENSES:
                self.take_licenses(reply)

    def take_licenses(self, message):
        self.entitlements = list(message.get('entitlements') or [])
        self.entitlements_at = self.clock.now()

    async def converse(self, websocket, settings, port):
        timeout = self.world.link.connect_timeout
        system = self.state.spec
        hello = {'name': system.name, 'guid': self.state.system['@GUID'], 'type': system.system_type,
                 'version': '%d.%d.%d' % system.version, 'server_types': [system.system_type], 'lan1': self.state.address}
        try:
            reply = await self.request(websocket, comproto.HELLO, (comproto.WELCOME, comproto.REJECT, comproto.ERROR), timeout,
                                       customer_id=settings['customer_id'], system=hello, time=self.system_time())
            if reply['type'] != comproto.WELCOME:
                raise LinkFailure('com_rejected', 'port %d: COM rejected the hello: %s (%s)' % (port, reply.get('reason', 'error'), reply.get('text', '')))
            licenses = await self.request(websocket, comproto.LICENSE_REQUEST, (comproto.LICENSES,), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise LinkFailure('com_silent', 'port %d: COM did not answer within %.0f s' % (port, timeout))
        except ConnectionClosed:
            raise LinkFailure('link_dropped', 'port %d: COM closed the link during set-up' % port)
        except ValueError as exc:
            raise LinkFailure('protocol_error', 'port %d: %s' % (port, exc))
        self.take_licenses(licenses)
        self.connected = True
        self.links_made += 1
        self.port = port
        self.connected_since = self.clock.now()
        self.last_heartbeat = self.clock.now()
        self.reason = self.reason_text = ''
        if self.grace_since:
            LOG.info('%s: reconnected; error mode and alarms cleared', self.state.name)
        self.grace_since = 0.0
        self.on_event(self, 'connected')
        LOG.info('%s: link up on port %d to %s', self.state.name, port, websocket.remote_address)
        await self.keep_alive(websocket, settings)

    async def keep_alive(self, websocket, settings):
        """Heartbeats and licence checks until the link ends; returns with reason/text set.

        One reader task takes COM's messages; this loop wakes once per
        heartbeat (or on a configuration change), so 200 links cost 200
        wake-ups per interval and nothing in between.
        """
        interval = self.world.link.heartbeat_seconds
        loop = asyncio.get_running_loop()
        sent_at = {}
        self.last_ack_mono = loop.time()
        reader = loop.create_task(self.read_messages(websocket, sent_at))
        seq = 0
        try:
            while True:
                if self.changed.is_set():
                    if prerequisites(self.state) != (settings, []):
                        self.fail('configuration_changed', 'the link settings changed; reconnecting with the new ones')
                        return
                    self.changed.clear()
                silence = loop.time() - self.last_ack_mono
                if silence > 2 * interval:
                    self.fail('heartbeat_timeout', 'no heartbeat answer from COM for %.0f s' % silence)
                    return
                seq += 1
                sent_at[seq] = loop.time()
                try:
                    await websocket.send(comproto.message(comproto.HEARTBEAT, seq=seq, time=self.system_time()))
                    if seq % LICENSE_CHECK_EVERY == 0:
                        await websocket.send(comproto.message(comproto.LICENSE_CHECK, keys=[item['key'] for item in self.entitlements]))
                except ConnectionClosed:
                    self.fail('link_dropped', 'COM closed the link')
                    return
                changed = loop.create_task(self.changed.wait())
                done = (await asyncio.wait({reader, changed}, timeout=interval, return_when=asyncio.FIRST_COMPLETED))[0]
                changed.cancel()
                if reader in done:
                    self.fail('link_dropped', 'COM closed the link')
                    return
        finally:
            reader.cancel()

    async def read_messages(self, websocket, sent_at):
        """COM's messages on a made link: heartbeat answers (round trip) and licences. Returns when the link closes."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                text = await websocket.recv()
            except ConnectionClosed:
                return
            if not isinstance(text, str):
                continue
            try:
                message = comproto.parse(text)
            except ValueError:
                continue
            if message['type'] == comproto.HEARTBEAT_ACK:
                self.last_ack_mono = loop.time()
                self.last_heartbeat = self.clock.now()
                started = sent_at.pop(message.get('seq'), None)
                if started is not None:
                    self.round_trips.append(self.last_ack_mono - started)
            elif message['type'] == comproto.LICENSES:
                self.take_licenses(message)

    def link_lost(self):
        if self.connected:
            self.connected = False
            self.port = 0
            # Error mode starts when a made link is lost; the grace clock runs from here.
            self.grace_since = self.clock.now()
            LOG.info('%s: link lost (%s); error mode from %s', self.state.name, self.reason, iso(self.grace_since))
            self.on_event(self, 'lost')


def _is_ipv4(value):
    try:
        ipaddress.IPv4Address(value)
        return True
    except ValueError:
        return False
