# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""DNS the way the IP Office resolves: one A query to one named server, no
retries, TCP only when the UDP answer is truncated (ask); and the one resolver
policy of every check (lookup): the primary server first, then the backup when
the primary settled nothing. Used by dns_check and by time_check (a time server
given by name), so both ask the system's own DNS servers the same way and never
the local resolver.

Why no library: the checks run on probe hosts that have Python 3 and nothing
else (docs/validate.md), and one A query needs only the message format of
RFC 1035 section 4: a 12-byte header, the question, and the answer records,
whose names may point back into the message (compression). That is the pure
part below, unit-tested; the socket part is proven against the lab's DNS
servers by the system tests.
"""

from __future__ import annotations

import os
import socket
import struct
import time

TYPE_A = 1
CLASS_IN = 1
FLAG_QR = 0x8000        # the message is a response
FLAG_TC = 0x0200        # truncated: ask again over TCP
FLAG_RD = 0x0100        # recursion desired, as every stub resolver sets it
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN',
          7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE'}
MAX_POINTERS = 64       # more compression jumps than any honest message needs: a loop


class DNSFormatError(ValueError):
    """A message that does not follow RFC 1035."""


def encode_name(name):
    """A domain name in wire form: length-prefixed labels, then the root's zero byte."""
    labels = [label for label in name.rstrip('.').split('.') if label] if name not in ('', '.') else []
    wire = b''
    for label in labels:
        raw = label.encode('idna') if not label.isascii() else label.encode('ascii')
        if len(raw) > 63:
            raise DNSFormatError('the label %r is longer than 63 bytes' % label)
        wire += struct.pack('!B', len(raw)) + raw
    if len(wire) + 1 > 255:
        raise DNSFormatError('the name %r is longer than 255 bytes' % name)
    return wire + b'\0'


