# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Socket, TLS and WebSocket probes shared by port_check, tls_check and link_quality_check, and the
measurements over an open WebSocket (round trip by ping and pong; the lab's throughput test).

The pure parts (TLS record parsing, certificate names, statistics) are
unit-tested; the socket parts are proven against the lab by the system tests.

Why the TLS records are read here: Python's ``ssl`` module says nothing about
whether the server asked for a client certificate. In TLS 1.2 the server's
first flight (ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
ServerHelloDone) travels unencrypted, so the handshake runs over
``ssl.MemoryBIO`` and every byte the server sends is also fed to
``TLSRecordParser``, which reads the records (content type 22, handshake) up to
the server's ChangeCipherSpec and lists the handshake message types:
type 13 is the CertificateRequest. The same bytes give the negotiated version
(ServerHello) and the server's certificate chain (Certificate, type 11) even
when the handshake fails, which is how an untrusted certificate is reported
without a second connection. This works only up to TLS 1.2, which is what the
IP Office speaks and what the probes offer: in TLS 1.3 those messages are
encrypted.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import socket
import ssl
import struct
import time


# -- TLS records (pure) ---------------------------------------------------------------------------------------------

CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
CONTENT_TYPES = (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA)

SERVER_HELLO = 2
CERTIFICATE = 11
CERTIFICATE_REQUEST = 13
SERVER_HELLO_DONE = 14

HANDSHAKE_NAMES = {
    0: 'hello_request', 1: 'client_hello', 2: 'server_hello', 4: 'new_session_ticket', 8: 'encrypted_extensions',
    11: 'certificate', 12: 'server_key_exchange', 13: 'certificate_request', 14: 'server_hello_done',
    15: 'certificate_verify', 16: 'client_key_exchange', 20: 'finished', 22: 'certificate_status',
}
ALERT_NAMES = {
    0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure',
    42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired',
    46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
    51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
    86: 'inappropriate_fallback', 90: 'user_canceled', 109: 'missing_extension', 110: 'unsupported_extension',
    112: 'unrecognized_name', 116: 'certificate_required', 120: 'no_application_protocol',
}
# The names ssl.SSLObject.version() uses.
VERSION_NAMES = {0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3'}
EXT_SUPPORTED_VERSIONS = 43
MAX_RECORD = 16384 + 2048
MAX_HANDSHAKE_BYTES = 512 * 1024   # more than any sane first flight; beyond it the parser stops collecting


class TLSRecordParser(object):
    """Reads one direction of a TLS connection, byte by byte as it arrives, and keeps what travels in the clear.

    feed(data) any number of times. Afterwards:
    records: number of whole records seen; handshake_types: handshake message types in order, up to the
    ChangeCipherSpec; messages: (type, body) of those messages; alerts: (level, description) of clear alerts;
    encrypted: a ChangeCipherSpec was seen (what follows is encrypted and not read); error: why the bytes
    are not TLS, or None.
    """

    def __init__(self):
        self._buffer = b''
        self._handshake = b''
        self._collected = 0
        self.records = 0
        self.bytes = 0
        self.handshake_types = []
        self.messages = []
        self.alerts = []
        self.record_versions = []
        self.encrypted = False
        self.error = None

    def feed(self, data):
        if self.error or not data:
            return
        self.bytes += len(data)
        self._buffer += data
        while len(self._buffer) >= 5 and not self.error:
            content_type, major, minor, length = struct.unpack('!BBBH', self._buffer[:5])
            if content_type not in CONTENT_TYPES or major != 3 or length > MAX_RECORD:
                self.error = 'not a TLS record (first bytes %r)' % (self._buffer[:8],)
                return
            if len(self._buffer) < 5 + length:
                return
            fragment = self._buffer[5:5 + length]
            self._buffer = self._buffer[5 + length:]
            self.records += 1
            if len(self.record_versions) < 8:
                self.record_versions.append((major << 8) | minor)
            self._record(content_type, fragment)

    def _record(self, content_type, fragment):
        if self.encrypted:
            return
        if content_type == CHANGE_CIPHER_SPEC:
            self.encrypted = True
        elif content_type == ALERT:
            for index in range(0, len(fragment) - 1, 2):
                self.alerts.append((fragment[index], fragment[index + 1]))
        elif content_type == HANDSHAKE and self._collected < MAX_HANDSHAKE_BYTES:
            self._collected += len(fragment)
            self._handshake += fragment
            while len(self._handshake) >= 4:
                kind = self._handshake[0]
                size = int.from_bytes(self._handshake[1:4], 'big')
                if len(self._handshake) < 4 + size:
                    break
                self.handshake_types.append(kind)
                self.messages.append((kind, self._handshake[4:4 + size]))
                self._handshake = self._handshake[4 + size:]

    # -- what the records say ----------------------------------------------------------------------------------

    def message(self, kind):
        for found, body in self.messages:
            if found == kind:
                return body
        return None

    @property
    def handshake_names(self):
        return [HANDSHAKE_NAMES.get(kind, 'type_%d' % kind) for kind in self.handshake_types]

    @property
    def certificate_requested(self):
        return CERTIFICATE_REQUEST in self.handshake_types

    @property
    def hello_done(self):
        return SERVER_HELLO_DONE in self.handshake_types

    @property
    def alert_names(self):
        return [ALERT_NAMES.get(description, 'alert_%d' % description) for _level, description in self.alerts]

    @property
    def server_version(self):
        """The version the ServerHello chose (supported_versions when present), as ssl names it; None without one."""
        body = self.message(SERVER_HELLO)
        if body is None:
            return None
        return version_name(server_hello_version(body))

    @property
    def certificates(self):
        """The DER certificates of the server's Certificate message (TLS 1.2 form), leaf first."""
        body = self.message(CERTIFICATE)
        return certificate_list(body) if body is not None else []


def version_name(number):
    if number is None:
        return None
    return VERSION_NAMES.get(number, '0x%04x' % number)


def server_hello_version(body):
    """The protocol version a ServerHello body selects: legacy_version, or its supported_versions extension."""
    if len(body) < 2:
        return None
    version = struct.unpack('!H', body[:2])[0]
    pos = 2 + 32
    try:
        session_length = body[pos]
        pos += 1 + session_length + 2 + 1       # session id, cipher suite, compression method
        if pos + 2 > len(body):
            return version
        end = pos + 2 + struct.unpack('!H', body[pos:pos + 2])[0]
        pos += 2
        while pos + 4 <= min(end, len(body)):
            ext_type, ext_length = struct.unpack('!HH', body[pos:pos + 4])
            if ext_type == EXT_SUPPORTED_VERSIONS and ext_length == 2:
                return struct.unpack('!H', body[pos + 4:pos + 6])[0]
            pos += 4 + ext_length
    except (IndexError, struct.error):
        pass
    return version


def certificate_list(body):
    """DER certificates out of a TLS 1.2 Certificate message body (3-byte list length, then 3-byte length + DER each)."""
    if len(body) < 3:
        return []
    end = min(3 + int.from_bytes(body[:3], 'big'), len(body))
    pos = 3
    found = []
    while pos + 3 <= end:
        size = int.from_bytes(body[pos:pos + 3], 'big')
        if pos + 3 + size > end:
            break
        found.append(body[pos + 3:pos + 3 + size])
        pos += 3 + size
    return found


# -- certificates (pure): just enough DER for names, validity and subjectAltName ------------------------------------

OID_NAMES = {
    '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
    '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC',
}
OID_SUBJECT_ALT_NAME = '2.5.29.17'


class DERError(ValueError):
    pass


def _der_item(data, pos):
    """(tag, value start, value end) of the DER item at pos."""
    if pos + 2 > len(data):
        raise DERError('truncated DER at %d' % pos)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise DERError('bad DER length at %d' % pos)
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise DERError('DER item at %d runs past the end' % pos)
    return tag, pos, pos + length


def _der_children(data, start, end):
    items = []
    pos = start
    while pos < end:
        tag, value_start, value_end = _der_item(data, pos)
        items.append((tag, value_start, value_end))
        pos = value_end
    return items


def _oid(value):
    if not value:
        raise DERError('empty OID')
    parts = [value[0] // 40, value[0] % 40] if value[0] < 80 else [2, value[0] - 80]
    number = 0
    for byte in value[1:]:
        number = (number << 7) | (byte & 0x7f)
        if not byte & 0x80:
            parts.append(number)
            number = 0
    return '.'.join(str(part) for part in parts)


def _string(tag, value):
    if tag == 0x1e:   # BMPString
        return value.decode('utf-16-be', 'replace')
    if tag == 0x1c:   # UniversalString
        return value.decode('utf-32-be', 'replace')
    return value.decode('utf-8', 'replace')


def _name(data, start, end):
    """A Name as [(short name or OID, value)] in certificate order."""
    attributes = []
    for set_tag, set_start, set_end in _der_children(data, start, end):
        for _seq_tag, seq_start, seq_end in _der_children(data, set_start, set_end):
            parts = _der_children(data, seq_start, seq_end)
            if len(parts) < 2:
                continue
            oid = _oid(data[parts[0][1]:parts[0][2]])
            tag, value_start, value_end = parts[1]
            attributes.append((OID_NAMES.get(oid, oid), _string(tag, data[value_start:value_end])))
    return attributes


def _time(tag, value):
    text = value.decode('ascii', 'replace')
    if tag == 0x17 and len(text) >= 12:    # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = '%d%s' % (2000 + year if year < 50 else 1900 + year, text[2:])
    if len(text) >= 14 and text[:14].isdigit():
        return '%s-%s-%sT%s:%s:%sZ' % (text[0:4], text[4:6], text[6:8], text[8:10], text[10:12], text[12:14])
    return text


def _alt_names(data, start, end):
    names = []
    for tag, value_start, value_end in _der_children(data, start, end):
        value = data[value_start:value_end]
        if tag == 0x82:                       # dNSName
            names.append('DNS:%s' % value.decode('ascii', 'replace'))
        elif tag == 0x87 and len(value) == 4:  # iPAddress
            names.append('IP:%s' % socket.inet_ntoa(value))
        elif tag == 0x87 and len(value) == 16:
            names.append('IP:%s' % socket.inet_ntop(socket.AF_INET6, value))
    return names


def name_text(attributes):
    """'CN=x, O=y' in certificate order."""
    return ', '.join('%s=%s' % (key, value) for key, value in attributes)


def certificate_common_name(path):
    """The subject CN of the first certificate in a PEM file; None when the file holds none with a CN.
    OSError when it cannot be read, DERError when the certificate cannot be parsed."""
    with open(path) as handle:
        text = handle.read()
    begin, end = '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----'
    if begin not in text or end not in text:
        return None
    pem = text[text.index(begin):text.index(end) + len(end)]
    try:
        der = ssl.PEM_cert_to_DER_cert(pem)
    except ValueError as exc:
        raise DERError(str(exc))
    return describe_certificate(der)['subject_attributes'].get('CN')


def describe_certificate(der):
    """{subject, issuer (texts), subject_attributes, issuer_attributes (dicts), not_before, not_after, alt_names,
    self_issued} of one DER certificate. DERError when it cannot be read."""
    _tag, cert_start, cert_end = _der_item(der, 0)
    cert = _der_children(der, cert_start, cert_end)
    if not cert or cert[0][0] != 0x30:
        raise DERError('not a certificate')
    tbs = _der_children(der, cert[0][1], cert[0][2])
    index = 1 if tbs and tbs[0][0] == 0xa0 else 0   # explicit version
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional fields
    if len(tbs) < index + 6:
        raise DERError('certificate too short')
    issuer = _name(der, tbs[index + 2][1], tbs[index + 2][2])
    validity = _der_children(der, tbs[index + 3][1], tbs[index + 3][2])
    subject = _name(der, tbs[index + 4][1], tbs[index + 4][2])
    alt_names = []
    for tag, start, end in tbs[index + 6:]:
        if tag != 0xa3:
            continue
        for _ext_tag, ext_start, ext_end in _der_children(der, *_der_item(der, start)[1:]):
            parts = _der_children(der, ext_start, ext_end)
            if parts and _oid(der[parts[0][1]:parts[0][2]]) == OID_SUBJECT_ALT_NAME:
                octets = parts[-1]
                inner = _der_item(der, octets[1])
                alt_names = _alt_names(der, inner[1], inner[2])
    times = [_time(tag, der[start:end]) for tag, start, end in validity[:2]]
    return {
        'subject': name_text(subject),
        'issuer': name_text(issuer),
        'subject_attributes': dict(subject),
        'issuer_attributes': dict(issuer),
        'not_before': times[0] if times else None,
        'not_after': times[1] if len(times) > 1 else None,
        'alt_names': alt_names,
        'self_issued': subject == issuer,
    }


# -- statistics (pure) ----------------------------------------------------------------------------------------------

def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def summary_ms(samples):
    """{'median', 'worst', 'best', 'count', 'samples'} of round trips in milliseconds (one decimal); None when empty."""
    if not samples:
        return None
    rounded = [round(value, 1) for value in samples]
    return {'median': round(median(samples), 1), 'worst': max(rounded), 'best': min(rounded), 'count': len(rounded),
            'samples': rounded}


def throughput(size, seconds, round_trip_seconds=0.0):
    """(kbit/s, transfer seconds) for size bytes that arrived seconds after they were asked for.

    The request's own round trip (its way out and the first byte's way back) is
    not transfer time, so round_trip_seconds is taken off, but never more than
    half the elapsed time: a round trip estimate off by a lot can at most double
    the result, never make it unbounded. kbit = 1000 bits, as in Avaya's 128 kbit/s.
    """
    if size <= 0 or seconds <= 0:
        return None, None
    transfer = seconds - min(max(round_trip_seconds or 0.0, 0.0), seconds / 2.0)
    return round(size * 8 / transfer / 1000.0, 1), transfer


def ms(seconds):
    return round(seconds * 1000.0, 1)


# -- sockets ----------------------------------------------------------------------------------------------------------

REFUSED = 'refused'
TIMEOUT = 'timeout'
UNREACHABLE = 'unreachable'
RESET = 'reset'
CLOSED = 'closed'
ERROR = 'error'

_UNREACHABLE_ERRNOS = set(getattr(errno, name) for name in ('ENETUNREACH', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL')
                          if hasattr(errno, name))


def classify_os_error(exc):
    """refused, timeout, unreachable, reset or error for a socket-level exception."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return RESET
    if getattr(exc, 'errno', None) in _UNREACHABLE_ERRNOS:
        return UNREACHABLE
    return ERROR


def error_text(exc):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return 'no answer in time'
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def tcp_connect(address, port, timeout):
    """(socket, seconds) of one TCP connect; raises OSError (socket.timeout included)."""
    started = time.monotonic()
    sock = socket.create_connection((address, port), timeout=timeout)
    return sock, time.monotonic() - started


def tcp_connect_outcome(address, port, timeout):
    """One TCP connect, closed at once: {'state': 'open'|refused|timeout|unreachable|reset|error, 'ms', 'error'}."""
    started = time.monotonic()
    try:
        sock, elapsed = tcp_connect(address, port, timeout)
    except OSError as exc:
        return {'state': classify_os_error(exc), 'ms': ms(time.monotonic() - started), 'error': error_text(exc)}
    sock.close()
    return {'state': 'open', 'ms': ms(elapsed), 'error': None}


def tcp_connect_samples(address, port, timeout, samples):
    """samples TCP connects, one after another: (ms of those that connected, every outcome of tcp_connect_outcome)."""
    outcomes = [tcp_connect_outcome(address, port, timeout) for _index in range(samples)]
    return [item['ms'] for item in outcomes if item['state'] == 'open'], outcomes


def client_context(ca_path=None, client_cert=None, client_key=None, verify=True):
    """A client context that offers TLS up to 1.2, as the IP Office does.

    verify: the server's certificate must chain to ca_path (default: the system's
    trust store) and name the server. ssl.SSLError / OSError when a file does not load.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    if verify:
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        if ca_path:
            context.load_verify_locations(cafile=ca_path)
        else:
            context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        context.load_cert_chain(client_cert, client_key)
    return context


def load_client_context(ca_path=None, client_cert=None, client_key=None, name=None):
    """The one TLS context builder of the check modules (tls_check, link_quality_check): (context, None) with the
    verifying context of client_context(), or (None, problem) when a file does not load. The problem names the option
    (ca_path, client_cert, client_key, as name(option) gives it) and the path, never a file's content."""
    name = name or (lambda option: option)
    try:
        return client_context(ca_path, client_cert, client_key), None
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, 'reason', None) or getattr(exc, 'strerror', None) or type(exc).__name__
    try:
        client_context(ca_path)
    except (ssl.SSLError, OSError, ValueError):
        return None, '%s %r is not a PEM file of CA certificates (%s)' % (name('ca_path'), ca_path, reason)
    return None, ('%s %r and %s %r do not load as a PEM certificate and its key (%s)'
                  % (name('client_cert'), client_cert, name('client_key'), client_key, reason))


class Handshake(object):
    """What one TLS handshake over MemoryBIO showed. See tls_handshake()."""

    def __init__(self):
        self.tcp_state = None       # open, refused, timeout, unreachable, error
        self.tcp_error = None
        self.connect_ms = None
        self.handshake_ms = None
        self.completed = False
        self.error_kind = None      # verify, timeout, closed, reset, tls, not_tls
        self.error = None
        self.verify_message = None
        self.version = None         # ssl's name, from the finished handshake or the ServerHello
        self.cipher = None
        self.server = TLSRecordParser()
        self.client = TLSRecordParser()

    @property
    def answered(self):
        """The server sent at least one TLS record."""
        return self.server.records > 0

    @property
    def client_flight_sent(self):
        """The client sent its ChangeCipherSpec: it accepted the server's certificate (TLS 1.2)."""
        return self.client.encrypted

    @property
    def certificate_verified(self):
        """True when the server's certificate verified, False when it did not, None when it was never judged."""
        if self.completed or self.client_flight_sent:
            return True
        if self.error_kind == 'verify':
            return False
        return None


def _flush(sock, outgoing, handshake):
    data = outgoing.read()
    if data:
        handshake.client.feed(data)
        sock.sendall(data)


def tls_handshake(address, port, context, server_name=None, timeout=3.0, first_record_only=False, shared_timeout=False):
    """A TLS handshake to address:port over MemoryBIO, reading the server's clear records as they pass.

    The TCP connect gets timeout seconds, the handshake timeout seconds more
    (shared_timeout: both together get timeout seconds). first_record_only: stop once the server sent one whole record (or bytes that
    are not TLS): the port answers TLS. Never raises for network or TLS errors:
    they are in the result.
    """
    result = Handshake()
    started = time.monotonic()
    try:
        sock, elapsed = tcp_connect(address, port, timeout)
    except OSError as exc:
        result.tcp_state = classify_os_error(exc)
        result.tcp_error = error_text(exc)
        result.connect_ms = ms(time.monotonic() - started)
        return result
    result.tcp_state = 'open'
    result.connect_ms = ms(elapsed)
    incoming = ssl.MemoryBIO()
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_name)
    begun = time.monotonic()
    deadline = (started if shared_timeout else begun) + timeout
    try:
        while True:
            try:
                tls.do_handshake()
                _flush(sock, outgoing, result)
                result.completed = True
                result.version = tls.version()
                result.cipher = (tls.cipher() or (None,))[0]
                break
            except ssl.SSLWantReadError:
                _flush(sock, outgoing, result)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout('timed out')
            sock.settimeout(remaining)
            data = sock.recv(65536)
            result.server.feed(data)
            if result.server.error:
                result.error_kind = 'not_tls'
                result.error = 'the server answered with something that is not TLS: %s' % result.server.error
                break
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()
            if first_record_only and result.server.records:
                break
    except ssl.SSLCertVerificationError as exc:
        result.error_kind = 'verify'
        result.verify_message = exc.verify_message or exc.reason or str(exc)
        result.error = 'certificate verify failed: %s' % result.verify_message
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError) as exc:
        result.error_kind = CLOSED
        result.error = 'the server closed the connection during the handshake (%s)' % (exc.reason or 'EOF')
    except ssl.SSLError as exc:
        result.error_kind = 'tls'
        result.error = exc.reason or str(exc)
    except (socket.timeout, TimeoutError):
        result.error_kind = TIMEOUT
        result.error = 'no TLS answer within %g s' % timeout
    except OSError as exc:
        result.error_kind = classify_os_error(exc)
        result.error = error_text(exc)
    result.handshake_ms = ms(time.monotonic() - begun)
    if not result.completed and result.error_kind not in (TIMEOUT, 'not_tls') and not first_record_only:
        _finish_server_flight(sock, outgoing, result, deadline)
    if result.version is None:
        result.version = result.server.server_version
    _close(sock, tls, outgoing, result.completed)
    return result


