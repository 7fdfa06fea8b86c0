# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input validation. Every check returns a message naming the option and the
value, or None when the value is good, so modules can fail before any request."""

from __future__ import annotations

import os
import re

try:
    import netaddr
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as _exc:  # reported by the module through missing_required_lib
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = _exc

_HOST_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')


def is_ipv4_address(value):
    """A dotted-quad IPv4 address (no shorthand forms like '10.1')."""
    if not isinstance(value, str) or value.count('.') != 3:
        return False
    try:
        netaddr.IPAddress(value, version=4, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return False
    return True


def is_ip_address(value):
    if is_ipv4_address(value):
        return True
    if not isinstance(value, str) or ':' not in value:
        return False
    try:
        netaddr.IPAddress(value, version=6)
    except (netaddr.AddrFormatError, ValueError, TypeError):
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
    return all(_HOST_LABEL.match(label) for label in labels)


def check_host(option, value):
    if value is None or str(value).strip() == '':
        return '%s is required: give the address or host name of the IP Office' % option
    if '://' in value or '/' in value:
        return '%s must be a host name or an IP address, not a URL: got %r' % (option, value)
    if is_ip_address(value) or is_hostname(value):
        return None
    return '%s must be a host name or an IP address: got %r' % (option, value)


def check_port(option, value):
    if value is None or not 1 <= value <= 65535:
        return '%s must be a TCP port from 1 to 65535: got %r' % (option, value)
    return None


def check_positive(option, value, maximum=None):
    if value is None or value <= 0 or (maximum is not None and value > maximum):
        limit = ' and at most %s' % maximum if maximum is not None else ''
        return '%s must be more than 0%s: got %r' % (option, limit, value)
    return None


def check_non_negative(option, value, maximum=None):
    if value is None or value < 0 or (maximum is not None and value > maximum):
        limit = ' to %s' % maximum if maximum is not None else ''
        return '%s must be 0%s: got %r' % (option, limit, value)
    return None


def check_readable_file(option, value):
    if value is None:
        return None
    if not os.path.isfile(value):
        return '%s must name a readable file: %r does not exist or is not a file' % (option, value)
    if not os.access(value, os.R_OK):
        return '%s must name a readable file: %r cannot be read' % (option, value)
    return None


def check_ipv4(option, value):
    if is_ipv4_address(value):
        return None
    return '%s must be an IPv4 address in dotted-quad form: got %r' % (option, value)
