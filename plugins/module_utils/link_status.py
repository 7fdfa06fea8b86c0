# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a system's subscription status means: link, grace period, licences.

Pure functions over the facts of the schema's SubscriptionStatus and License
entities, so the module, the roles' checks and the unit tests read a status the
same way. The licence status codes and the judgement of a link (judge_link)
live here and nowhere else: subscription_status (``ready``), the readiness
report (``link.first_connection``, ``link.licences``) and the monitoring report
(``link.state``, ``entitlements.received``) all call them.
"""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import schema

# Licence Status of the guide (§4.3): the collection's one table of the codes.
INVALID = 0
VALID = 1
EXPIRED = 2
LICENCE_STATUS = {INVALID: 'invalid', VALID: 'valid', EXPIRED: 'expired', 3: 'token_expired', 4: 'unknown', 5: 'dormant', 6: 'obsolete'}

# Licence Source of a licence a remote server delivered (guide §4.3: 3 MappedRemote).
REMOTE_SOURCE = 3

# What a node's link verdict rests on.
LINK_STATUS = 'link_status'   # the model's SubscriptionStatus resource (the lab serves it)
LICENCES = 'licences'         # only Avaya's documented licences (Status, IsGrace, ExpiryDate)


def licence_status_word(code):
    """The guide's licence Status code in words (valid, expired, invalid, ...); unknown for a code it does not list."""
    return LICENCE_STATUS.get(code, 'unknown')


def link_facts(status):
    """The link part of a SubscriptionStatus's facts, with the state in the collection's words."""
    state = status.get('link_state') or ''
    return {
        'state': schema.LINK_STATES.get(state, 'unknown'),
        'device_state': state,
        'reason': status.get('reason') or None,
        'reason_text': status.get('reason_text') or None,
        'missing_prerequisites': status.get('missing_prerequisites') or [],
        'server_address': status.get('server_address') or None,
        'resolved_address': status.get('resolved_address') or None,
        'port': status.get('port') or None,
        'connected_since': status.get('connected_since') or None,
        'last_heartbeat': status.get('last_heartbeat') or None,
        'last_attempt': status.get('last_attempt') or None,
        'attempts': status.get('attempts') or 0,
        'round_trip_ms': status.get('round_trip_ms') or None,
        'time_synchronised': bool(status.get('time_synchronised')),
        'time_offset_ms': status.get('time_offset_ms') or 0,
        'evidence': LINK_STATUS,
    }


def grace_facts(status):
    state = status.get('link_state')
    return {
        'in_error_mode': state == 'ErrorMode',
        'expired': state == 'Expired',
        'error_mode_since': status.get('error_mode_since') or None,
        'period_days': status.get('grace_period_days'),
        'days_left': status.get('grace_days_left'),
    }


def entitlement_facts(licence):
    """One licence as an entitlement: name, quantity, expiry (YYYY-MM-DD), status in words, grace flag."""
    expiry = licence.get('expiry_date') or ''
    return {
        'key': licence.get('key'),
        'display_name': licence.get('display_name'),
        'quantity': licence.get('quantity'),
        'expiry_date': expiry.replace('/', '-') or None,
        'status': licence_status_word(licence.get('status')),
        'is_grace': bool(licence.get('is_grace')),
    }


def licence_summary(licences):
    """One word for the licences as a whole, with counts.

    none: no licences; invalid: any invalid (grace over); expired: all expired;
    partly_expired: some expired; valid: all valid. grace: any in the grace period.
    """
    counts = {'valid': 0, 'expired': 0, 'invalid': 0, 'other': 0}
    for licence in licences:
        status = licence.get('status')
        key = {VALID: 'valid', EXPIRED: 'expired', INVALID: 'invalid'}.get(status, 'other')
        counts[key] += 1
    if not licences:
        state = 'none'
    elif counts['invalid']:
        state = 'invalid'
    elif counts['expired'] == len(licences):
        state = 'expired'
    elif counts['expired'] or counts['other']:
        state = 'partly_expired'
    else:
        state = 'valid'
    summary = {'state': state, 'grace': any(licence.get('is_grace') for licence in licences)}
    summary.update(counts)
    return summary


def node_status(status, licences):
    """Everything the module returns for one node, from its status and its licences (facts)."""
    facts = {
        'node_address': status.get('node_address'),
        'link': link_facts(status),
        'grace': grace_facts(status),
        'alarms': status.get('alarms') or [],
        'telephony': (status.get('telephony') or 'unknown').lower(),
        'subscription_features': (status.get('subscription_features') or 'unknown').lower(),
        'entitlements': [entitlement_facts(licence) for licence in licences],
        'licence_status': licence_summary(licences),
    }
    facts['ready'] = judge_link(facts)['ready']
    return facts