def _finish_server_flight(sock, outgoing, result, deadline):
    """After a failed handshake, read on briefly (at most 1 s) until the server's first flight is whole: a client that
    stops at a bad certificate has not yet looked at the CertificateRequest behind it."""
    try:
        _flush(sock, outgoing, result)
    except OSError:
        pass
    stop = min(deadline, time.monotonic() + 1.0)
    while not result.server.hello_done and not result.server.error and result.server.alerts == []:
        remaining = stop - time.monotonic()
        if remaining <= 0:
            return
        try:
            sock.settimeout(remaining)
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        result.server.feed(data)


def _close(sock, tls, outgoing, completed):
    if completed:
        try:
            tls.unwrap()
        except (ssl.SSLError, ValueError):
            pass
        try:
            data = outgoing.read()
            if data:
                sock.settimeout(0.5)
                sock.sendall(data)
        except OSError:
            pass
    try:
        sock.close()
    except OSError:
        pass


# -- WebSocket (RFC 6455): the client side, just what the checks need ------------------------------------------------
#
# Why not the websockets library: the checks run on probe hosts that have Python 3 and nothing else (docs/validate.md).
# A client that opens one connection, sends a few text messages and pings, and reads text, binary, pong and close
# frames is the HTTP upgrade of section 4 and the framing of section 5: the codec below is pure and unit-tested
# against the RFC's own examples; the connection is proven against the lab's COM (aiohttp's server) by the system
# tests.

WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HEADER_BYTES = 65536
CLOSE_TIMEOUT = 2.0


# The server refused the client itself at the upgrade (HTTP 401 or 403): it does not accept this client identity.
FORBIDDEN = 'forbidden'


class WebSocketError(Exception):
    """A WebSocket that could not be opened or used. kind: status, forbidden, handshake, closed, protocol or too_big."""

    def __init__(self, kind, text, status=None):
        super(WebSocketError, self).__init__(text)
        self.kind = kind
        self.text = text
        self.status = status


def websocket_uri(server_name, port, path):
    return 'wss://%s%s%s' % (server_name, '' if port == 443 else ':%d' % port, path)


def accept_key(key):
    """The Sec-WebSocket-Accept a server must answer to key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode('ascii')).digest()).decode('ascii')


def upgrade_request(server_name, port, path, key):
    host = server_name if port == 443 else '%s:%d' % (server_name, port)
    return ('GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
            'Sec-WebSocket-Version: 13\r\nUser-Agent: ipoffice.subscription\r\n\r\n' % (path, host, key)).encode('ascii')


def check_upgrade_response(head, key):
    """The status code of the server's answer to the upgrade; WebSocketError unless it is a valid 101."""
    lines = head.decode('iso-8859-1').split('\r\n')
    parts = lines[0].split(' ', 2)
    if len(parts) < 2 or not parts[0].startswith('HTTP/') or not parts[1].isdigit():
        raise WebSocketError('handshake', 'the server did not answer the upgrade with HTTP: %r' % lines[0][:80])
    status = int(parts[1])
    if status in (401, 403):
        raise WebSocketError(FORBIDDEN, 'the server refused the upgrade with HTTP %d (it does not accept this client)' % status, status)
    if status != 101:
        raise WebSocketError('status', 'the server answered the upgrade with HTTP %d instead of 101' % status, status)
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    if headers.get('upgrade', '').lower() != 'websocket' or 'upgrade' not in headers.get('connection', '').lower():
        raise WebSocketError('handshake', 'the upgrade was answered 101 without Upgrade: websocket and Connection: Upgrade')
    if headers.get('sec-websocket-accept') != accept_key(key):
        raise WebSocketError('handshake', 'the upgrade was answered with a wrong Sec-WebSocket-Accept')
    if headers.get('sec-websocket-extensions'):
        raise WebSocketError('handshake', 'the server chose extensions that were not offered: %s'
                             % headers['sec-websocket-extensions'])
    return status


