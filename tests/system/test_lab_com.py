# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab's COM simulator (tests/lab/ipo_lab/com.py) over real sockets.

The simulator runs in this process, on an event loop in a background thread,
on an address no other lab part uses; the tests talk to it with the
websockets client and raw ssl sockets, as an emulated IP Office would."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from aiohttp import web
import yaml
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab'))

from ipo_lab import comproto, control, topology  # noqa: E402  (needs the path above)
from ipo_lab.ca import LabCA  # noqa: E402
from ipo_lab.clock import LabClock  # noqa: E402
from ipo_lab.com import ComSimulator, control_routes  # noqa: E402
from ipo_lab.world import ComSpec, CustomerSpec, SubscriptionSpec  # noqa: E402

ADDRESS = '127.0.144.1'
PORT_A = 10443    # stands for 443
PORT_B = 18443    # stands for 8443
CONTROL_PORT = 17144
CUSTOMER = 'LAB-0001'
OTHER = 'LAB-0002'
FUTURE = datetime.date(2036, 6, 30)
PAST = datetime.date(2021, 1, 31)


def _spec():
    return ComSpec(address=ADDRESS, ports=[PORT_A, PORT_B], names=['admin.test.avaya-sub.com'], max_clock_skew=300, customers={
        CUSTOMER: CustomerSpec(CUSTOMER, [SubscriptionSpec('Subscription Power User', 'Power User', 12, 10, FUTURE),
                                          SubscriptionSpec('Subscription SIP Trunk Channels', 'SIP Trunk Channels', 17, 20, PAST)],
                               ['scn-1', 'scn-2']),
        OTHER: CustomerSpec(OTHER, [SubscriptionSpec('Subscription Power User', 'Power User', 12, 5, FUTURE)], ['se-primary']),
    })


