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

A release without the link status resource is judged from its documented
licences (link_status.node_status_from_licences: link.evidence "licences").
They show THAT the grace period runs, not since when: the days left are
stated only when something measured them, an alarm from the system (the
event source of extensions/eda) or an earlier alarm of the same error mode
kept in the monitor's history (with_evidence); otherwise they are "not
measured", with the reason. Every check's details.evidence names what it
rests on.
"""

from __future__ import annotations

import copy
import datetime
import math

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, link_status

# The seeds: "renew subscriptions in a timely manner, including time for renewal orders to be processed".
DEFAULT_EXPIRY_WARNING_DAYS = 30

_RECONNECT = 'restore the path to COM (DNS, outbound TCP 443/8443, the customer firewall); reconnecting clears the alarms and the error mode'

# The seeds' error mode, for a node that says nothing about its own period.
SEED_GRACE_DAYS = 30
# What the event source (extensions/eda) reports; the kinds of alarm the monitor can take as evidence.
ALARM_KINDS = ('error_mode', 'expired', 'cleared', 'entitlement_expiring')
_FROM_STATUS = 'read from the link status resource (subscriptionstatus)'
_FROM_LICENCES = 'judged from the documented licences (licenses: Status, IsGrace, ExpiryDate); this release shows no link status'
_DAYS_UNKNOWN = ('the licences show that the grace period runs (IsGrace), not since when, and no alarm from the system has '
                 'measured it: point its alarms at the event source (docs/monitor.md)')


def from_licences(status_node):
    """True for a node judged from its documented licences, not from the link status resource."""
    return ((status_node or {}).get('link') or {}).get('evidence') == link_status.LICENCES


def _evidence(status_node, what=None):
    base = _FROM_LICENCES if from_licences(status_node) else _FROM_STATUS
    return '%s; %s' % (base, what) if what else base


def alarm_matches(alarm, status_node, name=None):
    """True when an alarm (the event source's payload) comes from this node: its LAN1 address or its system name."""
    if not isinstance(alarm, dict) or alarm.get('kind') not in ALARM_KINDS:
        return False
    node = status_node or {}
    return bool((alarm.get('address') and alarm.get('address') == node.get('node_address'))
                or (alarm.get('system') and alarm.get('system') in (name, node.get('name'))))


def _alarm_since(alarm):
    """When the error mode of an alarm began: its "since", else its time less the days before it."""
    since = parse_timestamp(alarm.get('error_mode_since'))
    raised = parse_timestamp(alarm.get('raised'))
    if since is None and raised is not None and isinstance(alarm.get('grace_day'), int):
        since = raised - datetime.timedelta(days=alarm['grace_day'] - 1)
    return since


def _stamp(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def days_left_at(since, period, now):
    """The days left of a grace period that began at since, at now, counted as the device counts them (rounded up)."""
    elapsed = (now - since).total_seconds() / 86400.0
    return max(0, int(math.ceil(period - elapsed)))


def with_evidence(status_node, info_node=None, alarm=None, episode=None, now=None):
    """A copy of one node's status with what else measured its grace period.

    For a node judged from its licences: the period from the documented
    PBXLicense.LicenseGracePeriod (system_info's licence_server.grace_period),
    and the start and days left from an alarm the node raised (alarm: the
    event source's payload) or, failing that, from an earlier alarm of the
    same error mode in the history (episode: history.episode()). A node with
    the link status resource measures all of this itself: the alarm is only
    kept for the report. now (aware datetime): the controller's time, for
    days counted from the history.
    """
    node = copy.deepcopy(status_node or {})
    if not node:
        return node
    grace = node.setdefault('grace', {})
    if alarm and alarm_matches(alarm, node):
        node['alarm'] = dict((key, alarm.get(key)) for key in (
            'kind', 'reason', 'reason_text', 'grace_day', 'days_left', 'raised', 'text', 'error_mode_since'))
    if not from_licences(node):
        grace.setdefault('measured_by', 'the link status resource')
        return node
    period = ((info_node or {}).get('licence_server') or {}).get('grace_period')
    if isinstance(period, int) and period > 0:
        grace['period_days'], grace['period_from'] = period, 'PBXLicense.LicenseGracePeriod'
    else:
        grace['period_days'], grace['period_from'] = SEED_GRACE_DAYS, "Avaya's documents (30 days)"
    raised = node.get('alarm')
    if raised and raised['kind'] in ('error_mode', 'expired') and (grace.get('in_error_mode') or grace.get('expired')):
        since = _alarm_since(raised)
        expired = raised['kind'] == 'expired' or grace.get('expired')
        grace.update(error_mode_since=_stamp(since), days_left=0 if expired else raised.get('days_left'),
                     measured_by='the %s alarm it raised at %s' % ('shutdown' if raised['kind'] == 'expired' else 'day-%s' % raised.get('grace_day'),
                                                                   raised.get('raised') or '?'))
        node['alarms'] = [{'day': raised.get('grace_day'), 'raised': raised.get('raised'), 'text': raised.get('text'),
                           'reason': raised.get('reason'), 'reason_text': raised.get('reason_text')}]
    elif episode and episode.get('error_mode_since') and grace.get('in_error_mode'):
        since = parse_timestamp(episode['error_mode_since'])
        now = now or datetime.datetime.now(datetime.timezone.utc)
        grace.update(error_mode_since=_stamp(since), days_left=days_left_at(since, grace['period_days'], now),
                     measured_by='the alarm of %s kept in the monitor history, counted to the controller\'s time' % (
                         episode.get('measured_at') or '?'))
    if (grace.get('in_error_mode') or grace.get('expired')) and episode:
        grace['first_seen'] = episode.get('first_seen')
        grace['last_healthy'] = episode.get('last_healthy')
    return node


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


def _days_phrase(grace, ends):
    """"28 days left ... on 2026-12-24", or why the days are unknown."""
    left = grace.get('days_left')
    if left is None:
        return 'days left unknown: %s' % _DAYS_UNKNOWN
    return '%s days left before subscription features and telephony stop%s' % (left, ' on %s' % ends.isoformat() if ends else '')


def link_check(status_node):
    """link.state: connected passes; error mode, expired, connecting, not configured and unknown fail."""
    if not status_node:
        return checks.result('link.state', checks.FAIL, limit='connected to COM', summary='the link status could not be read',
                             hint='read the node with ipoffice.subscription.subscription_status and check the API user')
    link = status_node.get('link') or {}
    grace = status_node.get('grace') or {}
    state = link.get('state') or 'unknown'
    reason = link.get('reason_text') or link.get('reason')
    licences = from_licences(status_node)
    details = {'state': state, 'reason': link.get('reason'), 'evidence': _evidence(status_node)}
    if link_status.judge_link(status_node)['connected']:
        if licences:
            return checks.result('link.state', checks.PASS, measured='valid licences, none on the grace period', limit='connected to COM',
                                 summary='the link to COM delivered valid licences and none runs on the grace period', **details)
        return checks.result('link.state', checks.PASS, measured='connected on port %s' % link.get('port'), limit='connected to COM',
                             summary='link to COM up since %s' % (link.get('connected_since') or '?'), **details)
    if state == 'error_mode':
        left, period = grace.get('days_left'), grace.get('period_days')
        ends = grace_end(status_node)
        alarms = len(status_node.get('alarms') or [])
        day = (period - left + 1) if isinstance(left, int) and isinstance(period, int) else None
        details.update(days_left=left, period_days=period, grace_ends=ends.isoformat() if ends else None, alarms=alarms,
                       error_mode_since=grace.get('error_mode_since'), days_measured_by=grace.get('measured_by'))
        if grace.get('measured_by') and licences:
            details['evidence'] = _evidence(status_node, 'days from %s' % grace['measured_by'])
        if left is None:
            summary = 'error mode: the licences run on the grace period; days left unknown'
        else:
            summary = 'error mode%s: %s of %s days left in the grace period%s, %d %s' % (
                ', day %d' % day if day else '', left, period, ' (until %s)' % ends.isoformat() if ends else '', alarms,
                ('alarm received' if alarms == 1 else 'alarms received') if licences else ('daily alarm' if alarms == 1 else 'daily alarms'))
        return checks.result(
            'link.state', checks.FAIL, measured='error mode since %s' % (grace.get('error_mode_since') or '?') if grace.get('error_mode_since')
            else 'error mode (licences on the grace period)', limit='connected to COM', summary=summary,
            hint='the link to COM is down%s: %s; %s' % (' (its licences run on the grace period)' if licences else ' (%s)' % reason if reason else '',
                                                        _days_phrase(grace, ends), _RECONNECT), **details)
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
    if state in ('connecting', 'not_connected'):
        return checks.result('link.state', checks.FAIL, measured=state.replace('_', ' '), limit='connected to COM',
                             summary='no link to COM yet%s' % (': %s' % reason if reason else ''),
                             hint='the link is not up%s; run playbooks/validate.yml to find what blocks it' % (
                                 ': %s' % reason if reason else ''), **details)
    if licences:
        return checks.result('link.state', checks.FAIL, measured=state, limit='connected to COM', summary=reason or 'the licences are not valid',
                             hint='look at the licences in Web Manager (System Settings > Licenses); %s' % _RECONNECT, **details)
    return checks.result('link.state', checks.FAIL, measured=link.get('device_state') or state, limit='connected to COM',
                         summary='the device reports a link state this collection does not know',
                         hint='look at the system in Web Manager; the state is reported as the device gave it', **details)


def licences_check(status_node):
    """link.licences of a connected node: link_status.judge_link's rule (valid subscription licences, none on the grace
    period), the same check in the readiness and the monitoring report. A connected node without licences fails."""
    judged = link_status.judge_link(status_node)
    return checks.passed_if('link.licences', judged['ready'], measured=judged['licences'], limit='valid, none on the grace period',
                            hint=judged['text'], summary='subscription licences', problem=judged['problem'],
                            evidence=_evidence(status_node))


def grace_check(status_node):
    """grace.days_left: the days left of the 30-day error mode, as the device counts them (or an alarm measured them)."""
    grace = (status_node or {}).get('grace') or {}
    left, period = grace.get('days_left'), grace.get('period_days')
    ends = grace_end(status_node)
    details = {'in_error_mode': bool(grace.get('in_error_mode')), 'expired': bool(grace.get('expired')),
               'grace_ends': ends.isoformat() if ends else None, 'measured_by': grace.get('measured_by'),
               'evidence': _evidence(status_node, 'days from %s' % grace['measured_by'] if grace.get('measured_by') else None)}
    if grace.get('expired'):
        return checks.result('grace.days_left', checks.FAIL, measured=0, limit=period, unit='days',
                             summary='the grace period ended%s' % (' on %s' % ends.isoformat() if ends else ''),
                             hint='subscription features and telephony are deactivated; %s' % _RECONNECT, **details)
    if grace.get('in_error_mode') and left is None:
        first_seen = parse_timestamp(grace.get('first_seen'))
        bound = ''
        if first_seen is not None and isinstance(period, int):
            latest = (first_seen + datetime.timedelta(days=period)).date()
            details['telephony_stops_by'] = latest.isoformat()
            bound = '; the monitor first saw the error mode at %s, so telephony stops on %s at the latest' % (
                _stamp(first_seen), latest.isoformat())
        return checks.result('grace.days_left', checks.NOT_MEASURED, measured=None, limit=period, unit='days',
                             summary='days left unknown: %s%s' % (_DAYS_UNKNOWN, bound), **details)
    if grace.get('in_error_mode'):
        return checks.result('grace.days_left', checks.FAIL, measured=left, limit=period, unit='days',
                             summary='%s of %s days left%s' % (left, period, ' (until %s)' % ends.isoformat() if ends else ''),
                             hint='reconnect within %s days%s, or subscription features and telephony stop; %s' % (
                                 left, ' (before %s)' % ends.isoformat() if ends else '', _RECONNECT), **details)
    if from_licences(status_node):
        return checks.result('grace.days_left', checks.PASS, measured=period, limit=period, unit='days',
                             summary='not in error mode: no licence runs on the grace period', **details)
    return checks.result('grace.days_left', checks.PASS, measured=left if left is not None else period, limit=period, unit='days',
                         summary='not in error mode: the grace period is not running', **details)


def alarms_check(status_node):
    """alarms.active: no alarm passes; each day of error mode raises one. A release judged from its licences shows
    no alarms through its API: only an alarm that reached the event source counts there."""
    node = status_node or {}
    alarms = [alarm for alarm in node.get('alarms') or [] if isinstance(alarm, dict)]
    grace = node.get('grace') or {}
    licences = from_licences(node)
    source = ('alarms from the system, through the event source (this release shows none through its API)' if licences
              else 'read from the link status resource (subscriptionstatus)')
    received = node.get('alarm') or {}
    if not alarms and licences:
        if received.get('kind') == 'cleared':
            return checks.result('alarms.active', checks.PASS, measured=0, limit=0, unit='alarms', evidence=source, alarms=[],
                                 summary='the system cleared its alarm at %s: the link is back' % (received.get('raised') or '?'))
        return checks.result('alarms.active', checks.NOT_MEASURED, measured=None, limit=0, unit='alarms', evidence=source, alarms=[],
                             summary='%sthis release shows no alarms through its API; they reach the event source when the system\'s '
                                     'alarm settings name it (docs/monitor.md)' % ('in error mode, but ' if grace.get('in_error_mode') else ''))
    if not alarms:
        return checks.result('alarms.active', checks.PASS, measured=0, limit=0, unit='alarms', summary='no active alarms', alarms=[],
                             evidence=source)
    days = sorted(alarm.get('day') for alarm in alarms if isinstance(alarm.get('day'), int))
    latest = max(alarms, key=lambda alarm: alarm.get('day') if isinstance(alarm.get('day'), int) else 0)
    span = ('day %d' % days[0] if len(days) == 1 else 'days %d..%d' % (days[0], days[-1])) if days else '%d alarms' % len(alarms)
    return checks.result('alarms.active', checks.FAIL, measured=len(alarms), limit=0, unit='alarms',
                         summary='%s: %s' % (span, latest.get('text') or 'alarm'),
                         hint='the system raises an alarm every day of error mode (latest: "%s"); %s' % (latest.get('text') or '?', _RECONNECT),
                         alarms=alarms, evidence=source)


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
               'licence_status': status, 'reference_date': today.isoformat() if today else None,
               'evidence': 'read from the documented licences (licenses: Status, ExpiryDate)'}
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
    """Every monitoring check of one link-holding node: link (and its licences when connected), grace period, alarms,
    then each entitlement.

    Days left are counted from reference_date(): the device's date, else fallback_today.
    """
    if warning_days is None or int(warning_days) < 0:
        raise ValueError('the expiry warning must be 0 days or more, got %r' % (warning_days,))
    results = [link_check(status_node)]
    if link_status.judge_link(status_node)['connected']:
        results.append(licences_check(status_node))
    if status_node:
        today = reference_date(status_node, fallback_today)[0]
        results += [grace_check(status_node), alarms_check(status_node)]
        results += entitlement_checks(status_node, int(warning_days), today)
    return results
