# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input validation. Every check returns a message naming the option and the
value, or None when the value is good, so modules can fail before any request.

Addresses are parsed with the standard library's ipaddress module: the check
modules run on probe hosts that have Python 3 and nothing else installed."""

from __future__ import annotations

import ipaddress
import math
import os
import re

_HOST_LABEL = re.compile(r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)')

# The limits of the check modules' options, for the modules and for the roles that check their settings through the
# modules' validate_only option.
MAX_CHECK_TIMEOUT = 60      # seconds: one network operation of a check
MAX_PORT_ATTEMPTS = 10      # port_check: connection attempts per port


def is_ipv4_address(value):
    """A dotted-quad IPv4 address (no shorthand forms like '10.1')."""
    if not isinstance(value, str) or value.count('.') != 3:
        return False
    try:
        # Four decimal octets, no leading zeros, ASCII digits only: what inet_pton accepts.
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_ip_address(value):
    if is_ipv4_address(value):
        return True
    # A scope ("%eth0") names an interface of the host that parses it, never the IP Office's.
    if not isinstance(value, str) or ':' not in value or '%' in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def is_hostname(value):
    """An RFC 1123 host name (not an address, not a URL)."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    name = value[:-1] if value.endswith('.') else value
    labels = name.split('.')
    if all(label.isdigit() for label in labels):
        return False  # all-numeric: a malformed address, not a name
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def check_host(option, value):
    if value is None or str(value).strip() == '':
        return '%s is required: give the address or host name of the IP Office' % option
    if not isinstance(value, str):
        return '%s must be a host name or an IP address: got %r' % (option, value)
    if '://' in value or '/' in value:
        return '%s must be a host name or an IP address, not a URL: got %r' % (option, value)
    if is_ip_address(value) or is_hostname(value):
        return None
    return '%s must be a host name or an IP address: got %r' % (option, value)


def _is_int(value):
    # bool is an int to Python, but true is never a port or a count
    return isinstance(value, int) and not isinstance(value, bool)


def check_port(option, value):
    if not _is_int(value) or not 1 <= value <= 65535:
        return '%s must be a TCP port from 1 to 65535: got %r' % (option, value)
    return None


def check_positive(option, value, maximum=None):
    # math.isnan: NaN compares false with every bound, so it would pass the range test.
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if not number or value <= 0 or (maximum is not None and value > maximum):
        limit = ' and at most %s' % maximum if maximum is not None else ''
        return '%s must be more than 0%s: got %r' % (option, limit, value)
    return None


def check_timeout(option, value):
    """The timeout of a check module: seconds, more than 0 and at most MAX_CHECK_TIMEOUT."""
    return check_positive(option, value, maximum=MAX_CHECK_TIMEOUT)


def check_readable_file(option, value):
    if value is None:
        return None
    # A path, never a number: os.path.isfile(3) would look at file descriptor 3.
    if not isinstance(value, str) or not os.path.isfile(value):
        return '%s must name a readable file: %r does not exist or is not a file' % (option, value)
    if not os.access(value, os.R_OK):
        return '%s must name a readable file: %r cannot be read' % (option, value)
    return None


def check_ipv4(option, value):
    if is_ipv4_address(value):
        return None
    return '%s must be an IPv4 address in dotted-quad form: got %r' % (option, value)


# IPv4 addresses that parse but never name a server a system can reach (RFC 1122 3.2.1.3, RFC 5771, RFC 1112):
# sent to them, a query goes nowhere, to every host of a LAN, or (0.0.0.0 on most stacks) back to the sender.
_NOT_A_SERVER = (
    ('0.0.0.0/8', 'in 0.0.0.0/8 ("this host on this network", RFC 1122), which names no server'),
    ('255.255.255.255/32', 'the broadcast address, which names every host of the LAN, not a server'),
    ('224.0.0.0/4', 'a multicast address, not a server'),
    ('240.0.0.0/4', 'a reserved address (240.0.0.0/4), which no host uses'),
)


def unusable_server_address(value):
    """Why a dotted-quad IPv4 address cannot be a DNS or time server, or None."""
    if not is_ipv4_address(value):
        return None
    address = ipaddress.IPv4Address(value)
    for network, why in _NOT_A_SERVER:
        if address in ipaddress.IPv4Network(network):
            return why
    return None


def check_server_ipv4(option, value):
    """The IPv4 address of a server a system sends to (a DNS server): not 0.0.0.0, a broadcast or multicast address.

    Only for values a user gives: Web Manager shows 0.0.0.0 for "no DNS server" when the device is read."""
    return _usable_server(option, value, check_ipv4(option, value), 'the address of a server')


