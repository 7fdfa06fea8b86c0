# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pure parts of netprobe: TLS record parsing, certificate names, statistics."""

from __future__ import annotations

import ssl
import struct

import pytest
import trustme

from ansible_collections.ipoffice.subscription.plugins.module_utils import netprobe

# A certificate made for these tests: issuer C=GB, O=Example Inspection CA, CN=Firewall TLS Inspection; subject
# O=Example, OU=Unit Ü, CN=admin.uk1.avaya-sub.com; SAN DNS:admin.uk1.avaya-sub.com, IP:192.0.2.44;
# valid 2024-01-02T03:04:05Z (UTCTime) to 2051-06-07T08:09:10Z (GeneralizedTime).
CERT_PEM = '''-----BEGIN CERTIFICATE-----
MIIBwjCCAWegAwIBAgICEJIwCgYIKoZIzj0EAwIwTzELMAkGA1UEBhMCR0IxHjAc
BgNVBAoMFUV4YW1wbGUgSW5zcGVjdGlvbiBDQTEgMB4GA1UEAwwXRmlyZXdhbGwg
VExTIEluc3BlY3Rpb24wIBcNMjQwMTAyMDMwNDA1WhgPMjA1MTA2MDcwODA5MTBa
MEYxEDAOBgNVBAoMB0V4YW1wbGUxEDAOBgNVBAsMB1VuaXQgw5wxIDAeBgNVBAMM
F2FkbWluLnVrMS5hdmF5YS1zdWIuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAEcxQrWQch9necSuXIwkSnPIKyIxnReNrmBCxt4s6nyBGC3V+/PZg5Zeqm+Eic
I33lBXvEivCVdmJ5IvP/1MG+laM6MDgwKAYDVR0RBCEwH4IXYWRtaW4udWsxLmF2
YXlhLXN1Yi5jb22HBMAAAiwwDAYDVR0TAQH/BAIwADAKBggqhkjOPQQDAgNJADBG
AiEAyfXsfGyZBTRTMhrIebfGqfUHbz7+pe7+GND/TKOdcYYCIQCbcFWEpr1dr7r4
9JS8UCV+RM859JLjlcJ97LnTqNffaA==
-----END CERTIFICATE-----
'''
CERT_DER = ssl.PEM_cert_to_DER_cert(CERT_PEM)


def record(content_type, payload, version=0x0303):
    return struct.pack('!BHH', content_type, version, len(payload)) + payload


def handshake(kind, body):
    return bytes([kind]) + len(body).to_bytes(3, 'big') + body


def server_hello(version=0x0303, extensions=b''):
    body = struct.pack('!H', version) + b'\x11' * 32 + b'\x00' + b'\xc0\x2f' + b'\x00'
    if extensions:
        body += struct.pack('!H', len(extensions)) + extensions
    return handshake(2, body)


def certificate(*ders):
    entries = b''.join(len(der).to_bytes(3, 'big') + der for der in ders)
    return handshake(11, len(entries).to_bytes(3, 'big') + entries)


CERT_REQUEST = handshake(13, b'\x02\x01\x40\x00\x04\x04\x03\x08\x04\x00\x00')
HELLO_DONE = handshake(14, b'')


def flight(request=True):
    messages = server_hello() + certificate(CERT_DER) + handshake(12, b'\x03\x00\x17' + b'\x00' * 20)
    if request:
        messages += CERT_REQUEST
    return messages + HELLO_DONE


def test_a_whole_flight_in_one_record():
    parser = netprobe.TLSRecordParser()
    parser.feed(record(22, flight()))
    assert parser.handshake_names == ['server_hello', 'certificate', 'server_key_exchange', 'certificate_request',
                                      'server_hello_done']
    assert parser.certificate_requested and parser.hello_done
    assert parser.server_version == 'TLSv1.2'
    assert parser.certificates == [CERT_DER]
    assert parser.error is None and parser.records == 1


