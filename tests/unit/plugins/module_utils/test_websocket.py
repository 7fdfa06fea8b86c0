# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netprobe's WebSocket client: the codec against RFC 6455's own examples,
and the connection over a real socket pair with a scripted server. Talking to
a real server (the lab's COM, aiohttp) is proven by the system tests."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import netprobe

MASK = bytes([0x37, 0xfa, 0x21, 0x3d])


def test_the_accept_key_of_the_rfc_example():
    # RFC 6455 section 1.3.
    assert netprobe.accept_key('dGhlIHNhbXBsZSBub25jZQ==') == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='


def test_frames_of_the_rfc_examples():
    # RFC 6455 section 5.7: a masked text "Hello", then unmasked frames a server sends.
    assert netprobe.encode_frame(netprobe.OP_TEXT, b'Hello', MASK) == bytes(
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    assert netprobe.decode_frame(bytes([0x81, 0x05]) + b'Hello', 100) == (True, netprobe.OP_TEXT, b'Hello', 7)
    assert netprobe.decode_frame(bytes([0x01, 0x03]) + b'Hel', 100) == (False, netprobe.OP_TEXT, b'Hel', 5)
    assert netprobe.decode_frame(bytes([0x80, 0x02]) + b'lo', 100) == (True, netprobe.OP_CONTINUATION, b'lo', 4)
    assert netprobe.decode_frame(bytes([0x89, 0x05]) + b'Hello', 100) == (True, netprobe.OP_PING, b'Hello', 7)
    masked = bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    assert netprobe.decode_frame(masked, 100) == (True, netprobe.OP_TEXT, b'Hello', 11)


@pytest.mark.parametrize('size, head', [(125, bytes([0x82, 0xfd])), (256, bytes([0x82, 0xfe, 0x01, 0x00])),
                                        (65536, bytes([0x82, 0xff]) + struct.pack('!Q', 65536))])
def test_lengths_take_one_two_or_eight_bytes(size, head):
    frame = netprobe.encode_frame(netprobe.OP_BINARY, b'\0' * size, b'\0\0\0\0')
    assert frame.startswith(head) and len(frame) == len(head) + 4 + size
    server_frame = bytes([head[0], head[1] & 0x7f]) + head[2:] + b'\1' * size
    assert netprobe.decode_frame(server_frame, 2 ** 20) == (True, netprobe.OP_BINARY, b'\1' * size, len(server_frame))


def test_a_frame_not_all_there_yet_is_none():
    frame = bytes([0x82, 0x7e, 0x01, 0x00]) + b'x' * 256
    assert all(netprobe.decode_frame(frame[:cut], 1000) is None for cut in (0, 1, 3, 100, len(frame) - 1))


@pytest.mark.parametrize('frame, kind', [
    (bytes([0xc1, 0x00]), 'protocol'),                  # RSV1: compression nobody agreed to
    (bytes([0x09, 0x00]), 'protocol'),                  # a fragmented ping
    (bytes([0x89, 0x7e, 0x00, 0x80]), 'protocol'),      # a ping of 128 bytes
    (bytes([0x82, 0x7e, 0x10, 0x00]), 'too_big'),       # 4096 bytes where 1000 are allowed
])
def test_frames_the_rfc_forbids(frame, kind):
    with pytest.raises(netprobe.WebSocketError) as caught:
        netprobe.decode_frame(frame, 1000)
    assert caught.value.kind == kind


def _head(status=101, accept=None, extra=''):
    lines = ['HTTP/1.1 %d Switching Protocols' % status, 'Upgrade: websocket', 'Connection: Upgrade']
    if accept is not None:
        lines.append('Sec-WebSocket-Accept: %s' % accept)
    return ('\r\n'.join(lines) + extra).encode('ascii')


def test_the_upgrade_answer_is_checked():
    key = 'dGhlIHNhbXBsZSBub25jZQ=='
    assert netprobe.check_upgrade_response(_head(accept=netprobe.accept_key(key)), key) == 101
    for head, kind in ((_head(404), 'status'), (_head(accept='bm9wZQ=='), 'handshake'), (b'SSH-2.0-OpenSSH', 'handshake'),
                       (_head(accept=netprobe.accept_key(key), extra='\r\nSec-WebSocket-Extensions: permessage-deflate'),
                        'handshake')):
        with pytest.raises(netprobe.WebSocketError) as caught:
            netprobe.check_upgrade_response(head, key)
        assert caught.value.kind == kind
    assert 'HTTP 404 instead of 101' in str(pytest.raises(netprobe.WebSocketError, netprobe.check_upgrade_response,
                                                          _head(404), key).value)


def test_the_upgrade_request_names_host_port_path_and_key():
    request = netprobe.upgrade_request('admin.uk1.avaya-sub.com', 8443, '/link/v1', 'a2V5')
    assert request.startswith(b'GET /link/v1 HTTP/1.1\r\nHost: admin.uk1.avaya-sub.com:8443\r\n')
    assert b'Sec-WebSocket-Key: a2V5\r\n' in request and b'Sec-WebSocket-Version: 13\r\n' in request
    assert request.endswith(b'\r\n\r\n')
    assert b'Host: admin.uk1.avaya-sub.com\r\n' in netprobe.upgrade_request('admin.uk1.avaya-sub.com', 443, '/', 'a2V5')


class ScriptedServer(object):
    """The far end of a socket pair, reading the client's masked frames and answering as told."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b''
        self.seen = []

    def send(self, opcode, payload, fin=True):
        size = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode]) + (bytes([size]) if size < 126 else bytes([126]) + struct.pack('!H', size))
        self.sock.sendall(head + payload)

    def read(self):
        while True:
            frame = netprobe.decode_frame(self.buffer, 2 ** 20)
            if frame:
                self.buffer = self.buffer[frame[3]:]
                self.seen.append(frame[1])
                return frame[1], frame[2]
            self.buffer += self.sock.recv(65536)


def test_a_conversation_over_a_socket_pair():
    client_sock, server_sock = socket.socketpair()
    server = ScriptedServer(server_sock)

    def serve():
        opcode, payload = server.read()               # hello
        assert (opcode, payload) == (netprobe.OP_TEXT, b'{"type": "hello"}')
        server.send(netprobe.OP_PING, b'are you there')   # the client must answer while it waits
        server.send(netprobe.OP_TEXT, b'{"type": ', fin=False)
        server.send(netprobe.OP_CONTINUATION, b'"welcome"}')
        assert server.read() == (netprobe.OP_PONG, b'are you there')
        opcode, ping = server.read()                   # the client's ping
        assert opcode == netprobe.OP_PING
        server.send(netprobe.OP_BINARY, b'\1' * 300)
        server.send(netprobe.OP_PONG, ping)
        opcode, payload = server.read()                # the client's goodbye
        assert opcode == netprobe.OP_CLOSE and payload == struct.pack('!H', 1000)
        server.send(netprobe.OP_CLOSE, payload)

    thread = threading.Thread(target=serve)
    thread.start()
    connection = netprobe.WebSocket(client_sock, 2 ** 20)
    connection.send('{"type": "hello"}')
    assert connection.recv(2) == '{"type": "welcome"}'
    pong = connection.ping()
    assert not pong.is_set()
    assert connection.recv(2) == b'\1' * 300
    assert pong.wait(2) and pong.is_set()
    with pytest.raises(TimeoutError):
        connection.recv(0.2)
    connection.close()
    thread.join(5)
    assert not thread.is_alive() and server.seen == [netprobe.OP_TEXT, netprobe.OP_PONG, netprobe.OP_PING, netprobe.OP_CLOSE]
    server_sock.close()


def test_a_close_from_the_server_ends_recv_with_its_code():
    client_sock, server_sock = socket.socketpair()
    server = ScriptedServer(server_sock)
    server.send(netprobe.OP_CLOSE, struct.pack('!H', 1008) + b'rejected')
    connection = netprobe.WebSocket(client_sock, 1000)
    with pytest.raises(netprobe.WebSocketError) as caught:
        connection.recv(2)
    assert caught.value.kind == 'closed' and 'code 1008 (rejected)' in caught.value.text
    assert server.read() == (netprobe.OP_CLOSE, struct.pack('!H', 1008))   # the close is answered
    assert netprobe.websocket_error(caught.value) == ('closed', caught.value.text)
    connection.close()
    server_sock.close()