def encode_frame(opcode, payload, mask_key):
    """One final frame from the client: masked with the 4-byte mask_key, as section 5.3 requires of a client."""
    size = len(payload)
    head = struct.pack('!B', 0x80 | opcode)
    if size < 126:
        head += struct.pack('!B', 0x80 | size)
    elif size < 65536:
        head += struct.pack('!BH', 0x80 | 126, size)
    else:
        head += struct.pack('!BQ', 0x80 | 127, size)
    masked = bytes(byte ^ mask_key[index % 4] for index, byte in enumerate(payload))
    return head + mask_key + masked


def decode_frame(data, max_size):
    """(fin, opcode, payload, bytes used) of the first frame in data, or None while it is not all there.

    Frames from a server come unmasked, but a masked one is read too. WebSocketError for what the RFC forbids."""
    if len(data) < 2:
        return None
    first, second = data[0], data[1]
    if first & 0x70:
        raise WebSocketError('protocol', 'a frame with reserved bits set (an extension that was not agreed)')
    fin, opcode = bool(first & 0x80), first & 0x0F
    size = second & 0x7F
    pos = 2
    if size == 126:
        if len(data) < 4:
            return None
        size = struct.unpack('!H', data[2:4])[0]
        pos = 4
    elif size == 127:
        if len(data) < 10:
            return None
        size = struct.unpack('!Q', data[2:10])[0]
        pos = 10
    if opcode >= OP_CLOSE and (size > 125 or not fin):
        raise WebSocketError('protocol', 'a control frame that is fragmented or longer than 125 bytes')
    if size > max_size:
        raise WebSocketError('too_big', 'a frame of %d bytes, more than the %d allowed' % (size, max_size))
    mask_key = None
    if second & 0x80:
        if len(data) < pos + 4:
            return None
        mask_key = data[pos:pos + 4]
        pos += 4
    if len(data) < pos + size:
        return None
    payload = data[pos:pos + size]
    if mask_key:
        payload = bytes(byte ^ mask_key[index % 4] for index, byte in enumerate(payload))
    return fin, opcode, payload, pos + size