def test_messages_split_over_records_and_bytes_arriving_one_by_one():
    data = flight()
    records = record(22, data[:7]) + record(22, data[7:300]) + record(22, data[300:])
    parser = netprobe.TLSRecordParser()
    for index in range(len(records)):
        parser.feed(records[index:index + 1])
    assert parser.records == 3
    assert parser.certificate_requested and parser.certificates == [CERT_DER]


def test_no_certificate_request_when_the_server_does_not_ask():
    parser = netprobe.TLSRecordParser()
    parser.feed(record(22, flight(request=False)))
    assert parser.hello_done and not parser.certificate_requested


def test_nothing_after_change_cipher_spec_is_read():
    parser = netprobe.TLSRecordParser()
    parser.feed(record(22, flight(request=False)) + record(20, b'\x01') + record(22, CERT_REQUEST) + record(21, b'\x02\x28'))
    assert parser.encrypted and not parser.certificate_requested and parser.alerts == []


def test_clear_alerts_are_named():
    parser = netprobe.TLSRecordParser()
    parser.feed(record(21, b'\x02\x46'))
    assert parser.alert_names == ['protocol_version'] and parser.server_version is None


@pytest.mark.parametrize('data', [b'HTTP/1.1 400 Bad Request\r\n\r\n', b'\x16\x02\x03\x00\x10', b'SSH-2.0-OpenSSH\r\n'])
def test_bytes_that_are_not_tls(data):
    parser = netprobe.TLSRecordParser()
    parser.feed(data)
    assert parser.error and 'not a TLS record' in parser.error


def test_supported_versions_extension_wins_over_the_legacy_version():
    extension = struct.pack('!HHH', 43, 2, 0x0304)
    parser = netprobe.TLSRecordParser()
    parser.feed(record(22, server_hello(0x0303, extension)))
    assert parser.server_version == 'TLSv1.3'


@pytest.mark.parametrize('version, name', [(0x0301, 'TLSv1'), (0x0302, 'TLSv1.1'), (0x0303, 'TLSv1.2'), (0x7f1c, '0x7f1c')])
def test_version_names(version, name):
    parser = netprobe.TLSRecordParser()
    parser.feed(record(22, server_hello(version)))
    assert parser.server_version == name


def test_a_certificate_chain_is_split_leaf_first():
    body = certificate(CERT_DER, b'\x30\x03\x02\x01\x00')[4:]
    assert netprobe.certificate_list(body) == [CERT_DER, b'\x30\x03\x02\x01\x00']
    assert netprobe.certificate_list(body[:10]) == []


def test_certificate_names_validity_and_alt_names():
    described = netprobe.describe_certificate(CERT_DER)
    assert described['subject'] == 'O=Example, OU=Unit Ü, CN=admin.uk1.avaya-sub.com'
    assert described['issuer'] == 'C=GB, O=Example Inspection CA, CN=Firewall TLS Inspection'
    assert described['issuer_attributes']['O'] == 'Example Inspection CA'
    assert described['not_before'] == '2024-01-02T03:04:05Z' and described['not_after'] == '2051-06-07T08:09:10Z'
    assert described['alt_names'] == ['DNS:admin.uk1.avaya-sub.com', 'IP:192.0.2.44']
    assert described['self_issued'] is False


@pytest.mark.parametrize('der', [b'', b'\x30', b'\x30\x05\x02\x01\x00', CERT_DER[:40]])
def test_unreadable_certificates_raise_der_error(der):
    with pytest.raises(netprobe.DERError):
        netprobe.describe_certificate(der)


