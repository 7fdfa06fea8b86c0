# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The monitor's history: one JSON line per system per run, and the fleet's error-mode timeline.

A scheduled monitor sees a system at one moment. Kept over runs, its verdicts
say more: when a system judged only from its licences was first seen in
error mode (and last seen healthy), so the date telephony stops has an upper
bound even when nothing measured the start; and an error mode that an alarm
measured stays measured in later runs without an alarm. Pure functions over
the monitoring report (readiness.document, kind monitoring) and the parsed
lines, so the readiness_report module only reads and appends the file.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.ipoffice.subscription.plugins.module_utils import monitoring

# Verdicts of a system in error mode, and those that end an episode of it.
IN_ERROR = ('error_mode', 'expired')
HEALTHY = ('connected',)
VERSION = 1


def parse_lines(text):
    """(entries, number of lines that are not history entries): a damaged line is skipped, never fatal."""
    entries, bad = [], 0
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(item, dict) and item.get('system') and item.get('time'):
            entries.append(item)
        else:
            bad += 1
    return entries, bad


def _check(report, name):
    found = [item for item in report.get('checks') or [] if item.get('check') == name]
    return found[0] if found else {}


def entry(report, time, alarm=None):
    """One history line for one system's entry of the monitoring report; None for a system without a link of its own.

    alarm: the alarm that started the run (the event source's payload); kept on the line of the system that raised it."""
    if report.get('holds_subscription_link') is False:
        return None
    alarm = alarm or {}
    mine = alarm and (alarm.get('system') == report.get('system') or (alarm.get('address') and alarm.get('address') == report.get('node_address')))
    link = _check(report, 'link.state')
    grace = _check(report, 'grace.days_left')
    details = link.get('details') or {}
    grace_details = grace.get('details') or {}
    return {
        'v': VERSION,
        'time': time,
        'inventory_host': report.get('inventory_host'),
        'system': report.get('system'),
        'node_address': report.get('node_address'),
        'verdict': report.get('verdict'),
        'state': (report.get('link') or {}).get('state'),
        'evidence': details.get('evidence'),
        'error_mode_since': details.get('error_mode_since'),
        'grace_ends': details.get('grace_ends') or grace_details.get('grace_ends'),
        'days_left': grace.get('measured') if grace.get('status') != 'not_measured' else None,
        'days_measured_by': grace_details.get('measured_by'),
        'failed_checks': report.get('failed_checks') or [],
        'alarm': dict((key, alarm.get(key)) for key in ('kind', 'reason', 'grace_day', 'raised')) if mine else None,
    }


def entries(doc, time):
    return [item for item in (entry(report, time, doc.get('alarm')) for report in doc.get('systems') or []) if item]


def _key(item):
    return (item.get('inventory_host'), item.get('system'))


def episode(history, host, system):
    """The error mode a system is in by the history, newest entries first: when the monitor first saw it, the last
    run that saw the system healthy before that, and the newest start an alarm or the link status measured.

    None when the newest entry is not in error mode (or there is none)."""
    mine = [item for item in history if _key(item) == (host, system)]
    mine.sort(key=lambda item: item.get('time') or '')
    if not mine or mine[-1].get('state') not in IN_ERROR:
        return None
    found = {'first_seen': None, 'last_healthy': None, 'error_mode_since': None, 'measured_at': None}
    for item in reversed(mine):
        if item.get('state') in IN_ERROR:
            found['first_seen'] = item.get('time')
            if item.get('error_mode_since') and not found['error_mode_since']:
                found['error_mode_since'] = item['error_mode_since']
                found['measured_at'] = item.get('time')
        else:
            if item.get('state') in HEALTHY:
                found['last_healthy'] = item.get('time')
            break
    return found


def _date(stamp):
    parsed = monitoring.parse_timestamp(stamp)
    return parsed.date() if parsed else None


def timeline(doc, history, period_default=monitoring.SEED_GRACE_DAYS):
    """Per system now in error mode or expired: when the error mode began and the date telephony stops, sorted by that
    date (soonest first). history includes this run's entries.

    A start that an alarm or the link status measured gives the date. Otherwise the history bounds it: the error mode
    began after the last run that saw the system healthy and before the first that saw it in error mode, so telephony
    stops no later than that first sighting plus the period."""
    rows = []
    for report in doc.get('systems') or []:
        state = (report.get('link') or {}).get('state')
        if report.get('holds_subscription_link') is False or state not in IN_ERROR:
            continue
        link = _check(report, 'link.state').get('details') or {}
        grace = _check(report, 'grace.days_left')
        period = grace.get('limit') if isinstance(grace.get('limit'), int) else period_default
        seen = episode(history, report.get('inventory_host'), report.get('system')) or {}
        since = link.get('error_mode_since')
        row = {'system': report.get('system'), 'inventory_host': report.get('inventory_host'), 'state': state,
               'error_mode_since': since, 'first_seen': seen.get('first_seen'), 'last_healthy': seen.get('last_healthy'),
               'telephony_stops': None, 'telephony_stops_by': None, 'days_left': None, 'measured': bool(since)}
        if since:
            start = _date(since)
            row['began'] = start.isoformat() if start else since
            ends = link.get('grace_ends') or ((start + datetime.timedelta(days=period)).isoformat() if start else None)
            row['telephony_stops'] = ends
            if grace.get('status') != 'not_measured' and isinstance(grace.get('measured'), int):
                row['days_left'] = grace['measured']
            row['how'] = 'measured (%s)' % ((grace.get('details') or {}).get('measured_by') or 'the link status')
        elif seen.get('first_seen'):
            first = _date(seen['first_seen'])
            healthy = _date(seen.get('last_healthy'))
            row['began'] = ('between %s and %s' % (healthy.isoformat(), first.isoformat()) if healthy
                            else 'on or before %s' % first.isoformat())
            row['telephony_stops_by'] = (first + datetime.timedelta(days=period)).isoformat()
            row['how'] = 'not measured: bounded by the monitor history (first seen in error mode %s)' % seen['first_seen']
        else:
            row['began'] = 'unknown'
            row['how'] = 'not measured: no alarm and no history'
        if state == 'expired':
            row['days_left'] = 0
        rows.append(row)
    return sorted(rows, key=lambda row: (row['telephony_stops'] or row['telephony_stops_by'] or '9999-12-31', row['system'] or ''))


def timeline_lines(rows):
    """One line per system in error mode, for the play's output."""
    lines = []
    for row in rows:
        if row['telephony_stops']:
            when = 'telephony stops on %s' % row['telephony_stops']
        elif row['telephony_stops_by']:
            when = 'telephony stops on %s at the latest' % row['telephony_stops_by']
        else:
            when = 'telephony stop date unknown'
        if row['state'] == 'expired' and row['telephony_stops']:
            when = 'telephony stopped on %s' % row['telephony_stops']
        lines.append('%s: error mode since %s; %s (%s)' % (row['system'], row['began'], when, row['how']))
    return lines