class Pong(object):
    """The answer to one ping: is_set() once the pong came, wait(timeout) reads until it comes or time runs out."""

    def __init__(self, connection):
        self._connection = connection
        self.received = False

    def is_set(self):
        return self.received

    def wait(self, timeout):
        try:
            self._connection.pump(lambda: self.received, time.monotonic() + timeout)
        except TimeoutError:
            pass
        return self.received


class WebSocket(object):
    """An open client WebSocket over a TLS socket. One thread: frames are read only while a caller waits (recv,
    Pong.wait), and a server's ping is answered then."""

    def __init__(self, sock, max_size, leftover=b''):
        self.socket = sock
        self.max_size = max_size
        self.status = 101
        self.tls_version = sock.version() if hasattr(sock, 'version') else None
        self._buffer = leftover
        self._messages = []
        self._fragments = None
        self._pongs = {}
        self.close_code = None
        self.closed = False

    # -- writing ---------------------------------------------------------------------------------------------------

    def _send_frame(self, opcode, payload):
        self.socket.sendall(encode_frame(opcode, payload, os.urandom(4)))

    def send(self, message):
        if self.closed:
            raise WebSocketError(CLOSED, 'the connection is closed (code %s)' % self.close_code)
        if isinstance(message, str):
            self._send_frame(OP_TEXT, message.encode('utf-8'))
        else:
            self._send_frame(OP_BINARY, bytes(message))

    def ping(self):
        payload = os.urandom(4)
        pong = self._pongs[payload] = Pong(self)
        self._send_frame(OP_PING, payload)
        return pong

    # -- reading ---------------------------------------------------------------------------------------------------

    def _read_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError('timed out')
        self.socket.settimeout(remaining)
        try:
            data = self.socket.recv(65536)
        except socket.timeout:
            raise TimeoutError('timed out') from None
        if not data:
            self.closed = True
            raise WebSocketError(CLOSED, 'the server closed the connection without a close frame')
        self._buffer += data

    def _handle(self, fin, opcode, payload):
        if opcode == OP_PING:
            self._send_frame(OP_PONG, payload)
        elif opcode == OP_PONG:
            pong = self._pongs.pop(payload, None)
            if pong is not None:
                pong.received = True
        elif opcode == OP_CLOSE:
            self.close_code = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 1005
            reason = payload[2:].decode('utf-8', 'replace')
            if not self.closed:
                try:
                    self._send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
            self.closed = True
            raise WebSocketError(CLOSED, 'the server closed the connection: code %s%s' % (
                self.close_code, ' (%s)' % reason if reason else ''))
        elif opcode in (OP_TEXT, OP_BINARY):
            if self._fragments is not None:
                raise WebSocketError('protocol', 'a new message began inside a fragmented one')
            self._fragments = (opcode, [payload])
        elif opcode == OP_CONTINUATION:
            if self._fragments is None:
                raise WebSocketError('protocol', 'a continuation frame without a message to continue')
            self._fragments[1].append(payload)
        else:
            raise WebSocketError('protocol', 'a frame with the unknown opcode %d' % opcode)
        if opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION) and fin:
            kind, parts = self._fragments
            self._fragments = None
            data = b''.join(parts)
            if len(data) > self.max_size:
                raise WebSocketError('too_big', 'a message of %d bytes, more than the %d allowed' % (len(data), self.max_size))
            try:
                self._messages.append(data.decode('utf-8') if kind == OP_TEXT else data)
            except UnicodeDecodeError:
                raise WebSocketError('protocol', 'a text message that is not UTF-8') from None

    def pump(self, done, deadline):
        """Read and handle frames until done() holds; TimeoutError at deadline."""
        while not done():
            frame = decode_frame(self._buffer, self.max_size)
            if frame is None:
                if self.closed:
                    raise WebSocketError(CLOSED, 'the connection is closed (code %s)' % self.close_code)
                self._read_some(deadline)
                continue
            fin, opcode, payload, used = frame
            self._buffer = self._buffer[used:]
            self._handle(fin, opcode, payload)

    def recv(self, timeout):
        """The next message (str for text, bytes for binary); TimeoutError when none comes within timeout."""
        self.pump(lambda: self._messages, time.monotonic() + timeout)
        return self._messages.pop(0)

    def close(self):
        """Say goodbye (code 1000), wait briefly for the server's close frame, and close the socket."""
        try:
            if not self.closed:
                self._send_frame(OP_CLOSE, struct.pack('!H', 1000))
                self.closed = True
                deadline = time.monotonic() + CLOSE_TIMEOUT
                while True:
                    frame = decode_frame(self._buffer, self.max_size)
                    if frame is None:
                        self._read_some(deadline)
                        continue
                    self._buffer = self._buffer[frame[3]:]
                    if frame[1] == OP_CLOSE:
                        break
        except (OSError, WebSocketError, TimeoutError):
            pass
        finally:
            try:
                self.socket.close()
            except OSError:
                pass


