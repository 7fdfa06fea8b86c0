"""The world around the emulated systems: DNS, time, COM, the shaping proxy and link timing.

Parsed from the ``world:`` section of the topology file (format in README.md).
Like the rest of the topology it is data only; the services that act on it are
``dns_server``, ``sntp_server``, ``com``, ``shaper`` and ``link``. Every
address must be on 127.0.0.0/8.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress

from .topology import TopologyError, _loopback

PORT_MODES = ('accept', 'refuse', 'drop', 'silent')
CERT_MODES = ('lab', 'rogue')
DNS_MODES = ('answer', 'silent', 'refuse')
SNTP_MODES = ('serve', 'silent')


@dataclasses.dataclass
class DnsServerSpec:
    address: str
    records: dict            # lower-case name -> list of IPv4 addresses ([] = the name exists without an address)
    mode: str = 'answer'


@dataclasses.dataclass
class DnsSpec:
    port: int
    servers: list


@dataclasses.dataclass
class SntpSpec:
    address: str
    port: int
    skew_seconds: float = 0.0
    mode: str = 'serve'


@dataclasses.dataclass
class SubscriptionSpec:
    key: str                 # LicenseKey, e.g. "Subscription Power User"
    display_name: str
    license_type: int        # the guide's PLDS Type number
    quantity: int
    expires: datetime.date


@dataclasses.dataclass
class CustomerSpec:
    customer_id: str
    subscriptions: list
    systems: list = dataclasses.field(default_factory=list)   # names of the systems registered to this customer


@dataclasses.dataclass
class ComSpec:
    address: str
    ports: list              # the two ports that stand for 443 and 8443, in the order the IP Office tries them
    names: list              # DNS names on the COM server certificate
    customers: dict          # customer_id -> CustomerSpec
    max_clock_skew: float

    def registrations(self):
        """system name -> the customer it is registered to (each system belongs to at most one; topology.parse checks)."""
        return dict((system, customer.customer_id) for customer in self.customers.values() for system in customer.systems)


@dataclasses.dataclass
class ShaperSpec:
    address: str             # the proxy listens here on each COM port ...
    target: str              # ... and forwards to the same port on this address
    ports: list
    latency_ms: float = 0.0  # added round trip (half each way)
    rate_kbps: float = 0.0   # 0: unlimited


@dataclasses.dataclass
class LinkSpec:
    heartbeat_seconds: float
    retry_seconds: float
    connect_timeout: float
    grace_days: int


@dataclasses.dataclass
class WorldSpec:
    dns: DnsSpec
    sntp: SntpSpec
    com: ComSpec
    shaper: ShaperSpec
    link: LinkSpec


def _port(value, where):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise TopologyError('%s: %r is not a port number' % (where, value))
    if not 1 <= port <= 65535:
        raise TopologyError('%s: %d is not between 1 and 65535' % (where, port))
    return port


def _positive(value, where):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TopologyError('%s: %r is not a number' % (where, value))
    if number <= 0:
        raise TopologyError('%s: must be greater than 0' % where)
    return number


def _choice(value, choices, where):
    if value not in choices:
        raise TopologyError('%s: %r is not one of %s' % (where, value, ', '.join(choices)))
    return value


def check_name(name, where):
    text = str(name).strip().rstrip('.').lower()
    if not text or any(not label or len(label) > 63 for label in text.split('.')):
        raise TopologyError('%s: %r is not a DNS name' % (where, name))
    return text


def check_addresses(value, where):
    """A record's addresses: a list of IPv4 addresses on loopback ([] allowed)."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [_loopback(item, where) for item in value]


def check_records(value, where):
    if not isinstance(value, dict):
        raise TopologyError('%s: expected a mapping name: [addresses]' % where)
    return dict((check_name(name, where), check_addresses(addresses, '%s.%s' % (where, name))) for name, addresses in value.items())


def expiry_date(item, today, where):
    """expires: YYYY-MM-DD, or expires_in_days: N (relative to today)."""
    if 'expires' in item:
        try:
            return datetime.date.fromisoformat(str(item['expires']))
        except ValueError:
            raise TopologyError('%s.expires: %r is not YYYY-MM-DD' % (where, item['expires']))
    try:
        return today + datetime.timedelta(days=int(item.get('expires_in_days', 365)))
    except (TypeError, ValueError):
        raise TopologyError('%s.expires_in_days: %r is not a whole number' % (where, item.get('expires_in_days')))


def check_subscription(item, today, where):
    if not isinstance(item, dict) or 'key' not in item:
        raise TopologyError('%s: expected a mapping with at least "key"' % where)
    try:
        return SubscriptionSpec(
            key=str(item['key']),
            display_name=str(item.get('display_name', str(item['key']).replace('Subscription ', ''))),
            license_type=int(item.get('type', 0)),
            quantity=int(item.get('quantity', 1)),
            expires=expiry_date(item, today, where),
        )
    except (TypeError, ValueError):
        raise TopologyError('%s: type and quantity must be whole numbers' % where)


