# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one result format of every readiness check, and how results add up.

A check says what it measured, against which limit, whether that passed, and
how to fix it when not. Where the path offers nothing to measure against, the
status is "not_measured", never "pass": a report must not claim what nobody
measured.
"""

from __future__ import annotations

PASS = 'pass'
FAIL = 'fail'
NOT_MEASURED = 'not_measured'
STATUSES = (PASS, FAIL, NOT_MEASURED)


def result(name, status, measured=None, limit=None, unit=None, hint=None, summary=None, **details):
    """One check's result.

    name: stable identifier, e.g. "dns.server_address" or "ports.443".
    status: pass, fail or not_measured.
    measured / limit / unit: the value found and the bound it is held to.
    hint: what to fix (required when status is fail).
    summary: one line for people; details: anything else, JSON-able.
    """
    if status not in STATUSES:
        raise ValueError('check status must be one of %s, got %r' % (', '.join(STATUSES), status))
    if status == FAIL and not hint:
        raise ValueError('check %s failed without a fix hint' % name)
    return {
        'check': name,
        'status': status,
        'passed': {PASS: True, FAIL: False}.get(status),
        'measured': measured,
        'limit': limit,
        'unit': unit,
        'summary': summary or '',
        'hint': hint if status != PASS else None,
        'details': details,
    }


def passed_if(name, ok, measured=None, limit=None, unit=None, hint=None, summary=None, **details):
    """A result that passes when ok is true, else fails with hint."""
    return result(name, PASS if ok else FAIL, measured, limit, unit, hint, summary, **details)


def add_up(results):
    """{'passed': bool, 'failed': [names], 'not_measured': [names], 'counts': {...}} over a list of results.

    passed is true only when nothing failed; not_measured results do not fail a
    run, but they are listed so a report can say what was not measured.
    """
    failed = [item['check'] for item in results if item['status'] == FAIL]
    unmeasured = [item['check'] for item in results if item['status'] == NOT_MEASURED]
    counts = dict((status, sum(1 for item in results if item['status'] == status)) for status in STATUSES)
    return {'passed': not failed, 'failed': failed, 'not_measured': unmeasured, 'counts': counts}


def unmeasured_text(results, names):
    """"not measured: a (why); b (why)" for the checks named, each with its summary's reason."""
    found = dict((item['check'], item) for item in results)
    reasons = []
    for name in names:
        summary = (found.get(name) or {}).get('summary') or 'no reason given'
        reasons.append('%s (%s)' % (name, summary[len('not measured: '):] if summary.startswith('not measured: ') else summary))
    return 'not measured: %s' % '; '.join(reasons)


def module_outcome(results, kind):
    """What a check module returns about its results: add_up's summary plus msg.

    Ansible turns a result's "failed" into the task's failure and keeps only its
    truth, so "failed" is a bool and the names travel as "failed_checks". A
    failed check fails the task, with msg naming each one and its hint.
    """
    summary = add_up(results)
    outcome = {
        'passed': summary['passed'],
        'failed': not summary['passed'],
        'failed_checks': summary['failed'],
        'not_measured': summary['not_measured'],
        'counts': summary['counts'],
    }
    if summary['passed']:
        unmeasured = summary['not_measured']
        outcome['msg'] = 'no %s check failed (%d checks)%s' % (kind, len(results), '; not measured: %s' % ', '.join(unmeasured) if unmeasured else '')
    else:
        failing = [item for item in results if item['status'] == FAIL]
        outcome['msg'] = 'failed: %s' % '; '.join('%s (%s)' % (item['check'], item['hint']) for item in failing)
    return outcome
