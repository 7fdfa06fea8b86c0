# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A scripted stand-in for dnsquery.ask, for the unit tests of the resolver policy and of the checks that use it."""

from __future__ import annotations

PRIMARY = '192.0.2.53'
BACKUP = '192.0.2.54'


def attempt(server, rcode=None, addresses=(), error=None, elapsed_ms=5.0):
    """What dnsquery.ask returns for one server."""
    return {'server': server, 'rcode': rcode, 'addresses': list(addresses), 'error': error, 'elapsed_ms': elapsed_ms}


def scripted(answers):
    """An asker that answers from {(server, name): attempt-kwargs} and records every call; any other query gets no
    answer within its timeout."""
    calls = []

    def asker(server, port, name, timeout):
        calls.append((server, port, name, timeout))
        spec = answers.get((server, name), {'error': 'no answer within %g s' % timeout, 'elapsed_ms': timeout * 1000})
        return attempt(server, **spec)
    asker.calls = calls
    return asker
