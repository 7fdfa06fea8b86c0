# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab's network services on their own: DNS, SNTP and the shaping proxy.

They run in this process on an event loop in a background thread, on
127.0.153.x / 127.0.154.x (used by nothing else), and are spoken to over real
sockets. Timing checks assert lower bounds only (plus one generous check that
the proxy pipelines), since test machines are noisy."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time
import urllib.error
import urllib.request

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest
from aiohttp import web

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab'))

from ipo_lab import control, dns_server, shaper, sntp_server  # noqa: E402  pylint: disable=wrong-import-position
from ipo_lab.clock import LabClock  # noqa: E402  pylint: disable=wrong-import-position
from ipo_lab.world import DnsServerSpec, DnsSpec, ShaperSpec, SntpSpec  # noqa: E402  pylint: disable=wrong-import-position

DNS_PORT = 10053
DNS_ANSWER = '127.0.153.1'
DNS_SILENT = '127.0.153.2'
DNS_REFUSE = '127.0.153.3'
DNS_ON_53 = '127.0.153.53'
SNTP_ADDRESS = '127.0.153.123'
SNTP_PORT = 10123
SHAPER = '127.0.154.1'
ECHO = '127.0.154.2'
OPEN_PORT = 10443
CLOSED_PORT = 10444
SOURCE_PORT = 10445
CONTROL_ADDRESS = '127.0.154.99'
CONTROL_PORT = 10099
NTP_EPOCH_OFFSET = 2208988800


class LoopThread:
    """An asyncio loop in a daemon thread; services live on it, the test talks to them over sockets."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=15):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function, *args, **kwargs):
        """Run a plain function on the loop's thread (the services are not thread-safe)."""
        async def invoke():
            return function(*args, **kwargs)
        return self.run(invoke())

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope='module')
def loop():
    thread = LoopThread()
    yield thread
    thread.close()


def _dns_spec(port=DNS_PORT):
    records = {'com.lab.example': ['127.0.44.1'], 'two.lab.example': ['127.0.44.1', '127.0.44.2'], 'noaddr.lab.example': []}
    return DnsSpec(port=port, servers=[DnsServerSpec(DNS_ANSWER, dict(records)), DnsServerSpec(DNS_SILENT, dict(records), 'silent'),
                                       DnsServerSpec(DNS_REFUSE, dict(records), 'refuse')])


@pytest.fixture
def dns_service(loop):
    service = dns_server.LabDNS(_dns_spec(), LabClock())
    loop.run(service.start())
    yield service
    loop.run(service.stop())


@pytest.fixture
def sntp_service(loop):
    clock = LabClock()
    service = sntp_server.LabSNTP(SntpSpec(SNTP_ADDRESS, SNTP_PORT), clock)
    loop.run(service.start())
    yield service
    loop.run(service.stop())