class Env:
    def __init__(self, loop, sim, clock, authority):
        self.loop = loop
        self.sim = sim
        self.clock = clock
        self.authority = authority

    def call(self, function, *args, **kwargs):
        """Run a synchronous simulator method on its loop (they are not thread-safe)."""
        async def run():
            return function(*args, **kwargs)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5)

    def wait(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def records(self, **match):
        return [record for record in self.call(self.sim.connections) if all(record[key] == value for key, value in match.items())]

    def record_when(self, predicate, timeout=3.0):
        """The first record that satisfies predicate, waiting for it a little (closes are asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [record for record in self.call(self.sim.connections) if predicate(record)]
            if found or time.monotonic() > deadline:
                assert found, self.call(self.sim.connections)
                return found[0]
            time.sleep(0.02)

    def context(self, identity='scn-1', trust_rogue=False):
        context = self.authority.client_context(identity)
        if trust_rogue:
            context.load_verify_locations(cafile=self.authority.rogue_ca_file)
        return context

    def connect(self, port=PORT_A, context=None, **kwargs):
        return connect('wss://%s:%d%s' % (ADDRESS, port, comproto.LINK_PATH), ssl=context or self.context(), open_timeout=3,
                       close_timeout=1, **kwargs)

    @contextlib.contextmanager
    def link(self, port=PORT_A, customer=CUSTOMER, name='scn-1', context=None, **kwargs):
        """A link after hello (with the identity of the system the hello names, unless context says otherwise); gives
        (websocket, COM's answer) and closes the link at the end."""
        with self.connect(port, context or self.context(name), **kwargs) as ws:
            ws.send(hello(customer, name))
            yield ws, receive(ws)


def hello(customer=CUSTOMER, name='scn-1', when=None):
    system = {'name': name, 'guid': '0' * 32, 'type': 'IP500 V2', 'version': '12.1.45', 'server_types': ['IP500 V2'], 'lan1': '127.0.21.1'}
    return comproto.message(comproto.HELLO, customer_id=customer, system=system, time=time.time() if when is None else when)


def receive(ws, timeout=3):
    return comproto.parse(ws.recv(timeout=timeout))


def assert_closed(ws, timeout=3):
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=timeout)


def raw_tls(context, port=PORT_A, timeout=3):
    """A plain TLS handshake to COM; returns the ssl socket (closed by the caller)."""
    sock = socket.create_connection((ADDRESS, port), timeout=timeout)
    try:
        return context.wrap_socket(sock, server_hostname=ADDRESS)
    except BaseException:
        sock.close()
        raise


def control_call(method, path, data=None):
    request = urllib.request.Request('http://%s:%d%s' % (ADDRESS, CONTROL_PORT, path), method=method,
                                     data=None if data is None else json.dumps(data).encode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name='com-loop', daemon=True)
    thread.start()
    authority = LabCA(str(tmp_path_factory.mktemp('com-state')))
    clock = LabClock()
    sim = ComSimulator(_spec(), clock, authority, heartbeat_seconds=3, handshake_timeout=3)
    runner = []

    async def start():
        await sim.start()
        app = web.Application(middlewares=[control.errors])
        for method, path, handler in control_routes(sim):
            app.router.add_route(method, path, handler)
        runner.append(web.AppRunner(app, access_log=None))
        await runner[0].setup()
        await web.TCPSite(runner[0], ADDRESS, CONTROL_PORT).start()

    async def stop():
        if runner:
            await runner[0].cleanup()
        await sim.stop()

    environment = Env(loop, sim, clock, authority)
    try:
        environment.wait(start())
        yield environment
    finally:
        environment.wait(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture(autouse=True)
def fresh(env):
    env.call(env.sim.reset)
    env.call(env.clock.reset)
    yield env


def test_link_up_hello_licences_heartbeat(env):
    before = time.time()
    with env.link(PORT_B) as (ws, welcome):
        after = time.time()
        assert welcome['type'] == comproto.WELCOME
        # COM's clock (the lab clock, reset) read between the hello and the welcome: an order, not a tolerance.
        assert welcome['heartbeat_seconds'] == 3 and before <= welcome['time'] <= after, (before, welcome['time'], after)
        ws.send(comproto.message(comproto.LICENSE_REQUEST))
        licences = receive(ws)
        assert licences['type'] == comproto.LICENSES
        assert licences['entitlements'] == [
            comproto.entitlement('Subscription Power User', 'Power User', 12, 10, FUTURE),
            # Expired subscriptions are reported too: the system decides what the date means.
            comproto.entitlement('Subscription SIP Trunk Channels', 'SIP Trunk Channels', 17, 20, PAST),
        ]
        ws.send(comproto.message(comproto.LICENSE_CHECK, keys=['Subscription Power User']))
        assert receive(ws)['entitlements'] == licences['entitlements']
        ws.send(comproto.message(comproto.HEARTBEAT, seq=7, time=time.time()))
        ack = receive(ws)
        assert ack['type'] == comproto.HEARTBEAT_ACK and ack['seq'] == 7
        record = env.records(id=welcome['link_id'])[0]
        assert record['identity'] == 'scn-1' and record['port'] == PORT_B and record['peer'].startswith('127.')
        assert record['customer_id'] == CUSTOMER and record['system'] == 'scn-1' and record['system_details']['version'] == '12.1.45'
        assert record['state'] == 'open' and record['stage'] == 'linked' and record['tls_version'] == 'TLSv1.2'
        assert record['messages_in'] == 4 and record['messages_out'] == 4 and record['last_heartbeat']
        assert [port['open_links'] for port in env.call(env.sim.describe)['ports']] == [0, 1]
    closed = env.record_when(lambda record: record['id'] == welcome['link_id'] and record['state'] == 'closed')
    assert closed['close_reason'] == 'client closed' and closed['closed'] >= closed['opened']


def test_other_paths_answer_404(env):
    connection = http.client.HTTPSConnection(ADDRESS, PORT_A, context=env.context(), timeout=3)
    try:
        connection.request('GET', '/other')
        assert connection.getresponse().status == 404
    finally:
        connection.close()
    assert env.records()[0]['identity'] == 'scn-1'


def test_client_without_certificate_is_refused(env):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=env.authority.ca_file)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        raw_tls(context).close()
    record = env.record_when(lambda record: record['state'] == 'closed')
    assert record['close_reason'].startswith('handshake failed') and record['identity'] == ''
    assert env.call(env.sim.describe)['totals']['handshake_failures'] == 1


def test_tls13_only_client_is_refused(env):
    context = env.context()
    context.maximum_version = context.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises((ssl.SSLError, ConnectionError)):
        raw_tls(context).close()
    assert env.record_when(lambda record: record['state'] == 'closed')['close_reason'].startswith('handshake failed')


def test_rogue_certificate_fails_verification_and_the_switch_is_real(env):
    env.call(env.sim.set_port, PORT_A, cert='rogue')
    with pytest.raises(ssl.SSLCertVerificationError):
        raw_tls(env.context()).close()
    # Trusting the rogue CA as well, the same client gets through: COM really presents the rogue certificate.
    with env.link(PORT_A, context=env.context(trust_rogue=True)) as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME
        assert env.records(id=welcome['link_id'])[0]['identity'] == 'scn-1'
        ws.send(comproto.message(comproto.HEARTBEAT, seq=1))
        assert receive(ws)['type'] == comproto.HEARTBEAT_ACK
    # The other port keeps the lab certificate.
    raw_tls(env.context(), PORT_B).close()


def test_refuse_mode_closes_the_port_and_reopens(env):
    with env.link(PORT_A) as (ws, welcome):
        assert env.call(env.sim.set_port, PORT_A, mode='refuse')['listening'] is False
        assert_closed(ws)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ADDRESS, PORT_A), timeout=2).close()
    raw_tls(env.context(), PORT_B).close()
    assert env.record_when(lambda record: record['id'] == welcome['link_id'] and record['state'] == 'closed')['close_reason'] == 'refused by port mode'
    env.call(env.sim.set_port, PORT_A, mode='accept')
    with env.link(PORT_A) as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME
        ws.send(comproto.message(comproto.LICENSE_REQUEST))
        assert receive(ws)['type'] == comproto.LICENSES


