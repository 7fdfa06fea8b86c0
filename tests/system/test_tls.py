# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""TLS refusals through ansible-playbook: a server that speaks only TLS 1.0/1.1,
an expired certificate and a certificate for another name, each from the lab CA
(so only the one flaw is left). The lab's own listeners speak TLS 1.2 and later,
so these servers are small ones of this file, on loopback addresses the lab
does not use. A certificate from another CA and validate_certs=false on it are
proven in test_client_behaviour.py.
"""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import sys
import threading
import warnings

import pytest

from conftest import connection
from figures import excerpt, record

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab'))

from ipo_lab.ca import LabCA  # noqa: E402  (needs the path above)

OLD_TLS = '127.0.77.1'
EXPIRED = '127.0.77.2'
OTHER_NAME = '127.0.77.3'
CASES = {'expired': 'certificate expired (lab CA)', 'other_name': 'certificate for another name (lab CA)'}
ANSWER_401 = (b'HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 0\r\n'
              b'WWW-Authenticate: Basic realm="lab"\r\nConnection: close\r\n\r\n')


class TLSServer(object):
    """Accepts TLS on one loopback address; counts connections and handshakes, answers any request with 401."""

    def __init__(self, address, context):
        self.context = context
        self.sock = socket.create_server((address, 0))
        self.sock.settimeout(0.2)
        self.address, self.port = address, self.sock.getsockname()[1]
        self.connections, self.handshakes, self.versions = 0, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                raw, _peer = self.sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            raw.settimeout(5)
            try:
                with self.context.wrap_socket(raw, server_side=True) as conn:
                    self.handshakes += 1
                    self.versions.append(conn.version())
                    conn.recv(65536)
                    conn.sendall(ANSWER_401)
            except (ssl.SSLError, OSError):
                raw.close()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def _context(leaf, old_tls_only=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if old_tls_only:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)  # TLS 1.0/1.1 are deprecated: the point of this server
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        # OpenSSL 3 allows TLS 1.0/1.1 only at security level 0.
        context.set_ciphers('DEFAULT:@SECLEVEL=0')
    leaf.configure_cert(context)
    return context


@pytest.fixture
def servers(lab):
    authority = LabCA(lab.state).lab
    now = datetime.datetime.now(datetime.timezone.utc)
    made = {
        'old_tls': TLSServer(OLD_TLS, _context(authority.issue_cert(OLD_TLS, common_name=OLD_TLS), old_tls_only=True)),
        'expired': TLSServer(EXPIRED, _context(authority.issue_cert(
            EXPIRED, common_name=EXPIRED, not_before=now - datetime.timedelta(days=30), not_after=now - datetime.timedelta(days=1)))),
        'other_name': TLSServer(OTHER_NAME, _context(authority.issue_cert('other.lab', '127.0.77.99', common_name='other.lab'))),
    }
    yield made
    for server in made.values():
        server.close()


def _info(lab, server, **extra):
    return {'name': 'gather', 'ipoffice.subscription.system_info': dict(
        connection(lab, server.address, port=server.port, retries=3, **extra), gather_subset=['system']),
        'register': 'info', 'ignore_errors': True}


def _old_tls_handshake(server):
    """The version a client that still allows TLS 1.0/1.1 gets: proof that the server works, only with old TLS."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1
    client.set_ciphers('DEFAULT:@SECLEVEL=0')
    with socket.create_connection((server.address, server.port), timeout=5) as raw:
        with client.wrap_socket(raw) as conn:
            return conn.version()


@pytest.mark.parametrize('validate_certs', [True, False])
def test_a_server_with_only_tls_1_0_or_1_1_is_refused_even_without_verification(lab, run_playbook, servers, validate_certs):
    server = servers['old_tls']
    assert _old_tls_handshake(server) == 'TLSv1.1'
    before = server.connections
    extra = {} if validate_certs else {'validate_certs': False, 'ca_path': None}
    run = run_playbook([_info(lab, server, **extra)], capture=['info'])
    info = run.results['info']
    assert info['failed'] and 'TLS 1.2 or later' in info['msg'] and '%s:%d' % (server.address, server.port) in info['msg'], info['msg']
    # Refused in the handshake, and not retried: a TLS version does not change by asking again.
    assert server.connections - before == 1 and server.handshakes == 1
    record('tls', case='server speaks only TLS 1.0/1.1', validate_certs=validate_certs, connections=server.connections - before,
           outcome='refused: %s' % excerpt(info['msg'], 'TLS 1.2 or later'))


@pytest.mark.parametrize('case, fragment', [
    ('expired', 'certificate has expired'),
    ('other_name', 'mismatch'),
])
def test_a_certificate_that_does_not_verify_is_refused_and_accepted_only_with_verification_off(lab, run_playbook, servers, case, fragment):
    server = servers[case]
    run = run_playbook([_info(lab, server)], capture=['info'])
    info = run.results['info']
    assert info['failed'] and 'could not be verified' in info['msg'] and fragment in info['msg'], info['msg']
    assert server.connections == 1 and server.handshakes == 0
    record('tls', case=CASES[case], validate_certs=True, connections=server.connections, outcome='refused: %s' % excerpt(info['msg'], fragment))
    # Turned off by the user: the handshake completes (the server answers 401, the client gets that far) and a warning says so.
    run = run_playbook([_info(lab, server, validate_certs=False, ca_path=None)], capture=['info'])
    info = run.results['info']
    assert server.connections == 2 and server.handshakes == 1 and server.versions[-1] in ('TLSv1.2', 'TLSv1.3')
    assert 'rejected the user name or password' in info['msg'], info['msg']
    assert any('validate_certs is false' in warning for warning in info.get('warnings', [])), info.get('warnings')
    assert '[WARNING]: validate_certs is false' in run.output
    record('tls', case=CASES[case], validate_certs=False, connections=server.connections - 1,
           outcome='accepted with the warning: %s' % excerpt(run.output, '[WARNING]: validate_certs is false'))
