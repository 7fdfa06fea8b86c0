# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Topology rules from Avaya's subscription documents.

In an IP500 V2 SCN every IP500 V2 has its own link to the subscription server;
in Server Edition only the Primary Server has it.
"""

from __future__ import annotations

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
