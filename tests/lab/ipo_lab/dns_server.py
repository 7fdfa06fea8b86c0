"""The lab's DNS servers: authoritative-style answers for the names the topology lists, on UDP and TCP.

One server per ``world.dns.servers`` address, all on the same port. Each knows
only its own records, so a test can give two servers different answers, make
one silent (queries are received and never answered, as a dead server looks
to a resolver) or make it refuse. Rules, for a query of class IN:

- a name with addresses: its A records (TTL 60), AA set;
- a name listed with [] , or any type other than A for a known name: NOERROR
  without an answer (NODATA);
- an unknown name: NXDOMAIN;
- a packet dnspython cannot parse: FORMERR when at least the 2-byte id can be
  read, else nothing; responses (QR set) are dropped so two servers never loop.

Names are compared in lower case without the final dot. Every query received
is logged (``queries()``), also in silent mode (rcode null), with the client's
source address, so tests can tell which system asked which server.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import logging
import struct

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from . import world
from .topology import TopologyError

LOG = logging.getLogger('ipo_lab.dns')

TTL = 60
LOG_SIZE = 10000
UDP_DEFAULT_PAYLOAD = 512


class _Server:
    """The runtime state of one server address: what it answers and how."""

    def __init__(self, spec):
        self.address = spec.address
        self.records = copy.deepcopy(spec.records)
        self.mode = spec.mode


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, service, address):
        self.service = service
        self.address = address
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        reply = self.service.handle(data, self.address, addr[0], 'udp')
        if reply is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc):
        # An ICMP "port unreachable" from a client that went away: nothing to do.
        LOG.debug('%s: UDP error %s', self.address, exc)


class LabDNS:
    def __init__(self, spec, clock):
        self.spec = spec
        self.clock = clock
        self.servers = {}
        self.log = collections.deque(maxlen=LOG_SIZE)
        self.seq = 0
        self.transports = []
        self.tcp_servers = []
        self.connections = set()
        self.reset()

    # -- life cycle ---------------------------------------------------------

    async def start(self):
        loop = asyncio.get_running_loop()
        try:
            for address in self.servers:
                transport, _protocol = await loop.create_datagram_endpoint(lambda address=address: _Udp(self, address),
                                                                           local_addr=(address, self.spec.port))
                self.transports.append(transport)
                server = await asyncio.start_server(lambda reader, writer, address=address: self._tcp(reader, writer, address),
                                                    address, self.spec.port, reuse_address=True, backlog=1024)
                self.tcp_servers.append(server)
        except OSError:
            await self.stop()
            raise

    async def stop(self):
        for transport in self.transports:
            transport.close()
        for server in self.tcp_servers:
            server.close()
        for writer in list(self.connections):
            writer.close()
        for server in self.tcp_servers:
            await server.wait_closed()
        self.transports = []
        self.tcp_servers = []

    def reset(self):
        """Records and modes back to the topology, query log cleared (seq keeps counting, so since=N stays valid)."""
        self.servers = dict((spec.address, _Server(spec)) for spec in self.spec.servers)
        self.log.clear()

    # -- control ------------------------------------------------------------

    def _server(self, address):
        if address not in self.servers:
            raise KeyError('no lab DNS server on %s' % address)
        return self.servers[address]

    def describe(self):
        return {
            'port': self.spec.port,
            'servers': dict((server.address, {'mode': server.mode, 'records': copy.deepcopy(server.records)})
                            for server in self.servers.values()),
            'last_seq': self.seq,
        }

    def set_records(self, server_address, changes):
        """Apply {name: [addresses] | None} to one server (None removes the name); all or nothing."""
        server = self._server(server_address)
        if not isinstance(changes, dict):
            raise ValueError('records: expected a mapping name: [addresses] or null, got %r' % (changes,))
        checked = {}
        for name, addresses in changes.items():
            try:
                key = world.check_name(name, 'records')
            except TopologyError as exc:
                raise ValueError(str(exc))
            if addresses is None:
                checked[key] = None
                continue
            if not isinstance(addresses, list):
                raise ValueError('records.%s: expected a list of IPv4 addresses or null, got %r' % (key, addresses))
            for address in addresses:
                if not world.is_loopback(address):
                    raise ValueError('records.%s: %r is not an IPv4 address on loopback (127.0.0.0/8); the lab answers nothing else'
                                     % (key, address))
            checked[key] = [str(address) for address in addresses]
        for key, addresses in checked.items():
            if addresses is None:
                server.records.pop(key, None)
            else:
                server.records[key] = addresses
        return {'address': server.address, 'mode': server.mode, 'records': copy.deepcopy(server.records)}

    def set_mode(self, server_address, mode):
        server = self._server(server_address)
        if mode not in world.DNS_MODES:
            raise ValueError('mode: %r is not one of %s' % (mode, ', '.join(world.DNS_MODES)))
        server.mode = mode
        return {'address': server.address, 'mode': server.mode}

    def queries(self, since=0):
        return [entry for entry in self.log if entry['seq'] > since]

    # -- protocol -----------------------------------------------------------

    async def _tcp(self, reader, writer, address):
        """DNS over TCP: 2-byte length, message; several queries on one connection until the client closes."""
        client = (writer.get_extra_info('peername') or ('?',))[0]
        self.connections.add(writer)
        try:
            while True:
                size = struct.unpack('!H', await reader.readexactly(2))[0]
                wire = await reader.readexactly(size)
                reply = self.handle(wire, address, client, 'tcp')
                if reply is not None:
                    writer.write(struct.pack('!H', len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()

    def _record(self, server, client, transport, name, qtype, rcode, answers, truncated=False):
        self.seq += 1
        self.log.append({'seq': self.seq, 'time': self.clock.now(), 'server': server, 'client': client, 'transport': transport,
                         'name': name, 'qtype': qtype, 'rcode': rcode, 'answers': answers, 'truncated': truncated})

    def handle(self, wire, address, client, transport):
        """One query's wire bytes -> the reply's wire bytes, or None to stay silent."""
        server = self.servers.get(address)
        if server is None:  # removed by a reset to a spec without it; behave as if nothing listened
            return None
        try:
            query = dns.message.from_wire(wire)
        except (dns.exception.DNSException, ValueError):
            return self._malformed(wire, server, client, transport)
        if query.flags & dns.flags.QR:
            return None
        name = qtype = None
        if len(query.question) == 1:
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            qtype = dns.rdatatype.to_text(question.rdtype)
        if server.mode == 'silent':
            self._record(address, client, transport, name, qtype, None, [])
            return None
        response = dns.message.make_response(query)
        answers = []
        if server.mode == 'refuse':
            response.set_rcode(dns.rcode.REFUSED)
        elif query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        elif query.question[0].rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
        elif name not in server.records:
            response.flags |= dns.flags.AA
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            response.flags |= dns.flags.AA
            addresses = server.records[name]
            if query.question[0].rdtype == dns.rdatatype.A and addresses:
                response.answer.append(dns.rrset.from_text(query.question[0].name, TTL, 'IN', 'A', *addresses))
                answers = list(addresses)
        if transport == 'udp':
            limit = max(UDP_DEFAULT_PAYLOAD, query.payload) if query.edns >= 0 else UDP_DEFAULT_PAYLOAD
            wire = response.to_wire(max_size=limit, prefer_truncation=True)
        else:
            wire = response.to_wire(max_size=65535)
        truncated = bool(wire[2] & 0x02)  # TC: the answer did not fit the UDP payload; the client should retry over TCP
        self._record(address, client, transport, name, qtype, dns.rcode.to_text(response.rcode()), [] if truncated else answers, truncated)
        return wire

    def _malformed(self, wire, server, client, transport):
        if len(wire) < 2:
            self._record(server.address, client, transport, None, None, None, [])
            return None
        if len(wire) >= 3 and wire[2] & 0x80:  # QR set: a response, never answer it
            return None
        if server.mode == 'silent':
            self._record(server.address, client, transport, None, None, None, [])
            return None
        reply = dns.message.Message(id=struct.unpack('!H', wire[:2])[0])
        reply.flags = dns.flags.QR
        reply.set_rcode(dns.rcode.REFUSED if server.mode == 'refuse' else dns.rcode.FORMERR)
        self._record(server.address, client, transport, None, None, dns.rcode.to_text(reply.rcode()), [])
        return reply.to_wire()


def control_routes(service):
    """(method, path, handler) for the control API: /lab/dns..."""
    # Imported here so control.py can import this module without an import cycle.
    from .control import BadRequest, NotFound, answer, body, since_param

    async def describe(request):
        return answer(service.describe())

    async def records(request):
        address = request.match_info['address']
        data = await body(request)
        try:
            result = service.set_records(address, data)
        except KeyError:
            raise NotFound('DNS server %s' % address)
        except ValueError as exc:
            raise BadRequest(str(exc))
        return answer(dict(result, ok=True))

    async def mode(request):
        address = request.match_info['address']
        data = await body(request)
        if 'mode' not in data:
            raise BadRequest('mode is required (one of %s)' % ', '.join(world.DNS_MODES))
        unknown = set(data) - {'mode'}
        if unknown:
            raise BadRequest('unknown keys: %s (only mode)' % ', '.join(sorted(unknown)))
        try:
            result = service.set_mode(address, data['mode'])
        except KeyError:
            raise NotFound('DNS server %s' % address)
        except ValueError as exc:
            raise BadRequest(str(exc))
        return answer(dict(result, ok=True))

    async def queries(request):
        return answer(service.queries(since_param(request)))

    return [
        ('GET', '/lab/dns', describe),
        ('GET', '/lab/dns/queries', queries),
        ('POST', '/lab/dns/{address}/records', records),
        ('POST', '/lab/dns/{address}/mode', mode),
    ]