def test_silent_mode_sends_nothing(env):
    with env.link(PORT_B) as (ws, welcome):
        env.call(env.sim.set_port, PORT_A, mode='silent')
        env.call(env.sim.set_port, PORT_B, mode='silent')
        # New connections: TCP is accepted, but no ServerHello ever comes.
        with pytest.raises(TimeoutError):
            raw_tls(env.context(), PORT_A, timeout=0.5).close()
        # The established link stays open but answers nothing.
        ws.send(comproto.message(comproto.HEARTBEAT, seq=1, time=time.time()))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
        assert env.records(id=welcome['link_id'])[0]['state'] == 'open'
        env.call(env.sim.set_port, PORT_B, mode='accept')
        ws.send(comproto.message(comproto.HEARTBEAT, seq=2, time=time.time()))
        assert receive(ws)['seq'] == 2
    silent = env.record_when(lambda record: record['port'] == PORT_A and record['state'] == 'closed')
    assert silent['stage'] == 'tcp' and silent['close_reason'] == 'client closed'
    assert env.records(id=welcome['link_id'])[0]['messages_in'] == 3


def test_drop_mode_closes_after_welcome(env):
    with env.link(PORT_B) as (ws, welcome):
        env.call(env.sim.set_port, PORT_B, mode='drop')
        assert_closed(ws)
    assert env.record_when(lambda record: record['id'] == welcome['link_id'] and record['state'] == 'closed')['close_reason'] == 'dropped by port mode'
    with env.link(PORT_B) as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME
        assert_closed(ws)
    assert env.record_when(lambda record: record['id'] == welcome['link_id'] and record['state'] == 'closed')['close_reason'] == 'dropped by port mode'


def test_unknown_customer_is_rejected(env):
    with env.link(customer='NOT-A-CUSTOMER') as (ws, answer):
        assert answer['type'] == comproto.REJECT and answer['reason'] == comproto.REJECT_UNKNOWN_CUSTOMER
        assert_closed(ws)
    record = env.record_when(lambda record: record['state'] == 'closed')
    assert record['customer_id'] == 'NOT-A-CUSTOMER' and record['close_reason'] == 'rejected: unknown_customer'


def test_a_certificate_of_no_registered_system_is_refused_at_the_upgrade(env):
    # Signed by the lab CA, so TLS succeeds: COM refuses it at the upgrade, as a server refuses a client it does not know.
    with pytest.raises(InvalidStatus) as caught:
        env.connect(context=env.context('probe')).close()
    assert caught.value.response.status_code == 403
    assert b"certificate 'probe' names no system registered to a customer" in caught.value.response.body
    record = env.record_when(lambda record: record['state'] == 'closed')
    assert record['identity'] == 'probe' and record['stage'] == 'tls' and record['tls_version'] == 'TLSv1.2'
    assert record['close_reason'] == "refused: certificate 'probe' names no system registered to a customer"
    totals = env.call(env.sim.describe)['totals']
    assert totals['refused'] == 1 and totals['links'] == 0 and totals['welcomed'] == 0
    # A registered system's certificate on the same port gets through.
    with env.link() as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME


def test_a_hello_for_another_system_than_the_certificate_is_rejected(env):
    # scn-2 is registered to the same customer: only the certificate tells the systems apart.
    with env.link(name='scn-2', context=env.context('scn-1')) as (ws, answer):
        assert answer['type'] == comproto.REJECT and answer['reason'] == comproto.REJECT_IDENTITY_MISMATCH
        assert answer['text'] == "the hello names system scn-2, but the client certificate is scn-1's"
        assert_closed(ws)
    record = env.record_when(lambda record: record['state'] == 'closed')
    assert record['identity'] == 'scn-1' and record['system'] == 'scn-2' and record['close_reason'] == 'rejected: identity_mismatch'


def test_a_hello_for_another_customer_than_the_systems_is_rejected(env):
    # LAB-0002 is a customer COM knows, but scn-1 is registered to LAB-0001.
    with env.link(customer=OTHER) as (ws, answer):
        assert answer['type'] == comproto.REJECT and answer['reason'] == comproto.REJECT_IDENTITY_MISMATCH
        assert answer['text'] == 'system scn-1 is registered to customer LAB-0001, not LAB-0002'
        assert_closed(ws)
    record = env.record_when(lambda record: record['state'] == 'closed')
    assert record['customer_id'] == OTHER and record['close_reason'] == 'rejected: identity_mismatch'
    assert env.call(env.sim.describe)['totals']['welcomed'] == 0


def test_the_topology_registers_each_system_to_one_customer():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab', 'topology.yml')) as handle:
        default = yaml.safe_load(handle)
    registrations = topology.parse(default).world.com.registrations()
    # Every system that holds a link is LAB-0001's; the Server Edition's Secondary and Expansion hold none.
    assert registrations == dict((name, CUSTOMER) for name in (
        'ip500-single', 'scn-1', 'scn-2', 'scn-3', 'se-primary', 'doc-1', 'ren-a-1', 'ren-a-2', 'ren-b-1'))
    for systems, error in [
            (['scn-1'], "world.com.customers.LAB-0002.systems: 'scn-1' is already registered to customer LAB-0001; "
                        "a system belongs to one customer"),
            (['nowhere-1'], "world.com.customers.LAB-0002.systems: 'nowhere-1' is not a system of this topology"),
            (['se-secondary'], "world.com.customers.LAB-0002.systems: 'se-secondary' is a Server Edition Secondary, which holds "
                               "no subscription link (its Primary holds the solution's); register the Primary"),
            ('scn-1', 'world.com.customers.LAB-0002.systems: expected a list of system names (the systems registered to this customer)')]:
        data = yaml.safe_load(yaml.safe_dump(default))
        data['world']['com']['customers']['LAB-0002']['systems'] = systems
        with pytest.raises(topology.TopologyError) as caught:
            topology.parse(data)
        assert str(caught.value) == error


def test_clock_skew_is_rejected(env):
    env.call(env.clock.advance, 3600)
    with env.link() as (ws, answer):
        assert answer['type'] == comproto.REJECT and answer['reason'] == comproto.REJECT_CLOCK_SKEW
        assert_closed(ws)
    # A system whose clock follows the lab's is welcome.
    with env.connect() as ws:
        ws.send(hello(when=time.time() + 3600))
        assert receive(ws)['type'] == comproto.WELCOME


def test_subscription_changes_are_pushed_at_once(env):
    with env.link() as (ws, welcome), env.link(PORT_B, customer=OTHER, name='se-primary') as (other, other_welcome):
        assert welcome['type'] == other_welcome['type'] == comproto.WELCOME
        assert env.call(env.sim.set_subscription, CUSTOMER, 'Subscription Power User', quantity=50) == 1
        licences = receive(ws, timeout=1)
        assert licences['type'] == comproto.LICENSES and licences['entitlements'][0]['quantity'] == 50
        with pytest.raises(TimeoutError):
            other.recv(timeout=0.3)
        env.call(env.sim.set_customer, CUSTOMER, [{'key': 'Subscription Power User', 'quantity': 3, 'expires_in_days': -1}])
        assert receive(ws, timeout=1)['entitlements'] == [
            comproto.entitlement('Subscription Power User', 'Power User', 0, 3, env.clock.today() - datetime.timedelta(days=1))]
        with pytest.raises(ValueError):
            env.call(env.sim.set_subscription, CUSTOMER, 'Subscription Power User', quantity='many')


