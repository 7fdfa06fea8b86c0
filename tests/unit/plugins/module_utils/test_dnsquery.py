# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dnsquery's own DNS messages, checked against dnspython (an independent
implementation, used here only) and over real sockets on loopback for the
UDP-then-TCP path the lab's servers never take."""

from __future__ import annotations

import socket
import struct
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.ipoffice.subscription.plugins.module_utils import dnsquery
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.dns_fakes import BACKUP, PRIMARY, attempt, scripted
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.socket_spy import SocketSpy

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

labels = st.from_regex(r'\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z')
names = st.lists(labels, min_size=1, max_size=4).map('.'.join)
addresses = st.lists(st.tuples(*[st.integers(0, 255)] * 4).map(lambda q: '%d.%d.%d.%d' % q), max_size=5)


def answer_to(query_wire, name, found=(), rcode=dns.rcode.NOERROR, cname=None, truncated=False):
    """dnspython's answer to our query: A records for name (or for cname, behind a CNAME), compressed."""
    query = dns.message.from_wire(query_wire)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    owner = name + '.'
    if cname:
        response.answer.append(dns.rrset.from_text(owner, 300, 'IN', 'CNAME', cname + '.'))
        owner = cname + '.'
    if found:
        response.answer.append(dns.rrset.from_text(owner, 300, 'IN', 'A', *found))
    if truncated:
        response.flags |= dns.flags.TC
    return response.to_wire()


@PROPERTY
@given(name=names, query_id=st.integers(0, 65535))
def test_property_the_query_is_what_dnspython_reads(name, query_id):
    query = dns.message.from_wire(dnsquery.build_query(name, query_id))
    assert query.id == query_id and query.flags & dns.flags.RD and not query.flags & dns.flags.QR
    assert [(str(q.name), q.rdtype) for q in query.question] == [(name + '.', dns.rdatatype.A)]


@PROPERTY
@given(name=names, found=addresses, cname=st.one_of(st.none(), names))
def test_property_the_addresses_are_those_dnspython_put_in(name, found, cname):
    query = dnsquery.build_query(name, 4242)
    parsed = dnsquery.parse_response(answer_to(query, name, found, cname=cname), 4242, name)
    assert parsed == {'rcode': 'NOERROR', 'addresses': sorted(set(found)), 'truncated': False}


@pytest.mark.parametrize('rcode, text', [(dns.rcode.NXDOMAIN, 'NXDOMAIN'), (dns.rcode.REFUSED, 'REFUSED'),
                                         (dns.rcode.SERVFAIL, 'SERVFAIL')])
def test_the_response_code_is_named_as_dnspython_names_it(rcode, text):
    query = dnsquery.build_query('admin.lab1.avaya-sub.com', 7)
    parsed = dnsquery.parse_response(answer_to(query, 'admin.lab1.avaya-sub.com', rcode=rcode), 7, 'admin.lab1.avaya-sub.com')
    assert parsed['rcode'] == text == dns.rcode.to_text(rcode) and parsed['addresses'] == []


def test_a_message_that_answers_another_query_is_ignored():
    query = dnsquery.build_query('a.example', 7)
    wire = answer_to(query, 'a.example', ['192.0.2.1'])
    assert dnsquery.parse_response(wire, 8, 'a.example') is None          # another id
    assert dnsquery.parse_response(wire, 7, 'b.example') is None          # another question
    assert dnsquery.parse_response(query, 7, 'a.example') is None         # our own query: not a response
    assert dnsquery.parse_response(b'\x00\x07', 7, 'a.example') is None   # shorter than a header


def test_a_compression_loop_or_a_cut_record_is_an_unusable_answer():
    query = dnsquery.build_query('a.example', 7)
    header = struct.pack('!HHHHHH', 7, 0x8180, 1, 1, 0, 0)
    question = dnsquery.encode_name('a.example') + struct.pack('!HH', 1, 1)
    loop = header + question + b'\xc0' + bytes([len(header + question)])   # a pointer to itself
    with pytest.raises(dnsquery.DNSFormatError, match='loop'):
        dnsquery.parse_response(loop, 7, 'a.example')
    cut = answer_to(query, 'a.example', ['192.0.2.1'])[:-2]
    with pytest.raises(dnsquery.DNSFormatError, match='past the end'):
        dnsquery.parse_response(cut, 7, 'a.example')


