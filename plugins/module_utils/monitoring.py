# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What to watch on a system in service: the link, the 30-day error mode and its
daily alarms, and subscriptions that expire.

Pure functions over one node of subscription_status's result (link_status's
facts), returning results in the checks format, so the monitor role's report
and the unit tests judge a status the same way.

Days are counted from the DEVICE's date, not the controller's: a system whose
clock says 4 December counts its subscriptions down from 4 December. The
status model has no "current time" field, so device_today() takes the UTC
date of the newest timestamp the node reported (its last heartbeat on a
connected link, every few seconds; its last connection attempt in error
mode). Callers pass the controller's date as a fallback for a node that
reported no timestamp at all, and the result says which was used.
"""

from __future__ import annotations

import datetime

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks

# The seeds: "renew subscriptions in a timely manner, including time for renewal orders to be processed".
DEFAULT_EXPIRY_WARNING_DAYS = 30

_RECONNECT = 'restore the path to COM (DNS, outbound TCP 443/8443, the customer firewall); reconnecting clears the alarms and the error mode'


def parse_timestamp(value):
    """An ISO 8601 UTC timestamp of the status (2026-11-24T10:00:00Z) as an aware datetime, or None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.astimezone(datetime.timezone.utc)


def parse_date(value):
    """A YYYY-MM-DD (or YYYY/MM/DD) date, or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip().replace('/', '-')[:10])
    except ValueError:
        return None


def device_today(status_node):
    """(date, source) of the node's own "today": the UTC date of the newest timestamp it reported.

    source names the timestamp ("last heartbeat", ...); (None, None) when the
    node reported none (a system that never tried to connect).
    """
    status_node = status_node or {}
    link = status_node.get('link') or {}
    grace = status_node.get('grace') or {}
    candidates = [
        (link.get('last_heartbeat'), 'last heartbeat'),
        (link.get('last_attempt'), 'last connection attempt'),
        (link.get('connected_since'), 'connected since'),
        (grace.get('error_mode_since'), 'error mode since'),
    ]
    candidates.extend((alarm.get('raised'), 'last alarm') for alarm in status_node.get('alarms') or [] if isinstance(alarm, dict))
    newest = None
    for value, source in candidates:
        stamp = parse_timestamp(value)
        if stamp is not None and (newest is None or stamp > newest[0]):
            newest = (stamp, source)
    if newest is None:
        return None, None
    return newest[0].date(), '%s %s' % (newest[1], newest[0].strftime('%Y-%m-%dT%H:%M:%SZ'))


def reference_date(status_node, fallback_today=None):
    """(date, text) the node's days are counted from: the device's date, else the fallback (the controller's)."""
    today, source = device_today(status_node)
    if today is not None:
        return today, "the device's date %s (from its %s)" % (today.isoformat(), source)
    if fallback_today is not None:
        return fallback_today, "the controller's date %s (the device reported no timestamp)" % fallback_today.isoformat()
    return None, 'no date known'


def grace_end(status_node):
    """The date the grace period ends (error mode start + period), or None."""
    grace = (status_node or {}).get('grace') or {}
    since = parse_timestamp(grace.get('error_mode_since'))
    period = grace.get('period_days')
    if since is None or not isinstance(period, int):
        return None
    return (since + datetime.timedelta(days=period)).date()


def link_check(status_node):
    """link.state: connected passes; error mode, expired, connecting, not configured and unknown fail."""
    if not status_node:
        return checks.result('link.state', checks.FAIL, limit='connected to COM', summary='the link status could not be read',
                             hint='read the node with ipoffice.subscription.subscription_status and check the API user')
    link = status_node.get('link') or {}
    grace = status_node.get('grace') or {}
    state = link.get('state') or 'unknown'
    reason = link.get('reason_text') or link.get('reason')
    details = {'state': state, 'reason': link.get('reason')}
    if state == 'connected':
        return checks.result('link.state', checks.PASS, measured='connected on port %s' % link.get('port'), limit='connected to COM',
                             summary='link to COM up since %s' % (link.get('connected_since') or '?'), **details)
    if state == 'error_mode':
        left, period = grace.get('days_left'), grace.get('period_days')
        ends = grace_end(status_node)
        alarms = len(status_node.get('alarms') or [])
        day = (period - left + 1) if isinstance(left, int) and isinstance(period, int) else None
        details.update(days_left=left, period_days=period, grace_ends=ends.isoformat() if ends else None, alarms=alarms,
                       error_mode_since=grace.get('error_mode_since'))
        summary = 'error mode%s: %s of %s days left in the grace period%s, %d daily alarm%s' % (
            ', day %d' % day if day else '', left, period, ' (until %s)' % ends.isoformat() if ends else '', alarms, '' if alarms == 1 else 's')
        return checks.result(
            'link.state', checks.FAIL, measured='error mode since %s' % (grace.get('error_mode_since') or '?'), limit='connected to COM',
            summary=summary,
            hint='the link to COM is down%s: %s days left before subscription features and telephony stop%s; %s' % (
                ' (%s)' % reason if reason else '', left, ' on %s' % ends.isoformat() if ends else '', _RECONNECT), **details)
    if state == 'expired':
        ends = grace_end(status_node)
        details.update(days_left=0, grace_ends=ends.isoformat() if ends else None)
        return checks.result(
            'link.state', checks.FAIL, measured='grace period expired', limit='connected to COM',
            summary='grace period expired%s: subscription features and telephony deactivated' % (' on %s' % ends.isoformat() if ends else ''),
            hint='the 30-day error mode ended: subscription features and telephony are deactivated until the link is back; %s' % _RECONNECT,
            **details)
    if state == 'not_configured':
        missing = link.get('missing_prerequisites') or []
        details['missing_prerequisites'] = missing
        return checks.result('link.state', checks.FAIL, measured='not configured', limit='connected to COM',
                             summary='no link: missing %s' % (', '.join(missing) or 'prerequisites'),
                             hint='configure the missing prerequisites (%s): playbooks/site.yml' % (', '.join(missing) or 'see the status'),
                             **details)
    if state == 'connecting':
        return checks.result('link.state', checks.FAIL, measured='connecting', limit='connected to COM',
                             summary='no link to COM yet%s' % (': %s' % reason if reason else ''),
                             hint='the link is not up%s; run playbooks/validate.yml to find what blocks it' % (
                                 ': %s' % reason if reason else ''), **details)
    return checks.result('link.state', checks.FAIL, measured=link.get('device_state') or state, limit='connected to COM',
                         summary='the device reports a link state this collection does not know',
                         hint='look at the system in Web Manager; the state is reported as the device gave it', **details)


def grace_check(status_node):
    """grace.days_left: the days left of the 30-day error mode, as the device counts them."""
    grace = (status_node or {}).get('grace') or {}
    left, period = grace.get('days_left'), grace.get('period_days')
    ends = grace_end(status_node)
    details = {'in_error_mode': bool(grace.get('in_error_mode')), 'expired': bool(grace.get('expired')),
               'grace_ends': ends.isoformat() if ends else None}
    if grace.get('expired'):
        return checks.result('grace.days_left', checks.FAIL, measured=0, limit=period, unit='days',
                             summary='the grace period ended%s' % (' on %s' % ends.isoformat() if ends else ''),
                             hint='subscription features and telephony are deactivated; %s' % _RECONNECT, **details)
    if grace.get('in_error_mode'):
        return checks.result('grace.days_left', checks.FAIL, measured=left, limit=period, unit='days',
                             summary='%s of %s days left%s' % (left, period, ' (until %s)' % ends.isoformat() if ends else ''),
                             hint='reconnect within %s days%s, or subscription features and telephony stop; %s' % (
                                 left, ' (before %s)' % ends.isoformat() if ends else '', _RECONNECT), **details)
    return checks.result('grace.days_left', checks.PASS, measured=left if left is not None else period, limit=period, unit='days',
                         summary='not in error mode: the grace period is not running', **details)


def alarms_check(status_node):
    """alarms.active: no alarm passes; each day of error mode raises one."""
    alarms = [alarm for alarm in (status_node or {}).get('alarms') or [] if isinstance(alarm, dict)]
    if not alarms:
        return checks.result('alarms.active', checks.PASS, measured=0, limit=0, unit='alarms', summary='no active alarms', alarms=[])
    days = sorted(alarm.get('day') for alarm in alarms if isinstance(alarm.get('day'), int))
    latest = max(alarms, key=lambda alarm: alarm.get('day') if isinstance(alarm.get('day'), int) else 0)
    span = ('day %d' % days[0] if len(days) == 1 else 'days %d..%d' % (days[0], days[-1])) if days else '%d alarms' % len(alarms)
    return checks.result('alarms.active', checks.FAIL, measured=len(alarms), limit=0, unit='alarms',
                         summary='%s: %s' % (span, latest.get('text') or 'alarm'),
                         hint='the system raises an alarm every day of error mode (latest: "%s"); %s' % (latest.get('text') or '?', _RECONNECT),
                         alarms=alarms)


def entitlement_check(entitlement, warning_days, today):
    """entitlement.<key>: valid with more than warning_days left passes; expiring inside the window, expired or not valid fails."""
    key = entitlement.get('key') or entitlement.get('display_name') or '?'
    name = 'entitlement.%s' % key
    expiry = parse_date(entitlement.get('expiry_date'))
    status = entitlement.get('status') or 'unknown'
    left = (expiry - today).days if expiry is not None and today is not None else None
    limit = 'more than %d' % warning_days
    details = {'key': key, 'display_name': entitlement.get('display_name'), 'quantity': entitlement.get('quantity'),
               'expiry_date': expiry.isoformat() if expiry else entitlement.get('expiry_date'), 'days_left': left,
               'licence_status': status, 'reference_date': today.isoformat() if today else None}
    if status == 'invalid':
        return checks.result(name, checks.FAIL, measured=left, limit=limit, unit='days',
                             summary='%s is invalid: the grace period ended' % key,
                             hint='the link to COM must come back before %s works again; %s' % (key, _RECONNECT), **details)
    if status == 'expired' or (left is not None and left <= 0):
        return checks.result(name, checks.FAIL, measured=left, limit=limit, unit='days',
                             summary='%s expired on %s%s: its features have stopped' % (
                                 key, details['expiry_date'], ' (%d days ago)' % -left if left is not None and left < 0 else ''),
                             hint='renew %s now: the features of an expired subscription stop at once' % key, **details)
    if status != 'valid':
        return checks.result(name, checks.FAIL, measured=left, limit=limit, unit='days',
                             summary='%s has licence status %s' % (key, status),
                             hint='ask the order desk about %s: its licence status is %s' % (key, status), **details)
    if expiry is None:
        return checks.result(name, checks.NOT_MEASURED, limit=limit, unit='days', summary='%s has no expiry date' % key, **details)
    if left is None:
        return checks.result(name, checks.NOT_MEASURED, limit=limit, unit='days',
                             summary="%s expires on %s; today's date is not known" % (key, details['expiry_date']), **details)
    summary = '%s expires on %s: %d day%s left' % (key, details['expiry_date'], left, '' if left == 1 else 's')
    return checks.passed_if(name, left > warning_days, measured=left, limit=limit, unit='days', summary=summary,
                            hint='renew %s before %s (%d days left): whoever orders subscriptions must allow time for the renewal '
                                 'order to be processed' % (key, details['expiry_date'], left), **details)


def entitlement_checks(status_node, warning_days, today):
    """One check per subscription licence the node holds; "not measured" when it holds none."""
    entitlements = [item for item in (status_node or {}).get('entitlements') or [] if isinstance(item, dict)]
    if not entitlements:
        return [checks.result('entitlements.received', checks.NOT_MEASURED, limit='more than %d' % warning_days, unit='days',
                              summary='no subscription licences received yet: no expiry date to watch')]
    return [entitlement_check(item, warning_days, today) for item in entitlements]


def node_checks(status_node, warning_days=DEFAULT_EXPIRY_WARNING_DAYS, fallback_today=None):
    """Every monitoring check of one link-holding node: link, grace period, alarms, then each entitlement.

    Days left are counted from reference_date(): the device's date, else fallback_today.
    """
    if warning_days is None or int(warning_days) < 0:
        raise ValueError('the expiry warning must be 0 days or more, got %r' % (warning_days,))
    results = [link_check(status_node)]
    if status_node:
        today = reference_date(status_node, fallback_today)[0]
        results += [grace_check(status_node), alarms_check(status_node)]
        results += entitlement_checks(status_node, int(warning_days), today)
    return results
