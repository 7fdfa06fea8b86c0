# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netprobe's measurements over an open WebSocket (round trip by ping, the lab's throughput test), each against a
scripted server on a socket pair: what was measured, what the peer does not offer, and what broke off halfway."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import netprobe


class Server(object):
    """The far end of a socket pair: reads the client's frames (answering pings) and runs a script."""

    def __init__(self, script):
        self.client, self.sock = socket.socketpair()
        self.buffer = b''
        self.thread = threading.Thread(target=script, args=(self,))
        self.thread.start()

    def send(self, opcode, payload):
        size = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([size]) if size < 126 else bytes([126]) + struct.pack('!H', size))
        self.sock.sendall(head + payload)

    def text(self, message):
        self.send(netprobe.OP_TEXT, json.dumps(message).encode())

    def read(self):
        """The next text or binary message; pings are answered with a pong."""
        while True:
            frame = netprobe.decode_frame(self.buffer, 2 ** 20)
            if frame is None:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None, None
                self.buffer += chunk
                continue
            self.buffer = self.buffer[frame[3]:]
            if frame[1] == netprobe.OP_PING:
                self.send(netprobe.OP_PONG, frame[2])
                continue
            return frame[1], frame[2]

    def drop(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def connection(self):
        return netprobe.WebSocket(self.client, 2 ** 20)

    def done(self):
        self.thread.join(5)
        self.client.close()
        assert not self.thread.is_alive()


def _welcome(server):
    opcode, payload = server.read()
    assert opcode == netprobe.OP_TEXT and json.loads(payload)['type'] == 'hello'
    assert json.loads(payload)['customer_id'] == 'LAB-0001' and json.loads(payload)['system']['name'] == 'scn-1'
    server.text({'type': 'welcome'})
    opcode, payload = server.read()
    assert json.loads(payload) == {'type': 'speedtest', 'bytes': 2000}


def _sends(size):
    """A COM that welcomes the speed test, sends size bytes, then reads until the client closes."""
    def script(server):
        _welcome(server)
        server.send(netprobe.OP_BINARY, b'\0' * size)
        server.read()
    return script


def _welcome_then_drop(server):
    _welcome(server)
    server.drop()


def test_pings_are_timed_until_the_samples_are_done():
    def script(server):
        server.read()   # answers the pings until the client closes

    server = Server(script)
    found = netprobe.time_pings(server.connection(), 3, 2.0)
    server.client.shutdown(socket.SHUT_RDWR)
    server.done()
    assert len(found) == 3 and all(value >= 0 for value in found)


def test_a_connection_that_drops_during_the_pings_breaks_the_round_trip():
    def script(server):
        server.drop()

    server = Server(script)
    server.thread.join(5)
    with pytest.raises(netprobe.MeasurementBroken) as caught:
        netprobe.time_pings(server.connection(), 3, 2.0)
    server.done()
    assert caught.value.what.startswith('the round trip') and caught.value.partial == []


def test_the_lab_speedtest_measures_the_transfer():
    server = Server(_sends(2000))
    connection = server.connection()
    facts, reason = netprobe.lab_speedtest(connection, 2000, 'LAB-0001', 'scn-1', 2.0, 5.0, 1.0)
    connection.close()
    server.done()
    assert reason is None and facts['received'] is True and facts['bytes'] == 2000 and facts['upper_bound'] is False
    assert facts['kbps'] > 0


def test_a_peer_that_does_not_welcome_the_hello_offers_no_test():
    def script(server):
        server.read()
        server.text({'type': 'reject', 'reason': 'unknown_customer', 'text': 'customer LAB-0001 is not known to COM'})
        server.read()

    server = Server(script)
    connection = server.connection()
    facts, reason = netprobe.lab_speedtest(connection, 2000, 'LAB-0001', 'scn-1', 2.0, 5.0)
    connection.close()
    server.done()
    assert facts is None and reason == 'the server did not welcome the hello (customer LAB-0001 is not known to COM)'


def test_a_connection_dropped_halfway_is_broken_not_unmeasured():
    server = Server(_welcome_then_drop)
    with pytest.raises(netprobe.MeasurementBroken) as caught:
        netprobe.lab_speedtest(server.connection(), 2000, 'LAB-0001', 'scn-1', 2.0, 5.0)
    server.done()
    assert caught.value.what == 'the throughput measurement' and caught.value.kind in (netprobe.CLOSED, netprobe.RESET)
    assert 'broke off' in str(caught.value)


def test_a_transfer_cut_short_is_broken():
    server = Server(_sends(1000))
    connection = server.connection()
    with pytest.raises(netprobe.MeasurementBroken) as caught:
        netprobe.lab_speedtest(connection, 2000, 'LAB-0001', 'scn-1', 2.0, 5.0)
    connection.close()
    server.done()
    assert caught.value.text == 'the server sent 1000 of the 2000 bytes asked for'


def test_measure_link_times_the_pings_then_runs_the_speedtest():
    server = Server(_sends(2000))
    connection = server.connection()
    pings, facts, reason, broken = netprobe.measure_link(connection, 2, 2.0, (2000, 'LAB-0001', 'scn-1', 5.0))
    connection.close()
    server.done()
    assert len(pings) == 2 and reason is None and broken is None
    assert facts['received'] is True and facts['bytes'] == 2000


def test_measure_link_without_a_speedtest_only_times_the_pings():
    def script(server):
        opcode, _payload = server.read()
        assert opcode is None   # nothing but pings, answered by read(), until the client closes

    server = Server(script)
    connection = server.connection()
    pings, facts, reason, broken = netprobe.measure_link(connection, 3, 2.0)
    server.client.shutdown(socket.SHUT_RDWR)
    server.done()
    assert len(pings) == 3 and facts is None and reason is None and broken is None


def test_measure_link_keeps_the_pings_when_the_speedtest_breaks_off():
    server = Server(_welcome_then_drop)
    pings, facts, reason, broken = netprobe.measure_link(server.connection(), 2, 2.0, (2000, 'LAB-0001', 'scn-1', 5.0))
    server.done()
    assert len(pings) == 2 and facts is None and reason is None
    assert broken.what == 'the throughput measurement' and broken.kind in (netprobe.CLOSED, netprobe.RESET)