def test_names_too_long_for_dns_are_refused():
    with pytest.raises(dnsquery.DNSFormatError, match='63 bytes'):
        dnsquery.encode_name('a' * 64 + '.example')
    with pytest.raises(dnsquery.DNSFormatError, match='255 bytes'):
        dnsquery.encode_name('.'.join(['a' * 60] * 5))


class TruncatingServer(object):
    """A DNS server on loopback that answers over UDP with TC set and no records, and over TCP in full."""

    def __init__(self, found):
        self.found = found
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(('127.0.0.1', 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(('127.0.0.1', self.port))
        self.tcp.listen(1)
        self.transports = []
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _serve_udp(self):
        data, client = self.udp.recvfrom(512)
        self.transports.append('udp')
        name = str(dns.message.from_wire(data).question[0].name).rstrip('.')
        self.udp.sendto(answer_to(data, name, truncated=True), client)

    def _serve_tcp(self):
        conn, _client = self.tcp.accept()
        with conn:
            size = struct.unpack('!H', conn.recv(2))[0]
            data = conn.recv(size)
            self.transports.append('tcp')
            name = str(dns.message.from_wire(data).question[0].name).rstrip('.')
            wire = answer_to(data, name, self.found)
            conn.sendall(struct.pack('!H', len(wire)) + wire)

    def close(self):
        self.udp.close()
        self.tcp.close()


def test_a_truncated_udp_answer_is_asked_again_over_tcp():
    server = TruncatingServer(['192.0.2.44'])
    try:
        attempt = dnsquery.ask('127.0.0.1', server.port, 'admin.lab1.avaya-sub.com', 3)
    finally:
        server.close()
    assert attempt['error'] is None and attempt['rcode'] == 'NOERROR' and attempt['addresses'] == ['192.0.2.44']
    assert server.transports == ['udp', 'tcp']


def test_a_server_that_never_answers_costs_the_timeout(monkeypatch):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(('127.0.0.1', 0))
    spy = SocketSpy(monkeypatch)
    try:
        attempt = dnsquery.ask('127.0.0.1', silent.getsockname()[1], 'a.example', 0.3)
        # One query reached the server, and nothing else: no retry inside the attempt.
        silent.settimeout(0)
        assert len(silent.recvfrom(512)[0]) > 12
        with pytest.raises(BlockingIOError):
            silent.recvfrom(512)
    finally:
        silent.close()
    assert attempt['rcode'] is None and attempt['error'] == 'no answer within 0.3 s'
    # The whole budget, once: the waits it set add up to one timeout and every receive ran out (counted, not timed).
    assert spy.ran_out_once(0.3), spy.calls
    assert isinstance(attempt['elapsed_ms'], float) and attempt['elapsed_ms'] > 0


# --- the resolver policy: primary, then backup ------------------------------------------------------------------


@pytest.mark.parametrize('server, backup, expected', [
    (PRIMARY, BACKUP, [PRIMARY, BACKUP]),
    (PRIMARY, None, [PRIMARY]),
    (PRIMARY, '', [PRIMARY]),
    (PRIMARY, PRIMARY, [PRIMARY]),
    (None, BACKUP, [BACKUP]),
    ('', None, []),
])
def test_the_servers_are_asked_primary_first_each_once(server, backup, expected):
    assert dnsquery.servers_in_order(server, backup) == expected


def test_an_answer_from_the_first_server_never_asks_the_backup():
    asker = scripted({(PRIMARY, 'a.example'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.1']}})
    item = dnsquery.lookup('a.example', [PRIMARY, BACKUP], 53, 3, asker)
    assert item['answer']['server'] == PRIMARY and item['answer']['addresses'] == ['192.0.2.1']
    assert [call[0] for call in asker.calls] == [PRIMARY]


def test_nxdomain_settles_the_name_without_the_backup():
    asker = scripted({(PRIMARY, 'a.example'): {'rcode': 'NXDOMAIN'}, (BACKUP, 'a.example'): {'rcode': 'NOERROR'}})
    item = dnsquery.lookup('a.example', [PRIMARY, BACKUP], 53, 3, asker)
    assert item['answer']['rcode'] == 'NXDOMAIN' and len(asker.calls) == 1


@pytest.mark.parametrize('first', [{'error': 'no answer within 3 s', 'elapsed_ms': 3000.0}, {'rcode': 'REFUSED'},
                                   {'rcode': 'SERVFAIL'}, {'error': 'Network is unreachable'}])
def test_no_usable_answer_goes_to_the_backup_once_and_the_time_adds_up(first):
    asker = scripted({(PRIMARY, 'a.example'): first,
                      (BACKUP, 'a.example'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.1'], 'elapsed_ms': 4.0}})
    item = dnsquery.lookup('a.example', [PRIMARY, BACKUP], 53, 3, asker)
    assert [call[0] for call in asker.calls] == [PRIMARY, BACKUP]
    assert item['answer']['server'] == BACKUP
    assert item['elapsed_ms'] == round(first.get('elapsed_ms', 5.0) + 4.0, 1)


def test_without_an_answer_nothing_settles_and_no_server_is_asked_twice():
    asker = scripted({})
    item = dnsquery.lookup('a.example', [PRIMARY, BACKUP], 53, 1.5, asker)
    assert item['answer'] is None and [call[0] for call in asker.calls] == [PRIMARY, BACKUP]
    assert all(call[3] == 1.5 and call[1] == 53 for call in asker.calls)


def test_attempts_are_told_as_what_each_server_did():
    assert dnsquery.attempt_text(attempt(PRIMARY, error='no answer within 3 s')) == '192.0.2.53: no answer within 3 s'
    assert dnsquery.attempt_text(attempt(BACKUP, 'REFUSED')) == '192.0.2.54 answered REFUSED'


class UdpDns(object):
    """A DNS server on one loopback address and port that answers every A query with its records (rcode NOERROR),
    or with NXDOMAIN, or never (silent); it keeps the names it was asked, in order."""

    def __init__(self, address, port=0, found=(), mode='answer'):
        self.found, self.mode, self.asked = list(found), mode, []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.address, self.port = self.sock.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, client = self.sock.recvfrom(512)
            except OSError:
                return   # closed
            name = str(dns.message.from_wire(data).question[0].name).rstrip('.')
            self.asked.append(name)
            if self.mode == 'answer':
                self.sock.sendto(answer_to(data, name, self.found), client)
            elif self.mode == 'nxdomain':
                self.sock.sendto(answer_to(data, name, rcode=dns.rcode.NXDOMAIN), client)

    def close(self):
        self.sock.close()
        self.thread.join(5)


def _primary_and_backup(primary_mode):
    """A backup that answers on 127.0.0.3 and a primary on 127.0.0.2, the same port (a system asks port 53 of both)."""
    backup = UdpDns('127.0.0.3', found=['192.0.2.44'])
    return UdpDns('127.0.0.2', backup.port, mode=primary_mode), backup


def test_a_primary_that_does_not_answer_hands_the_name_to_the_backup_over_real_sockets():
    primary, backup = _primary_and_backup('silent')
    try:
        item = dnsquery.lookup('time.lab', dnsquery.servers_in_order(primary.address, backup.address), backup.port, 0.3)
    finally:
        primary.close()
        backup.close()
    assert primary.asked == ['time.lab'] and backup.asked == ['time.lab']
    assert [entry['server'] for entry in item['attempts']] == ['127.0.0.2', '127.0.0.3']
    assert item['attempts'][0]['error'] == 'no answer within 0.3 s' and item['attempts'][0]['rcode'] is None
    assert item['answer']['server'] == '127.0.0.3' and item['answer']['addresses'] == ['192.0.2.44']


def test_a_primary_that_says_nxdomain_is_believed_over_real_sockets():
    primary, backup = _primary_and_backup('nxdomain')
    try:
        item = dnsquery.lookup('time.lab', [primary.address, backup.address], backup.port, 2)
    finally:
        primary.close()
        backup.close()
    assert primary.asked == ['time.lab'] and backup.asked == []
    assert item['answer']['server'] == '127.0.0.2' and item['answer']['rcode'] == 'NXDOMAIN'
