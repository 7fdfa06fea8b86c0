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

# Callers written when addresses needed netaddr still test these; nothing here needs it any more.
HAS_NETADDR = True
NETADDR_IMPORT_ERROR = None

_HOST_LABEL = re.compile(r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)')


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


def _looks_like_url(value):
    return '://' in value or '/' in value or '?' in value or '#' in value or '@' in value


def _has_space(value):
    return any(c.isspace() for c in value)


def check_host_or_ipv4(option, value):
    """A host name or a dotted-quad IPv4 address (a time server): never a URL, a path or a port."""
    if not isinstance(value, str) or value.strip() == '':
        return '%s must be a host name or an IPv4 address: got %r' % (option, value)
    if _looks_like_url(value):
        return '%s must be a host name or an IPv4 address, not a URL or a path: got %r' % (option, value)
    if ':' in value:
        return '%s must be a host name or an IPv4 address, without a port: got %r' % (option, value)
    if not _has_space(value) and (is_ipv4_address(value) or is_hostname(value)):
        return None
    return '%s must be a host name or an IPv4 address: got %r' % (option, value)


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
    return text.rstrip('.'), None


def check_license_server(option, value):
    """None, or a message naming the option, for a License Server address."""
    _normal, problem = normalise_license_server(value)
    return '%s %s' % (option, problem) if problem else None


def time_zone_names():
    """The IANA time zone names this Python knows (system database, else the tzdata package)."""
    try:
        import zoneinfo
    except ImportError:
        return set()
    return zoneinfo.available_timezones()


def check_time_zone(option, value, names=None):
    """An IANA time zone name such as Europe/London, exactly as the database spells it."""
    names = time_zone_names() if names is None else names
    if not names:
        return ('%s cannot be checked: this Python has no IANA time zone database (install the tzdata package): '
                'got %r' % (option, value))
    if isinstance(value, str) and value in names:
        return None
    return '%s must be an IANA time zone name such as Europe/London: got %r' % (option, value)


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
    return ('%s must be 1 to 32 letters, digits and hyphens, starting with a letter or a digit: got %r'
            % (option, value))


def check_port_list(option, value, maximum_count=16):
    """A non-empty list of distinct TCP ports (order kept: it is the order they are tried in)."""
    if not isinstance(value, (list, tuple)) or not value:
        return '%s must be a non-empty list of TCP ports such as [443, 8443]: got %r' % (option, value)
    if len(value) > maximum_count:
        return '%s must list at most %d ports: got %d' % (option, maximum_count, len(value))
    for index, port in enumerate(value):
        if not _is_int(port) or not 1 <= port <= 65535:
            return '%s[%d] must be a TCP port from 1 to 65535: got %r' % (option, index, port)
    if len(set(value)) != len(value):
        return '%s must not name a port twice: got %r' % (option, list(value))
    return None


_URL_PATH = re.compile(r'/[A-Za-z0-9._~!$&\'()*+,;=:@%/-]*')


def check_url_path(option, value):
    """The path part of a URL, starting with '/': no scheme, host, query, fragment or spaces."""
    if isinstance(value, str) and len(value) <= 1024 and _URL_PATH.fullmatch(value):
        return None
    return '%s must be a URL path starting with / such as /link/v1 (no scheme, host, query or spaces): got %r' % (option, value)