def _usable_server(option, value, problem, wanted):
    """problem (the form's), else why a well-formed address cannot be a server, else None."""
    if problem:
        return problem
    why = unusable_server_address(value)
    return '%s must be %s: %r is %s' % (option, wanted, value, why) if why else None


def netmask_to_dotted(value):
    """A contiguous IPv4 mask in dotted or prefix-length form -> dotted quad, or None if it is not one."""
    if isinstance(value, bool):
        return None
    text = str(value).strip().lstrip('/')
    # ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and other scripts' digits.
    if text.isascii() and text.isdigit() and 0 <= int(text) <= 32:
        return str(ipaddress.IPv4Network('0.0.0.0/%s' % text).netmask)
    if not is_ipv4_address(text):
        return None
    # Contiguous: the host bits are all ones, so adding one to them carries into no other bit.
    host_bits = ~int(ipaddress.IPv4Address(text)) & 0xFFFFFFFF
    if host_bits & (host_bits + 1):
        return None
    return text


def check_netmask(option, value):
    if netmask_to_dotted(value) is None:
        return '%s must be a contiguous IPv4 mask such as 255.255.255.0 or a prefix length such as 24: got %r' % (option, value)
    return None


def address_in_subnet(address, lan_address, lan_mask):
    """Whether address lies in the subnet of lan_address/lan_mask (all dotted quads)."""
    return ipaddress.IPv4Address(address) in ipaddress.IPv4Network('%s/%s' % (lan_address, lan_mask), strict=False)


def gateway_problem(gateway, lan_name, lan_address, lan_mask):
    """Why gateway cannot be the router of a route leaving by LAN lan_name (lan_address/lan_mask), or None.

    The router is another host on that LAN: inside its subnet, not the node's own address, and not the
    subnet's network or broadcast address (a /31 or /32 has neither, RFC 3021)."""
    mask = netmask_to_dotted(lan_mask)
    if not (is_ipv4_address(gateway) and is_ipv4_address(lan_address)) or mask is None:
        return 'cannot be checked against %s: %r/%r is not an IPv4 address and mask' % (lan_name, lan_address, lan_mask)
    lan = ipaddress.IPv4Network('%s/%s' % (lan_address, mask), strict=False)
    address = ipaddress.IPv4Address(gateway)
    where = '%s (%s/%s)' % (lan_name, lan_address, lan_mask)
    if address not in lan:
        return 'is not in the subnet of %s: the router must be on that LAN' % where
    if address == ipaddress.IPv4Address(lan_address):
        return 'is the node\'s own %s address: the router is another host on %s' % (lan_name, where)
    if lan.prefixlen <= 30 and address == lan.network_address:
        return 'is the network address of %s, not a host: give the router\'s address' % where
    if lan.prefixlen <= 30 and address == lan.broadcast_address:
        return 'is the broadcast address of %s, not a host: give the router\'s address' % where
    return None


def check_gateway(option, value, lan_name, lan_address, lan_mask):
    """A route's gateway against the node's LAN it leaves by (gateway_problem), naming the option and the value."""
    if not is_ipv4_address(value):
        return check_ipv4(option, value)
    problem = gateway_problem(value, lan_name, lan_address, lan_mask)
    return '%s %s %s' % (option, value, problem) if problem else None


def _looks_like_url(value):
    return '://' in value or '/' in value or '?' in value or '#' in value or '@' in value


def _has_space(value):
    return any(c.isspace() for c in value)


def _trailing_dot(option, value, example, what='a host name'):
    # The root label: a resolver takes "name." as "name", but TLS names (SNI, certificates) never carry it, so a
    # system given it for the subscription server fails the handshake; a setting is written without it.
    return '%s must be %s without a trailing dot, such as %s: got %r' % (option, what, example, value)


def check_host_or_ipv4(option, value):
    """A host name or a dotted-quad IPv4 address (a time server): never a URL, a path or a port."""
    if not isinstance(value, str) or value.strip() == '':
        return '%s must be a host name or an IPv4 address: got %r' % (option, value)
    if _looks_like_url(value):
        return '%s must be a host name or an IPv4 address, not a URL or a path: got %r' % (option, value)
    if ':' in value:
        return '%s must be a host name or an IPv4 address, without a port: got %r' % (option, value)
    if value.endswith('.') and is_hostname(value):
        return _trailing_dot(option, value, 'time.google.com')
    if not _has_space(value) and (is_ipv4_address(value) or is_hostname(value)):
        return None
    return '%s must be a host name or an IPv4 address: got %r' % (option, value)


def check_time_server(option, value):
    """A time server a system can ask: a host name, or the IPv4 address of a server (not 0.0.0.0 or a broadcast)."""
    return _usable_server(option, value, check_host_or_ipv4(option, value), 'a time server')