def test_speedtest_and_errors(env):
    with env.link(max_size=None) as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME
        ws.send(comproto.message(comproto.SPEEDTEST, bytes=300000))
        data = ws.recv(timeout=3)
        assert isinstance(data, bytes) and len(data) == 300000
        ws.send(comproto.message(comproto.SPEEDTEST, bytes=comproto.SPEEDTEST_MAX_BYTES + 1))
        assert receive(ws)['type'] == comproto.ERROR
        ws.send(comproto.message('telepathy'))
        error = receive(ws)
        assert error['type'] == comproto.ERROR and 'telepathy' in error['text']
        # The link survives an unknown message.
        ws.send(comproto.message(comproto.HEARTBEAT, seq=1))
        assert receive(ws)['type'] == comproto.HEARTBEAT_ACK


def test_messages_before_hello_are_errors(env):
    for first in (comproto.message(comproto.HEARTBEAT, seq=1), 'not json'):
        with env.connect() as ws:
            ws.send(first)
            assert receive(ws)['type'] == comproto.ERROR
            assert_closed(ws)
    assert [record['close_reason'].startswith('protocol error') for record in env.records()] == [True, True]


def test_control_routes(env):
    status, described = control_call('GET', '/lab/com')
    assert status == 200 and [port['mode'] for port in described['ports']] == ['accept', 'accept']
    status, result = control_call('POST', '/lab/com/ports/%d' % PORT_A, {'mode': 'drop', 'cert': 'rogue'})
    assert status == 200 and result['port']['mode'] == 'drop' and result['port']['cert'] == 'rogue'
    status, result = control_call('POST', '/lab/com/ports/%d' % PORT_A, {'mode': 'sideways'})
    assert status == 400 and 'mode' in result['error'] and 'sideways' in result['error']
    assert control_call('POST', '/lab/com/ports/1', {'mode': 'accept'})[0] == 404
    status, result = control_call('POST', '/lab/com/customers/LAB-0009/subscriptions',
                                  {'key': 'Subscription Power User', 'expires_in_days': 10, 'quantity': 2, 'type': 12})
    assert status == 200 and result['subscriptions'][0]['expires'] == (env.clock.today() + datetime.timedelta(days=10)).isoformat()
    status, result = control_call('POST', '/lab/com/customers/LAB-0009/subscriptions', {'key': 'Subscription Power User', 'quantity': 'lots'})
    assert status == 400 and 'quantity' in result['error'] and 'lots' in result['error']
    status, result = control_call('POST', '/lab/com/customers/LAB-0009/subscriptions', {'key': 'Subscription Power User', 'expires': '2030-13-01'})
    assert status == 400 and 'expires' in result['error']
    status, result = control_call('POST', '/lab/com/customers/LAB-0009', {'subscriptions': [{'key': 'Subscription X', 'expires': '2030-01-01'}]})
    assert status == 200 and result['subscriptions'] == [comproto.entitlement('Subscription X', 'X', 0, 1, '2030-01-01')]
    assert control_call('POST', '/lab/com/customers/LAB-0009', {'subscriptions': 'all'})[0] == 400
    assert control_call('GET', '/lab/com/connections?since=x')[0] == 400
    status, records = control_call('GET', '/lab/com/connections?since=0')
    assert status == 200 and records == []
    env.call(env.sim.reset)
    described = env.call(env.sim.describe)
    assert [(port['mode'], port['cert']) for port in described['ports']] == [('accept', 'lab')] * 2
    assert sorted(described['customers']) == [CUSTOMER, OTHER] and 'LAB-0009' not in described['customers']


def test_reset_closes_links_and_clears_records(env):
    with env.link() as (ws, welcome):
        assert welcome['type'] == comproto.WELCOME
        env.call(env.sim.set_port, PORT_B, mode='refuse')
        env.call(env.sim.reset)
        assert_closed(ws)
    assert env.records() == []
    # The refused port listens again.
    raw_tls(env.context(), PORT_B).close()
    assert env.call(env.sim.describe)['totals']['connections'] == 1