def _read_head(sock, deadline):
    """The HTTP answer's head (up to the empty line) and whatever bytes came after it."""
    data = b''
    while b'\r\n\r\n' not in data:
        if len(data) > MAX_HEADER_BYTES:
            raise WebSocketError('handshake', 'the answer to the upgrade has no end of headers within %d bytes'
                                 % MAX_HEADER_BYTES)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError('timed out')
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise TimeoutError('timed out') from None
        if not chunk:
            raise WebSocketError(CLOSED, 'the server closed the connection during the upgrade')
        data += chunk
    head, _sep, rest = data.partition(b'\r\n\r\n')
    return head, rest


def open_websocket(address, port, server_name, context, path, timeout, max_size=2 ** 20):
    """A WebSocket over TLS to address:port (no DNS: server_name is only the TLS name and the Host header).

    The TCP connect gets timeout seconds, the TLS handshake and the upgrade timeout seconds more together.
    Returns the open WebSocket; raises OSError, ssl.SSLError, TimeoutError or WebSocketError."""
    sock, _elapsed = tcp_connect(address, port, timeout)
    try:
        deadline = time.monotonic() + timeout
        sock.settimeout(timeout)
        tls = context.wrap_socket(sock, server_hostname=server_name)
        key = base64.b64encode(os.urandom(16)).decode('ascii')
        tls.sendall(upgrade_request(server_name, port, path, key))
        head, rest = _read_head(tls, deadline)
        check_upgrade_response(head, key)
        return WebSocket(tls, max_size, rest)
    except BaseException:
        sock.close()
        raise