def node_status_from_licences(licences):
    """A node whose release has no link status resource: what its documented licences show.

    Subscription licences reach a system only over its link to COM, and a lost link
    puts them on the grace period (IsGrace). So valid licences with none in grace
    show the link came up and is not in error mode, invalid ones that the grace
    period ended; the link state itself, its port and the days left are not known.
    """
    # Source 3 (MappedRemote): licences a remote server delivered. Local ones (ADI, PLDS on the box) say nothing
    # about the link. That subscription licences report source 3 is an inference (docs/real-systems.md).
    remote = [licence for licence in licences if licence.get('source') == REMOTE_SOURCE]
    summary = licence_summary(remote)
    if summary['state'] == 'none':
        text = 'no licences yet: the link to COM has not delivered any (this release has no link status; judged from its licences)'
        state = 'not_connected'
    elif summary['grace']:
        text = 'licences run on the grace period: the link to COM is lost (judged from the licences)'
        state = 'error_mode'
    elif summary['state'] == 'valid':
        text = None
        state = 'connected'
    elif summary['state'] == 'invalid':
        # A subscription licence turns invalid when the grace period ends (guide §4.3 Status 0).
        text = 'licences are invalid: the grace period ended (judged from the licences)'
        state = 'expired'
    else:
        text = 'licences are %s (judged from the licences)' % summary['state'].replace('_', ' ')
        state = 'unknown'
    link = dict((key, None) for key in ('device_state', 'server_address', 'resolved_address', 'port', 'connected_since',
                                        'last_heartbeat', 'last_attempt', 'round_trip_ms'))
    link.update({'state': state, 'reason': None if text is None else 'licences_' + state, 'reason_text': text,
                 'missing_prerequisites': [], 'attempts': 0, 'time_synchronised': None, 'time_offset_ms': None,
                 'evidence': LICENCES})
    facts = {
        'node_address': None,
        'link': link,
        'grace': {'in_error_mode': summary['grace'], 'expired': summary['state'] == 'invalid', 'error_mode_since': None,
                  'period_days': None, 'days_left': None},
        'alarms': [],
        'telephony': 'unknown',
        'subscription_features': 'unknown',
        'entitlements': [entitlement_facts(licence) for licence in licences],
        'licence_status': summary,
    }
    facts['ready'] = judge_link(facts)['ready']
    return facts


# What judge_link finds wrong with a node's link, as stable codes.
NO_STATUS = 'no_status'                    # nothing was read about the link: never ready, and not a measurement either
NOT_CONNECTED = 'not_connected'            # the link is not up (link.state says how)
NO_LICENCES = 'no_licences'                # connected, and COM delivered no subscription licence
LICENCES_NOT_VALID = 'licences_not_valid'  # connected, and some licences are expired, invalid or of another status
LICENCES_ON_GRACE = 'licences_on_grace'    # connected, and a licence still runs on the grace period


_NO_LICENCES_TEXT = ('the link is up, but COM delivered no subscription licences: the installer compares the customer ID with the '
                     'order e-mail, and whoever orders subscriptions asks the order desk')
_NOT_VALID_TEXT = 'some subscription licences are %s: whoever orders subscriptions renews them with the order desk'
_ON_GRACE_TEXT = ('the link is up, but licences still run on the grace period: wait for the next licence check, and if it stays, '
                  'whoever orders subscriptions asks the order desk')


def judge_link(node):
    """The one judgement of a node's link, from its subscription_status facts (node_status or node_status_from_licences).

    Ready only when the link is connected AND its subscription licences are all
    valid with none on the grace period: a link that delivered no licences is not
    ready (strict: a connected node without licences has nothing to run its
    subscriptions on). Returns {'ready', 'connected', 'problem' (None or one of
    the codes above), 'text' (why, in words; None when ready), 'licences' (the
    licence summary's state)}.
    """
    if not node or not isinstance(node.get('link'), dict):
        return {'ready': False, 'connected': False, 'problem': NO_STATUS, 'licences': None,
                'text': 'the link status could not be read'}
    link = node['link']
    summary = node.get('licence_status') or {}
    licences = summary.get('state')
    found = {'ready': False, 'connected': link.get('state') == 'connected', 'licences': licences}
    if not found['connected']:
        reason = link.get('reason_text') or link.get('reason') or link.get('state') or 'unknown'
        found.update(problem=NOT_CONNECTED, text='the link is not up: %s' % reason)
    elif licences in (None, 'none'):
        found.update(problem=NO_LICENCES, text=_NO_LICENCES_TEXT)
    elif licences != 'valid':
        found.update(problem=LICENCES_NOT_VALID, text=_NOT_VALID_TEXT % licences.replace('_', ' '))
    elif summary.get('grace'):
        found.update(problem=LICENCES_ON_GRACE, text=_ON_GRACE_TEXT)
    else:
        found.update(ready=True, problem=None, text=None)
    return found