def check_dns_domain(option, value):
    """A DNS domain such as example.com, without the trailing dot of the root."""
    if not isinstance(value, str) or not is_hostname(value) or _has_space(value):
        return '%s must be a DNS domain such as example.com: got %r' % (option, value)
    if value.endswith('.'):
        return _trailing_dot(option, value, 'example.com', 'a DNS domain')
    return None


def check_server_name(option, value, example='admin.uk1.avaya-sub.com'):
    """A DNS host name only (a server reached through DNS): no URL, path, port or IP address."""
    if not isinstance(value, str) or value.strip() == '':
        return '%s must be a host name such as %s: got %r' % (option, example, value)
    if _looks_like_url(value):
        return '%s must be a host name such as %s, not a URL or a path: got %r' % (option, example, value)
    if is_ip_address(value) or is_ip_address(value.strip('[]')):
        return ('%s must be a host name such as %s, not an IP address (the system finds the server through DNS): '
                'got %r' % (option, example, value))
    if ':' in value:
        return '%s must be a host name such as %s, without a port: got %r' % (option, example, value)
    if _has_space(value) or not is_hostname(value) or '.' not in value.rstrip('.'):
        return '%s must be a host name such as %s: got %r' % (option, example, value)
    if value.endswith('.'):
        return _trailing_dot(option, value, example)
    return None


def normalise_license_server(value, example='admin.uk1.avaya-sub.com'):
    """The License Server setting in one form: (host, None) or (None, problem). The host keeps its case
    (names compare without it).

    Accepts a bare host name and the guide's URL form https://host (with or without a
    trailing /). The system finds the server through DNS, so an IP address is refused;
    so are plain http (the link is TLS), paths and ports (the link always tries 443,
    then 8443)."""
    if not isinstance(value, str) or value.strip() == '':
        return None, 'must be a host name such as %s (or https://%s): got %r' % (example, example, value)
    text = value.strip()
    if text.lower().startswith('https://'):
        text = text[len('https://'):]
        if text.endswith('/'):
            text = text[:-1]
    elif '://' in text:
        return None, 'must be a host name or an https:// URL (the link is TLS): got %r' % value
    problem = check_server_name('it', text, example)
    if problem:
        # The reason the host part fails, shown with the value as given.
        return None, '%s: got %r' % (problem[len('it '):problem.rindex(': got ')], value)
    return text, None


def check_license_server(option, value):
    """None, or a message naming the option, for a License Server address."""
    _normal, problem = normalise_license_server(value)
    return '%s %s' % (option, problem) if problem else None


def _tz_file(name):
    """The text of one file of the IANA database, where Python's zoneinfo looks (TZPATH, then the tzdata package)."""
    try:
        import zoneinfo
        folders = list(zoneinfo.TZPATH)
    except ImportError:
        folders = []
    for folder in folders:
        try:
            with open(os.path.join(folder, name), encoding='utf-8') as handle:
                return handle.read()
        except (OSError, ValueError):
            continue
    try:
        import importlib.resources
        return importlib.resources.files('tzdata').joinpath('zoneinfo', name).read_text(encoding='utf-8')
    except Exception:  # pylint: disable=broad-except
        return None  # no tzdata package (ImportError), or one without this file


_ZONES = {}


def _zone_tables():
    """(location zones, {old name: zone}) from the IANA database, read once; (set(), {}) without one."""
    if not _ZONES:
        zones = set()
        for table in ('zone1970.tab', 'zone.tab'):
            for line in (_tz_file(table) or '').splitlines():
                fields = line.split('\t')
                if not line.startswith('#') and len(fields) >= 3:
                    zones.add(fields[2])
        links = {}
        for line in (_tz_file('tzdata.zi') or '').splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[0] == 'L':
                links[fields[2]] = fields[1]
        _ZONES['zones'], _ZONES['links'] = zones, links
    return _ZONES['zones'], _ZONES['links']


# The universal zone besides the location zones: a system that keeps UTC is a real setup. The database's own
# spelling (Etc/UTC) and the name everyone writes (UTC, a link to it) are the only two accepted.
UNIVERSAL_ZONES = ('UTC', 'Etc/UTC')


def time_zone_names():
    """The time zone names a system can use: the location zones of the IANA database (zone1970.tab and zone.tab:
    one per inhabited region, such as Europe/London or Europe/Oslo) and UTC. Empty without a database.

    Not accepted, although zoneinfo loads them: old names kept only for compatibility (US/Eastern, GB,
    Europe/Kiev), the posix/ and right/ copies of the build tree (right/ counts leap seconds, so a clock set by it
    is 27 s off), the Etc/GMT+N zones (POSIX signs: Etc/GMT+1 is one hour BEHIND UTC, and none follows a site's
    daylight saving), and Factory, localtime, CET, EST5EDT and the other rule names that stand for no place."""
    zones, _links = _zone_tables()
    return (zones | set(UNIVERSAL_ZONES)) if zones else set()