class Targets:
    """What the proxy forwards to: an echo server on OPEN_PORT and a 32 KB source on SOURCE_PORT."""

    def __init__(self):
        self.servers = []

    async def start(self):
        self.servers.append(await asyncio.start_server(self.echo, ECHO, OPEN_PORT, reuse_address=True))
        self.servers.append(await asyncio.start_server(self.source, ECHO, SOURCE_PORT, reuse_address=True))

    async def stop(self):
        for server in self.servers:
            server.close()
            await server.wait_closed()

    @staticmethod
    async def echo(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    @staticmethod
    async def source(reader, writer):
        writer.write(b'x' * 32768)
        await writer.drain()
        writer.close()
        await reader.read()


@pytest.fixture
def proxy(loop):
    targets = Targets()
    loop.run(targets.start())
    service = shaper.ShapingProxy(ShaperSpec(SHAPER, ECHO, [OPEN_PORT, CLOSED_PORT, SOURCE_PORT]))
    loop.run(service.start())
    yield service
    loop.run(service.stop())
    loop.run(targets.stop())


def _resolver(address, port=DNS_PORT):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    resolver.timeout = resolver.lifetime = 1.0
    resolver.cache = None
    return resolver


# -- DNS ----------------------------------------------------------------------

def test_dns_a_record(dns_service):
    answer = _resolver(DNS_ANSWER).resolve('com.lab.example', 'A')
    assert [item.address for item in answer] == ['127.0.44.1']
    assert answer.rrset.ttl == 60
    assert answer.response.flags & dns.flags.AA


def test_dns_two_addresses_case_and_final_dot(dns_service):
    answer = _resolver(DNS_ANSWER).resolve('TWO.Lab.Example.', 'A')
    assert sorted(item.address for item in answer) == ['127.0.44.1', '127.0.44.2']


def test_dns_nodata_nxdomain(dns_service):
    resolver = _resolver(DNS_ANSWER)
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve('noaddr.lab.example', 'A')
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve('com.lab.example', 'AAAA')
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve('unknown.lab.example', 'A')
    reply = dns.query.udp(dns.message.make_query('com.lab.example', 'AAAA'), DNS_ANSWER, timeout=1, port=DNS_PORT)
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer


def test_dns_tcp_several_queries_on_one_connection(dns_service, loop):
    with socket.create_connection((DNS_ANSWER, DNS_PORT), timeout=2) as sock:
        first = dns.query.tcp(dns.message.make_query('com.lab.example', 'A'), DNS_ANSWER, timeout=1, port=DNS_PORT, sock=sock)
        second = dns.query.tcp(dns.message.make_query('nothing.lab.example', 'A'), DNS_ANSWER, timeout=1, port=DNS_PORT, sock=sock)
    assert [item.address for item in first.answer[0]] == ['127.0.44.1']
    assert second.rcode() == dns.rcode.NXDOMAIN
    assert [entry['transport'] for entry in loop.call(dns_service.queries)] == ['tcp', 'tcp']


def test_dns_truncation_falls_back_to_tcp(dns_service, loop):
    many = ['127.0.47.%d' % index for index in range(1, 101)]   # 100 A records: more than a 1232-byte EDNS payload
    loop.call(dns_service.set_records, DNS_ANSWER, {'many.lab.example': many})
    answer = _resolver(DNS_ANSWER).resolve('many.lab.example', 'A')
    assert sorted(item.address for item in answer) == sorted(many)
    entries = loop.call(dns_service.queries)
    assert [(entry['transport'], entry['truncated'], len(entry['answers'])) for entry in entries] == [('udp', True, 0), ('tcp', False, 100)]


def test_dns_silent_and_refuse(dns_service, loop):
    query = dns.message.make_query('com.lab.example', 'A')
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(query, DNS_SILENT, timeout=0.5, port=DNS_PORT)
    with pytest.raises(dns.exception.Timeout):
        dns.query.tcp(query, DNS_SILENT, timeout=0.5, port=DNS_PORT)
    assert dns.query.udp(query, DNS_REFUSE, timeout=1, port=DNS_PORT).rcode() == dns.rcode.REFUSED
    silent = [entry for entry in loop.call(dns_service.queries) if entry['server'] == DNS_SILENT]
    assert [(entry['transport'], entry['rcode']) for entry in silent] == [('udp', None), ('tcp', None)]


def test_dns_malformed(dns_service):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        sock.sendto(b'\x12\x34\x01\x00\x00\x05garbage', (DNS_ANSWER, DNS_PORT))
        reply = dns.message.from_wire(sock.recv(512))
        assert reply.id == 0x1234 and reply.rcode() == dns.rcode.FORMERR
        sock.settimeout(0.3)
        sock.sendto(b'\x12', (DNS_ANSWER, DNS_PORT))
        with pytest.raises(socket.timeout):
            sock.recv(512)


def test_dns_set_records_mode_and_log(dns_service, loop):
    resolver = _resolver(DNS_ANSWER)
    loop.call(dns_service.set_records, DNS_ANSWER, {'COM.lab.example': ['127.0.45.1'], 'new.lab.example': ['127.0.45.2'],
                                                    'two.lab.example': None})
    assert [item.address for item in resolver.resolve('com.lab.example', 'A')] == ['127.0.45.1']
    assert [item.address for item in resolver.resolve('new.lab.example', 'A')] == ['127.0.45.2']
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve('two.lab.example', 'A')
    with pytest.raises(ValueError, match='not an IPv4 address on loopback'):
        loop.call(dns_service.set_records, DNS_ANSWER, {'com.lab.example': ['192.0.2.1'], 'other.lab.example': ['127.0.0.9']})
    assert 'other.lab.example' not in loop.call(dns_service.describe)['servers'][DNS_ANSWER]['records']  # all or nothing
    with pytest.raises(KeyError):
        loop.call(dns_service.set_records, '127.0.153.99', {})
    with pytest.raises(ValueError, match='mode'):
        loop.call(dns_service.set_mode, DNS_ANSWER, 'loud')
    loop.call(dns_service.set_mode, DNS_ANSWER, 'refuse')
    assert dns.query.udp(dns.message.make_query('com.lab.example', 'A'), DNS_ANSWER, timeout=1, port=DNS_PORT).rcode() == dns.rcode.REFUSED
    # The log names the client's source address, so a test can tell which system asked.
    last = loop.call(dns_service.queries)[-1]['seq']
    loop.call(dns_service.set_mode, DNS_ANSWER, 'answer')
    dns.query.udp(dns.message.make_query('new.lab.example', 'A'), DNS_ANSWER, timeout=1, port=DNS_PORT, source='127.0.21.1')
    entries = loop.call(dns_service.queries, since=last)
    assert len(entries) == 1
    assert {key: entries[0][key] for key in ('server', 'client', 'transport', 'name', 'qtype', 'rcode', 'answers')} == {
        'server': DNS_ANSWER, 'client': '127.0.21.1', 'transport': 'udp', 'name': 'new.lab.example', 'qtype': 'A',
        'rcode': 'NOERROR', 'answers': ['127.0.45.2']}
    loop.call(dns_service.reset)
    assert loop.call(dns_service.queries) == []
    assert loop.call(dns_service.describe)['servers'][DNS_ANSWER] == {'mode': 'answer', 'records': _dns_spec().servers[0].records}


def test_dns_on_port_53(loop):
    assert os.geteuid() == 0, 'port 53 needs root: the system stage runs as root (scripts/test); this test fails rather than skip'
    service = dns_server.LabDNS(DnsSpec(53, [DnsServerSpec(DNS_ON_53, {'com.lab.example': ['127.0.44.1']})]), LabClock())
    loop.run(service.start())
    try:
        assert [item.address for item in _resolver(DNS_ON_53, 53).resolve('com.lab.example', 'A')] == ['127.0.44.1']
        reply = dns.query.tcp(dns.message.make_query('com.lab.example', 'A'), DNS_ON_53, timeout=1)
        assert [item.address for item in reply.answer[0]] == ['127.0.44.1']
    finally:
        loop.run(service.stop())


# -- SNTP ---------------------------------------------------------------------

def _ntp_time(data):
    seconds, fraction = struct.unpack('!II', data)
    return seconds - NTP_EPOCH_OFFSET + fraction / 4294967296.0


def _sntp(payload=None, timeout=1.0, version=4):
    """One exchange; returns (reply fields, [request sent, server received, server replied, answer arrived]): the
    client's times from this machine's clock, the server's from its answer."""
    sent = time.time()
    transmit = struct.pack('!II', int(sent) + NTP_EPOCH_OFFSET, int((sent % 1) * 4294967296.0))
    request = payload if payload is not None else bytes([(version << 3) | 3]) + bytes(39) + transmit
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.bind(('127.0.21.1', 0))
        sock.sendto(request, (SNTP_ADDRESS, SNTP_PORT))
        data = sock.recv(512)
    arrived = time.time()
    assert len(data) == 48
    fields = {'version': (data[0] >> 3) & 7, 'mode': data[0] & 7, 'stratum': data[1], 'refid': data[12:16],
              'originate': data[24:32], 'echoed': data[24:32] == transmit}
    return fields, [sent, _ntp_time(data[32:40]), _ntp_time(data[40:48]), arrived]


def _in_order(times, ahead):
    """The server's clock, `ahead` seconds ahead of this machine's, read between the request and the answer:
    an order, whatever the machine's load (1 microsecond for the NTP timestamps' rounding)."""
    sent, received, replied, arrived = times
    return sent + ahead - 1e-6 <= received <= replied <= arrived + ahead + 1e-6


def test_sntp_answers_with_the_lab_clock(sntp_service, loop):
    fields, times = _sntp()
    assert fields['mode'] == 4 and fields['stratum'] == 2 and fields['version'] == 4 and fields['echoed']
    assert fields['refid'].startswith(b'LAB')
    assert _in_order(times, 0), times
    assert _sntp(version=3)[0]['version'] == 3
    loop.call(sntp_service.clock.advance, 100)
    times = _sntp()[1]
    assert _in_order(times, 100) and not _in_order(times, 0), times
    loop.call(sntp_service.configure, skew_seconds=3600)
    times = _sntp()[1]
    assert _in_order(times, 3700) and not _in_order(times, 100), times
    entries = loop.call(sntp_service.queries)
    assert [entry['client'] for entry in entries] == ['127.0.21.1'] * 4
    assert loop.call(sntp_service.describe)['queries'] == 4


def test_sntp_silent_and_ignored_packets(sntp_service, loop):
    with pytest.raises(socket.timeout):
        _sntp(payload=bytes([0x23]) + bytes(30), timeout=0.3)          # shorter than 48 bytes
    with pytest.raises(socket.timeout):
        _sntp(payload=bytes([0x24]) + bytes(47), timeout=0.3)          # mode 4, not a client request
    loop.call(sntp_service.configure, mode='silent')
    with pytest.raises(socket.timeout):
        _sntp(timeout=0.5)
    assert loop.call(sntp_service.queries)[-1]['answered'] is False
    for bad in ({'skew_seconds': 'soon'}, {'skew_seconds': float('nan')}, {'mode': 'loud'}):
        with pytest.raises(ValueError):
            loop.call(sntp_service.configure, **bad)
    loop.call(sntp_service.reset)
    assert loop.call(sntp_service.describe)['mode'] == 'serve' and loop.call(sntp_service.describe)['queries'] == 0
    assert _sntp()[0]['mode'] == 4


# -- shaping proxy ------------------------------------------------------------

def _round_trip(address, count=5):
    """Median time of a 100-byte request/response through an echo server, on one connection."""
    times = []
    with socket.create_connection((address, OPEN_PORT), timeout=5) as sock:
        for index in range(count):
            start = time.monotonic()
            sock.sendall(bytes([index]) * 100)
            got = b''
            while len(got) < 100:
                got += sock.recv(100 - len(got))
            times.append(time.monotonic() - start)
    return statistics.median(times), min(times)


def test_shaper_latency(proxy, loop, capsys):
    direct, _fastest = _round_trip(ECHO)
    loop.call(proxy.configure, latency_ms=200)
    shaped, fastest = _round_trip(SHAPER)
    with capsys.disabled():
        print('\n  round trip direct %.2f ms, through the proxy at 200 ms: %.1f ms (x%.0f)' % (direct * 1000, shaped * 1000, shaped / direct))
    assert fastest >= 0.2 - 0.002
    # Chunks are not serialised behind one another's delay. At 1000 ms (500 ms each way), 20 chunks sent back to
    # back come back after one round trip; a serialising proxy would need at least 20 x 1 s. The socket's bound
    # (10 s, half of that) only ends a wait for chunks a serialising proxy still holds, with a message; a slow
    # machine makes the one round trip longer, not twenty of them.
    loop.call(proxy.configure, latency_ms=1000)
    with socket.create_connection((SHAPER, OPEN_PORT), timeout=5) as sock:
        for index in range(20):
            sock.sendall(bytes([index]) * 10)
        sock.settimeout(10)
        got = b''
        try:
            while len(got) < 200:
                got += sock.recv(200)
        except socket.timeout:
            raise AssertionError('the proxy serialises chunks behind one another\'s delay: %d of 200 bytes came back' % len(got))
    assert got == b''.join(bytes([index]) * 10 for index in range(20))
    described = loop.call(proxy.describe)
    assert described['connections_opened'] == 2 and described['bytes_to_target'] == described['bytes_to_client'] == 700


def test_shaper_rate(proxy, loop):
    loop.call(proxy.configure, rate_kbps=64)
    start = time.monotonic()
    got = b''
    with socket.create_connection((SHAPER, SOURCE_PORT), timeout=10) as sock:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            got += data
    elapsed = time.monotonic() - start
    assert len(got) == 32768
    # 64 kbit/s is 8000 bytes/s; less a 4 KB burst that leaves (32768 - 4096) / 8000 = 3.58 s.
    assert elapsed >= 3.5
    assert loop.call(proxy.describe)['bytes_to_client'] == 32768


def test_shaper_refused_target_closes_client(proxy, loop):
    # The proxy accepts, fails to reach the target and resets: the client sees the reset in connect() or in the
    # first recv(), depending on how fast the RST arrives; either way it never gets data.
    data = b''
    try:
        with socket.create_connection((SHAPER, CLOSED_PORT), timeout=2) as sock:
            data = sock.recv(100)
    except ConnectionResetError:
        pass
    assert data == b''
    assert loop.call(proxy.describe)['connections_refused'] == 1


def test_shaper_configure_and_reset(proxy, loop):
    for bad in ({'latency_ms': -1}, {'rate_kbps': -5}, {'latency_ms': 'slow'}):
        with pytest.raises(ValueError):
            loop.call(proxy.configure, **bad)
    described = loop.call(proxy.configure, latency_ms=50, rate_kbps=1000)
    assert (described['latency_ms'], described['rate_kbps']) == (50, 1000)
    loop.call(proxy.reset)
    assert (loop.call(proxy.describe)['latency_ms'], loop.call(proxy.describe)['rate_kbps']) == (0, 0)


# -- control routes -----------------------------------------------------------

def _control(method, path, data=None):
    request = urllib.request.Request('http://%s:%d%s' % (CONTROL_ADDRESS, CONTROL_PORT, path), method=method,
                                     data=json.dumps(data).encode() if data is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_control_routes(dns_service, sntp_service, proxy, loop):
    app = web.Application(middlewares=[control.errors])
    for module, service in ((dns_server, dns_service), (sntp_server, sntp_service), (shaper, proxy)):
        for method, path, handler in module.control_routes(service):
            app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, access_log=None)

    async def start():
        await runner.setup()
        await web.TCPSite(runner, CONTROL_ADDRESS, CONTROL_PORT, reuse_address=True).start()
    loop.run(start())
    try:
        status, data = _control('GET', '/lab/dns')
        assert status == 200 and data['servers'][DNS_SILENT]['mode'] == 'silent'
        status, data = _control('POST', '/lab/dns/%s/records' % DNS_ANSWER, {'x.lab.example': ['127.0.46.1'], 'com.lab.example': None})
        assert status == 200 and data['records']['x.lab.example'] == ['127.0.46.1'] and 'com.lab.example' not in data['records']
        status, data = _control('POST', '/lab/dns/%s/records' % DNS_ANSWER, {'x.lab.example': ['10.1.1.1']})
        assert status == 400 and '10.1.1.1' in data['error'] and 'x.lab.example' in data['error']
        assert _control('POST', '/lab/dns/127.0.153.99/records', {})[0] == 404
        assert _control('POST', '/lab/dns/%s/mode' % DNS_ANSWER, {'mode': 'silent'})[0] == 200
        status, data = _control('POST', '/lab/dns/%s/mode' % DNS_ANSWER, {'mode': 'loud'})
        assert status == 400 and 'loud' in data['error']
        dns.query.udp(dns.message.make_query('x.lab.example', 'A'), DNS_REFUSE, timeout=1, port=DNS_PORT)
        status, data = _control('GET', '/lab/dns/queries?since=0')
        assert status == 200 and data[-1]['rcode'] == 'REFUSED'
        assert _control('GET', '/lab/dns/queries?since=x')[0] == 400
        status, data = _control('POST', '/lab/sntp', {'skew_seconds': 30, 'mode': 'silent'})
        assert status == 200 and (data['skew_seconds'], data['mode']) == (30, 'silent')
        status, data = _control('POST', '/lab/sntp', {'skew_seconds': 'late'})
        assert status == 400 and 'skew_seconds' in data['error'] and 'late' in data['error']
        assert _control('GET', '/lab/sntp')[1]['skew_seconds'] == 30
        assert _control('GET', '/lab/sntp/queries')[1] == []
        status, data = _control('POST', '/lab/shaper', {'latency_ms': 120})
        assert status == 200 and data['latency_ms'] == 120
        status, data = _control('POST', '/lab/shaper', {'rate_kbps': -1})
        assert status == 400 and 'rate_kbps' in data['error'] and '-1' in data['error']
        assert _control('GET', '/lab/shaper')[1]['latency_ms'] == 120
    finally:
        loop.run(runner.cleanup())