def _customers(value, today, where):
    if not isinstance(value, dict):
        raise TopologyError('%s: expected a mapping customer-id: {subscriptions: [...], systems: [...]}' % where)
    customers = {}
    for customer_id, item in value.items():
        here = '%s.%s' % (where, customer_id)
        if item is not None and not isinstance(item, dict):
            raise TopologyError('%s: expected a mapping {subscriptions: [...], systems: [...]}' % here)
        unknown = sorted(set(item or {}) - {'subscriptions', 'systems'})
        if unknown:
            raise TopologyError('%s: unknown key %s (a customer has subscriptions and systems)' % (here, ', '.join(map(repr, unknown))))
        items = (item or {}).get('subscriptions', [])
        if not isinstance(items, list):
            raise TopologyError('%s.subscriptions: expected a list' % here)
        systems = (item or {}).get('systems') or []
        if not isinstance(systems, list) or not all(isinstance(name, str) and name for name in systems):
            raise TopologyError('%s.systems: expected a list of system names (the systems registered to this customer)' % here)
        customers[str(customer_id)] = CustomerSpec(str(customer_id), [check_subscription(entry, today, '%s.subscriptions[%d]' % (here, index))
                                                                      for index, entry in enumerate(items)], list(systems))
    return customers


def parse(data, today=None):
    """Build a WorldSpec from the ``world:`` mapping (None: all defaults)."""
    data = data or {}
    today = today or datetime.date.today()
    if not isinstance(data, dict):
        raise TopologyError('world: expected a mapping')
    dns = data.get('dns') or {}
    servers = []
    for index, item in enumerate(dns.get('servers') or []):
        here = 'world.dns.servers[%d]' % index
        if not isinstance(item, dict) or 'address' not in item:
            raise TopologyError('%s: expected a mapping with "address"' % here)
        servers.append(DnsServerSpec(_loopback(item['address'], here + '.address'), check_records(item.get('records') or {}, here + '.records'),
                                     _choice(item.get('mode', 'answer'), DNS_MODES, here + '.mode')))
    addresses = [server.address for server in servers]
    if len(set(addresses)) != len(addresses):
        raise TopologyError('world.dns.servers: an address appears twice')
    sntp = data.get('sntp') or {}
    com = data.get('com') or {}
    ports = [_port(port, 'world.com.ports') for port in com.get('ports', [443, 8443])]
    if len(ports) != 2 or ports[0] == ports[1]:
        raise TopologyError('world.com.ports: expected two different ports (they stand for 443 and 8443)')
    names = [check_name(name, 'world.com.names') for name in com.get('names', [])]
    shaper = data.get('shaper') or {}
    link = data.get('link') or {}
    com_address = _loopback(com.get('address', '127.0.44.1'), 'world.com.address')
    grace = int(link.get('grace_days', 30))
    if grace < 1:
        raise TopologyError('world.link.grace_days: must be at least 1')
    return WorldSpec(
        dns=DnsSpec(port=_port(dns.get('port', 53), 'world.dns.port'), servers=servers),
        sntp=SntpSpec(address=_loopback(sntp.get('address', '127.0.123.123'), 'world.sntp.address'),
                      port=_port(sntp.get('port', 123), 'world.sntp.port'),
                      skew_seconds=float(sntp.get('skew_seconds', 0)),
                      mode=_choice(sntp.get('mode', 'serve'), SNTP_MODES, 'world.sntp.mode')),
        com=ComSpec(address=com_address, ports=ports, names=names,
                    customers=_customers(com.get('customers') or {}, today, 'world.com.customers'),
                    max_clock_skew=_positive(com.get('max_clock_skew', 300), 'world.com.max_clock_skew')),
        shaper=ShaperSpec(address=_loopback(shaper.get('address', '127.0.45.1'), 'world.shaper.address'),
                          target=_loopback(shaper.get('target', com_address), 'world.shaper.target'),
                          ports=list(ports),
                          latency_ms=float(shaper.get('latency_ms', 0)), rate_kbps=float(shaper.get('rate_kbps', 0))),
        link=LinkSpec(heartbeat_seconds=_positive(link.get('heartbeat_seconds', 3), 'world.link.heartbeat_seconds'),
                      retry_seconds=_positive(link.get('retry_seconds', 1), 'world.link.retry_seconds'),
                      connect_timeout=_positive(link.get('connect_timeout', 3), 'world.link.connect_timeout'),
                      grace_days=grace),
    )


def is_loopback(address):
    """True for an IPv4 address on 127.0.0.0/8: the only place the lab ever sends traffic."""
    try:
        return ipaddress.IPv4Address(str(address)).is_loopback
    except ValueError:
        return False