def _time_zone_hint(value, names):
    """Why a name that zoneinfo may know is still not accepted, with the zone to give instead where there is one."""
    if not isinstance(value, str):
        return ''
    name = value
    for prefix in ('posix/', 'right/'):
        if name.startswith(prefix):
            name = name[len(prefix):]
    _zones, links = _zone_tables()
    seen = set()
    while name in links and name not in names and name not in seen:
        seen.add(name)
        name = links[name]  # an old name: follow it to the zone it stands for
    if name != value and name in names:
        return ' (%r is %s; give %s)' % (value, 'a copy in the build tree' if value.startswith(('posix/', 'right/'))
                                         else 'an old name the IANA database keeps for compatibility', name)
    if value.startswith('Etc/GMT') and value[len('Etc/GMT'):] not in ('', '0'):
        return (' (%r is a fixed offset with the sign reversed, POSIX style, and without daylight saving: give the '
                'zone of the site\'s place)' % value)
    return ''


def check_time_zone(option, value, names=None):
    """A location zone of the IANA database such as Europe/London (or UTC), exactly as the database spells it."""
    names = time_zone_names() if names is None else names
    if not names:
        return ('%s cannot be checked: this Python has no IANA time zone database (install the tzdata package): '
                'got %r' % (option, value))
    if isinstance(value, str) and value in names:
        return None
    return '%s must be an IANA time zone name such as Europe/London: got %r%s' % (option, value, _time_zone_hint(value, names))


def check_range(option, value, minimum, maximum, unit=''):
    if not _is_int(value) or not minimum <= value <= maximum:
        return '%s must be %s to %s%s: got %r' % (option, minimum, maximum, unit, value)
    return None


_CUSTOMER_ID = re.compile(r'[A-Za-z0-9][A-Za-z0-9-]{0,31}')


def check_customer_id(option, value):
    """This collection's model of a customer ID (not Avaya's rule): 1 to 32 letters, digits and hyphens,
    starting with a letter or a digit."""
    if isinstance(value, str) and _CUSTOMER_ID.fullmatch(value):
        return None
    if isinstance(value, (bool, int, float)):
        # YAML reads an unquoted 0012345 as the number 5349 (octal), 12_345 as 12345, yes as true: the ID as
        # written is lost, and a rewritten one names another customer at COM.
        return ('%s must be text: YAML read it as the %s %r, which may not be the ID as written in the order e-mail; '
                'put the customer ID in quotes' % (option, 'boolean' if isinstance(value, bool) else 'number', value))
    return ('%s must be 1 to 32 letters, digits and hyphens, starting with a letter or a digit: got %r'
            % (option, value))


def check_password(option, value, user=None):
    """A password to set: never shown, not empty, not white space alone (a user could never type it into a form
    that trims its input, and could no longer log in)."""
    if not isinstance(value, str):
        return '%s must be text' % option
    if value.strip() == '':
        return '%s must not be empty or white space alone: %s could no longer log in' % (
            option, 'service user %r' % user if user else 'the user')
    return None


def check_port_list(option, value, maximum_count=16):
    """A non-empty list of distinct TCP ports (order kept: it is the order they are tried in)."""
    if not isinstance(value, (list, tuple)) or not value:
        return '%s must be a non-empty list of TCP ports such as [443, 8443]: got %r' % (option, value)
    if len(value) > maximum_count:
        return '%s must list at most %d ports: got %d' % (option, maximum_count, len(value))
    for index, port in enumerate(value):
        if not _is_int(port) or not 1 <= port <= 65535:
            # The whole list too: a role's message then shows the value as its user wrote it.
            return '%s[%d] must be a TCP port from 1 to 65535: got %r (in %r)' % (option, index, port, list(value))
    if len(set(value)) != len(value):
        return '%s must not name a port twice: got %r' % (option, list(value))
    return None


_URL_PATH = re.compile(r'/[A-Za-z0-9._~!$&\'()*+,;=:@%/-]*')


def check_url_path(option, value):
    """The path part of a URL, starting with '/': no scheme, host, query, fragment or spaces."""
    if isinstance(value, str) and len(value) <= 1024 and _URL_PATH.fullmatch(value):
        return None
    return '%s must be a URL path starting with / such as /link/v1 (no scheme, host, query or spaces): got %r' % (option, value)