def websocket_error(exc):
    """(kind, text) for a failed WebSocket: tls_untrusted, tls, status, handshake, timeout, refused, closed, ..."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return 'tls_untrusted', 'certificate verify failed: %s' % (exc.verify_message or exc.reason)
    if isinstance(exc, ssl.SSLError):
        return 'tls', exc.reason or str(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT, 'no answer in time'
    if isinstance(exc, WebSocketError):
        return exc.kind, exc.text
    if isinstance(exc, OSError):
        return classify_os_error(exc), error_text(exc)
    return ERROR, '%s: %s' % (type(exc).__name__, exc)


def close_quietly(connection):
    try:
        connection.close()
    except Exception:  # pylint: disable=broad-except
        pass


# -- measurements over an open WebSocket ----------------------------------------------------------------------------
# link_quality_check's measurements. A failure once a measurement has begun (the connection dropped halfway, a
# transfer cut short) is MeasurementBroken: the path failed, which a report must call a failure with a hint, never
# "not measured".

# What a real COM offers for a throughput test: nothing. The lab's COM (tests/lab) answers a request of its own.
LAB_ONLY_THROUGHPUT = 'a real COM offers no throughput test; measured only against the lab (lab_throughput_protocol)'


class MeasurementBroken(Exception):
    """A measurement that had begun and broke off. what: which one; text: why; partial: what was measured before."""

    def __init__(self, what, text, kind=ERROR, partial=None):
        super(MeasurementBroken, self).__init__('%s broke off: %s' % (what, text))
        self.what = what
        self.text = text
        self.kind = kind
        self.partial = partial or []


def _broken(what, exc, partial=None):
    kind, text = websocket_error(exc)
    return MeasurementBroken(what, text, kind, partial)


def time_pings(connection, samples, timeout):
    """WebSocket ping round trips in ms (RFC 6455 ping and pong, which every WebSocket server answers, a real COM's
    too). A pong that does not come within timeout ends the series (fewer samples); a connection that drops raises
    MeasurementBroken with the round trips timed before."""
    found = []
    for _index in range(samples):
        started = time.monotonic()
        try:
            answered = connection.ping().wait(timeout)
        except (OSError, WebSocketError) as exc:
            raise _broken('the round trip (WebSocket ping %d of %d)' % (len(found) + 1, samples), exc, found) from None
        if not answered:
            break
        found.append(ms(time.monotonic() - started))
    return found


def _recv_message(connection, deadline):
    """The next text message as a dict, or None when none comes before deadline or it is not the protocol's."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        data = connection.recv(timeout=remaining)
    except TimeoutError:
        return None
    if isinstance(data, bytes):
        return {'type': '(binary)'}
    try:
        message = json.loads(data)
    except ValueError:
        return {'type': '(not JSON)'}
    return message if isinstance(message, dict) else {'type': '(not an object)'}