def build_query(name, query_id):
    """An A query for name with the given 16-bit id, recursion desired."""
    header = struct.pack('!HHHHHH', query_id, FLAG_RD, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack('!HH', TYPE_A, CLASS_IN)


def read_name(message, offset):
    """(name as lower-case text without the final dot, offset after the name) of the name at offset."""
    labels = []
    end = None
    jumps = 0
    while True:
        if offset >= len(message):
            raise DNSFormatError('a name runs past the end of the message')
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise DNSFormatError('a compression pointer runs past the end of the message')
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > MAX_POINTERS:
                raise DNSFormatError('compression pointers loop')
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length & 0xC0:
            raise DNSFormatError('a label type %#x that RFC 1035 does not define' % (length & 0xC0))
        offset += 1
        if length == 0:
            break
        if offset + length > len(message):
            raise DNSFormatError('a label runs past the end of the message')
        labels.append(message[offset:offset + length].decode('ascii', 'replace').lower())
        offset += length
    return '.'.join(labels), (end if end is not None else offset)


def parse_response(message, query_id, name):
    """What an answer to our query says: {'rcode', 'addresses' (sorted, unique), 'truncated'}.

    Returns None for a message that is not the answer to this query (another id, not a response, another
    question): a stray packet, to be ignored. Raises DNSFormatError for the answer that cannot be read."""
    if len(message) < 12:
        return None
    answer_id, flags, questions, answers, _authority, _additional = struct.unpack('!HHHHHH', message[:12])
    if answer_id != query_id or not flags & FLAG_QR:
        return None
    offset = 12
    for _index in range(questions):
        asked, offset = read_name(message, offset)
        if offset + 4 > len(message):
            raise DNSFormatError('the question runs past the end of the message')
        qtype, qclass = struct.unpack('!HH', message[offset:offset + 4])
        offset += 4
        if (asked, qtype, qclass) != (name.rstrip('.').lower(), TYPE_A, CLASS_IN):
            return None
    truncated = bool(flags & FLAG_TC)
    addresses = set()
    for _index in range(answers):
        try:
            _owner, offset = read_name(message, offset)
        except DNSFormatError:
            if truncated:
                break
            raise
        if offset + 10 > len(message):
            if truncated:
                break
            raise DNSFormatError('an answer record runs past the end of the message')
        rtype, rclass, _ttl, length = struct.unpack('!HHIH', message[offset:offset + 10])
        offset += 10
        if offset + length > len(message):
            if truncated:
                break
            raise DNSFormatError('an answer record runs past the end of the message')
        # Every A record of the answer counts, the target of a CNAME included, as a resolver would give it.
        if rtype == TYPE_A and rclass == CLASS_IN and length == 4:
            addresses.add(socket.inet_ntoa(message[offset:offset + 4]))
        offset += length
    rcode = flags & 0x000F
    return {'rcode': RCODES.get(rcode, 'RCODE%d' % rcode), 'addresses': sorted(addresses), 'truncated': truncated}


def _new_id():
    return struct.unpack('!H', os.urandom(2))[0]


def _udp(query, server, port, name, query_id, deadline):
    """The answer over UDP. Packets from another address or that answer another query are skipped, as a
    resolver does; an ICMP refusal is not seen (the socket is not connected), so a server that is down costs
    the whole timeout, as it does the IP Office."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(query, (server, port))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout('timed out')
            sock.settimeout(remaining)
            data, source = sock.recvfrom(65535)
            if source[0] != server or source[1] != port:
                continue
            answer = parse_response(data, query_id, name)
            if answer is not None:
                return answer
    finally:
        sock.close()


def _recv_exactly(sock, size, deadline):
    data = b''
    while len(data) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('timed out')
        sock.settimeout(remaining)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DNSFormatError('the server closed the TCP connection before the whole answer came')
        data += chunk
    return data


def _tcp(query, server, port, name, query_id, deadline):
    """The answer over TCP: each message is preceded by its length in two bytes (RFC 1035 section 4.2.2)."""
    sock = socket.create_connection((server, port), timeout=max(deadline - time.monotonic(), 0.05))
    try:
        sock.sendall(struct.pack('!H', len(query)) + query)
        size = struct.unpack('!H', _recv_exactly(sock, 2, deadline))[0]
        answer = parse_response(_recv_exactly(sock, size, deadline), query_id, name)
        if answer is None:
            raise DNSFormatError('the TCP answer is not an answer to the query')
        return answer
    finally:
        sock.close()


def ask(server, port, name, timeout):
    """One A query for name to one server, without retries. Always returns a dict:
    {'server', 'rcode' (text, None when nothing usable came back), 'addresses', 'error', 'elapsed_ms'}."""
    started = time.monotonic()
    deadline = started + timeout
    attempt = {'server': server, 'rcode': None, 'addresses': [], 'error': None, 'elapsed_ms': None}
    try:
        query_id = _new_id()
        query = build_query(name, query_id)
        answer = _udp(query, server, port, name, query_id, deadline)
        if answer['truncated']:
            # Truncated: the rest over TCP, inside the same time budget.
            deadline = max(deadline, time.monotonic() + 0.05)
            answer = _tcp(query, server, port, name, query_id, deadline)
    except (socket.timeout, TimeoutError):
        attempt['error'] = 'no answer within %g s' % timeout
    except DNSFormatError as exc:
        attempt['error'] = 'unusable answer: %s' % exc
    except OSError as exc:
        attempt['error'] = exc.strerror or str(exc)
    else:
        attempt['rcode'] = answer['rcode']
        attempt['addresses'] = answer['addresses']
    attempt['elapsed_ms'] = round((time.monotonic() - started) * 1000.0, 1)
    return attempt


# --- the resolver policy: primary, then backup -----------------------------------------------------------------------

# Answers that settle a name: the server knows (NOERROR, with or without addresses) or says it does not exist.
# Anything else (no answer, REFUSED, SERVFAIL...) sends the query on to the backup server, as the IP Office does.
FINAL_RCODES = ('NOERROR', 'NXDOMAIN')


def servers_in_order(server, backup_server=None):
    """The servers a system asks, in its order: the primary, then the backup when one is set and is another server.
    Unset ones (None or '') are left out, so a backup without a primary is asked alone."""
    servers = []
    for address in (server, backup_server):
        if address not in (None, '') and address not in servers:
            servers.append(address)
    return servers


def lookup(name, servers, port, timeout, asker=None):
    """Resolve name as the IP Office does: the first server, then the next when the first settled nothing.
    Each server gets one query (ask) with the whole timeout.

    Returns {'name', 'attempts' (every server asked, in order), 'answer' (the attempt that settled the name, or
    None), 'elapsed_ms' (from the first query to the last answer)}."""
    asker = asker or ask
    attempts = []
    answer = None
    for server in servers:
        attempt = asker(server, port, name, timeout)
        attempts.append(attempt)
        if attempt['rcode'] in FINAL_RCODES:
            answer = attempt
            break
    return {'name': name, 'attempts': attempts, 'answer': answer,
            'elapsed_ms': round(sum(attempt['elapsed_ms'] or 0 for attempt in attempts), 1)}


def attempt_text(attempt):
    """What one server did, for people: '192.0.2.53: no answer within 3 s' or '192.0.2.53 answered REFUSED'."""
    if attempt['error']:
        return '%s: %s' % (attempt['server'], attempt['error'])
    return '%s answered %s' % (attempt['server'], attempt['rcode'])