def _memory_handshake(server_context, client_context):
    """Client and server SSLObjects over MemoryBIOs; returns the parser of everything the server sent."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _index in range(4))
    client = client_context.wrap_bio(client_in, client_out, server_hostname='localhost')
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    parser = netprobe.TLSRecordParser()
    for _round in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
        server_in.write(client_out.read())
        sent = server_out.read()
        parser.feed(sent)
        client_in.write(sent)
    return parser


@pytest.mark.parametrize('verify_mode, requested', [(ssl.CERT_REQUIRED, True), (ssl.CERT_OPTIONAL, True), (ssl.CERT_NONE, False)])
def test_a_real_openssl_server_flight_shows_the_certificate_request(tmp_path, verify_mode, requested):
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    authority.issue_cert('localhost').configure_cert(server_context)
    server_context.verify_mode = verify_mode
    if verify_mode != ssl.CERT_NONE:
        authority.configure_trust(server_context)
    client_context = netprobe.client_context(verify=False)
    parser = _memory_handshake(server_context, client_context)
    assert parser.server_version == 'TLSv1.2'
    assert parser.certificate_requested is requested and parser.hello_done
    assert netprobe.describe_certificate(parser.certificates[0])['alt_names'] == ['DNS:localhost']


def test_the_probe_context_offers_at_most_tls_1_2():
    assert netprobe.client_context(verify=False).maximum_version == ssl.TLSVersion.TLSv1_2
    verifying = netprobe.client_context()
    assert verifying.check_hostname is True and verifying.verify_mode == ssl.CERT_REQUIRED


def test_median_and_summary():
    assert netprobe.median([]) is None
    assert netprobe.median([3, 1, 2]) == 2
    assert netprobe.median([4, 1, 3, 2]) == 2.5
    assert netprobe.summary_ms([]) is None
    assert netprobe.summary_ms([250.04, 260.0, 251.0]) == {'median': 251.0, 'worst': 260.0, 'best': 250.0, 'count': 3,
                                                           'samples': [250.0, 260.0, 251.0]}


def test_throughput_takes_off_the_round_trip_but_at_most_half_the_time():
    kbps, transfer = netprobe.throughput(32000, 2.2, 0.2)
    assert transfer == pytest.approx(2.0) and kbps == 128.0
    kbps, transfer = netprobe.throughput(32000, 1.0, 5.0)
    assert transfer == 0.5 and kbps == 512.0
    assert netprobe.throughput(32000, 4.0) == (64.0, 4.0)
    assert netprobe.throughput(0, 1.0) == (None, None)


@pytest.mark.parametrize('exc, kind', [
    (ConnectionRefusedError(111, 'Connection refused'), 'refused'), (TimeoutError(), 'timeout'),
    (ConnectionResetError(104, 'reset'), 'reset'), (OSError(101, 'Network is unreachable'), 'unreachable'),
    (OSError(5, 'I/O error'), 'error'),
])
def test_socket_errors_are_classified(exc, kind):
    assert netprobe.classify_os_error(exc) == kind


def test_websocket_uri_leaves_out_the_default_port():
    assert netprobe.websocket_uri('admin.uk1.avaya-sub.com', 443, '/link/v1') == 'wss://admin.uk1.avaya-sub.com/link/v1'
    assert netprobe.websocket_uri('admin.uk1.avaya-sub.com', 8443, '/x') == 'wss://admin.uk1.avaya-sub.com:8443/x'


def test_the_shared_context_builder_names_the_file_that_does_not_load(tmp_path):
    garbage = tmp_path / 'garbage.pem'
    garbage.write_text('not a certificate\n')
    ca = tmp_path / 'ca.pem'
    ca.write_text(CERT_PEM)
    context, problem = netprobe.load_client_context(str(garbage), str(garbage), str(garbage))
    assert context is None and problem.startswith("ca_path '%s' is not a PEM file of CA certificates (" % garbage)
    name = {'client_cert': 'validate_client_cert', 'client_key': 'validate_client_key'}.get
    context, problem = netprobe.load_client_context(str(ca), str(garbage), str(garbage), lambda option: name(option) or option)
    assert context is None
    assert problem.startswith("validate_client_cert '%s' and validate_client_key '%s' do not load as a PEM certificate and its key ("
                              % (garbage, garbage))
    assert 'not a certificate' not in problem
    context, problem = netprobe.load_client_context(str(ca))
    assert problem is None and context.verify_mode == ssl.CERT_REQUIRED and context.maximum_version == ssl.TLSVersion.TLSv1_2