def lab_speedtest(connection, size, customer_id, system_name, timeout, wait, round_trip_ms=None):
    """Throughput by the LAB COM's own protocol (tests/lab/ipo_lab/comproto.py), which no real COM speaks: hello
    (naming the customer and the system whose client identity the connection presents, as the lab COM accepts a
    hello only for that system and its customer), welcome, then speedtest with a byte count, answered by one binary
    frame of that many bytes.

    Returns (facts, None) when measured, facts['upper_bound'] true when the bytes did not all arrive within wait
    seconds; (None, reason) when the peer does not offer the test (no welcome, an error answer, no data at all);
    raises MeasurementBroken when the connection dropped or the transfer was cut short once the test had begun.
    """
    what = 'the throughput measurement'
    hello = json.dumps({'type': 'hello', 'customer_id': customer_id, 'time': time.time(),
                        'system': {'name': system_name, 'type': 'probe'}})
    try:
        connection.send(hello)
        answer = _recv_message(connection, time.monotonic() + timeout)
    except (OSError, WebSocketError) as exc:
        raise _broken(what, exc) from None
    if answer is None:
        return None, 'the server did not answer the hello within %g s' % timeout
    if answer.get('type') != 'welcome':
        return None, 'the server did not welcome the hello (%s)' % (answer.get('text') or answer.get('reason') or answer.get('type'))
    try:
        connection.send(json.dumps({'type': 'speedtest', 'bytes': size}))
        started = time.monotonic()
        # A ping right behind the request: its pong comes after the data from a server that answers in order, so a
        # pong without data means the server ignored the request, not that the path is slow.
        pong = connection.ping()
        deadline = started + wait
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError()
                data = connection.recv(timeout=remaining)
            except TimeoutError:
                elapsed = time.monotonic() - started
                if pong.is_set():
                    return None, 'the server answered a ping but sent no data for the speedtest request'
                bound, _transfer = throughput(size, elapsed)
                return {'bytes': size, 'received': False, 'elapsed_seconds': round(elapsed, 3), 'round_trip_subtracted_ms': 0.0,
                        'raw_kbps': bound, 'kbps': bound, 'upper_bound': True}, None
            if isinstance(data, bytes):
                break
            try:
                message = json.loads(data)
            except ValueError:
                message = {}
            if isinstance(message, dict) and message.get('type') == 'error':
                return None, 'the server does not answer the speedtest request: %s' % message.get('text')
    except (OSError, WebSocketError) as exc:
        raise _broken(what, exc) from None
    elapsed = time.monotonic() - started
    if len(data) != size:
        raise MeasurementBroken(what, 'the server sent %d of the %d bytes asked for' % (len(data), size))
    kbps, transfer = throughput(size, elapsed, (round_trip_ms or 0.0) / 1000.0)
    raw, _transfer = throughput(size, elapsed)
    return {'bytes': size, 'received': True, 'elapsed_seconds': round(elapsed, 3), 'round_trip_subtracted_ms': ms(elapsed - transfer),
            'raw_kbps': raw, 'kbps': kbps, 'upper_bound': False}, None


def measure_link(connection, samples, timeout, speedtest=None):
    """link_quality_check's measurements over an open WebSocket: samples round trips by ping (time_pings), then, with
    speedtest = (bytes, customer_id, system_name, wait), the lab's throughput test (lab_speedtest), the median round trip
    taken off.

    Returns (round trips in ms, throughput facts or None, why throughput was not measured or None, MeasurementBroken
    or None). A measurement that broke off ends the rest; the round trips timed before it are kept. The caller opens
    and closes the connection."""
    pings = []
    try:
        pings = time_pings(connection, samples, timeout)
        if speedtest is None:
            return pings, None, None, None
        size, customer_id, system_name, wait = speedtest
        facts, reason = lab_speedtest(connection, size, customer_id, system_name, timeout, wait, median(pings))
        return pings, facts, reason, None
    except MeasurementBroken as exc:
        return exc.partial or pings, None, None, exc
