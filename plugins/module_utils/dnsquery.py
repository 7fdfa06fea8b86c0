# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One DNS A query to one named server, the way the IP Office asks: no
retries, TCP only when the UDP answer is truncated. Used by dns_check and by
time_check (a time server given by name), so both ask the system's own DNS
server the same way and never the local resolver."""

from __future__ import annotations

import importlib.util
import time

# dnspython is imported on the first query, not with the module: time_check needs it only for a time server
# given by name, and the import costs more than the query.
HAS_DNSPYTHON = importlib.util.find_spec('dns') is not None
DNSPYTHON_IMPORT_ERROR = None if HAS_DNSPYTHON else 'ModuleNotFoundError: No module named \'dns\''


def ask(server, port, name, timeout):
    """One A query for name to one server, without retries. Always returns a dict:
    {'server', 'rcode' (text, None when nothing usable came back), 'addresses', 'error', 'elapsed_ms'}."""
    # pylint: disable=import-outside-toplevel
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
    started = time.monotonic()
    attempt = {'server': server, 'rcode': None, 'addresses': [], 'error': None, 'elapsed_ms': None}
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        answer = dns.query.udp(query, server, timeout=timeout, port=port)
        if answer.flags & dns.flags.TC:
            # Truncated: the rest over TCP, inside the same time budget.
            remaining = max(timeout - (time.monotonic() - started), 0.05)
            answer = dns.query.tcp(query, server, timeout=remaining, port=port)
    except dns.exception.Timeout:
        attempt['error'] = 'no answer within %g s' % timeout
    except OSError as exc:
        attempt['error'] = exc.strerror or str(exc)
    except dns.exception.DNSException as exc:
        attempt['error'] = 'unusable answer: %s' % (str(exc) or type(exc).__name__)
    else:
        attempt['rcode'] = dns.rcode.to_text(answer.rcode())
        attempt['addresses'] = sorted(set(item.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A
                                          for item in rrset))
    attempt['elapsed_ms'] = round((time.monotonic() - started) * 1000.0, 1)
    return attempt
