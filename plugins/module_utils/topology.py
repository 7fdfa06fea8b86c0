# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Topology rules from Avaya's subscription documents.

In an IP500 V2 SCN every IP500 V2 has its own link to the subscription server;
in Server Edition only the Primary Server has it.
"""

from __future__ import annotations


class TopologyError(Exception):
    """The task does not say which node of a solution to act on."""


_SYSTEM_TYPES = {
    'IP500 V2': ('ip500v2', 'node', True),
    'Server Edition Primary': ('server_edition', 'primary', True),
    'Server Edition Secondary': ('server_edition', 'secondary', False),
    'Server Edition Expansion': ('server_edition', 'expansion', False),
}


def describe(system_type):
    """platform, role and whether this node holds the subscription link.

    An unknown type is reported as such (None), never guessed.
    """
    platform, role, holds_link = _SYSTEM_TYPES.get(system_type, ('unknown', 'unknown', None))
    return {'platform': platform, 'role': role, 'holds_subscription_link': holds_link}


def choose_node(systems, node_address):
    """(system, node address to send or None). Several nodes and no node_address: the Primary, else an error.

    A node asked for by node_address must come back with that LAN1 address: a device that answers with
    another system (or several) is not trusted with a write."""
    if node_address:
        matches = [system for system in systems if lan1_address(system) == node_address]
        if len(matches) != 1:
            found = ', '.join(sorted(str(lan1_address(system)) for system in systems)) or 'none'
            raise TopologyError('node_address %s was asked for, and the endpoint answered with %d system%s whose LAN1 is %s; '
                                'nothing was changed' % (node_address, len(systems), '' if len(systems) == 1 else 's', found))
        return matches[0], node_address
    if len(systems) == 1:
        return systems[0], node_address
    primaries = [s for s in systems if describe(s.get('SystemType'))['role'] == 'primary']
    if len(primaries) == 1:
        return primaries[0], lan1_address(primaries[0])
    nodes = ', '.join(sorted(filter(None, (lan1_address(s) for s in systems))))
    raise TopologyError('this API endpoint serves %d systems (%s): give node_address to choose one' % (len(systems), nodes))


def lan1_address(system):
    for lan in (system.get('LANS') or {}).get('LAN', []):
        if lan.get('@id') == 'LAN1':
            return lan.get('IPAddress')
    return None
