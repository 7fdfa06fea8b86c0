# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The checks of a readiness or monitoring report as JUnit XML, for CI systems and dashboards.

One test suite per system, one test case per check: a failed check is a <failure> whose message is the
fix hint, a check nobody could measure is <skipped> with the reason, a passed check is a plain test case.
The system's verdict, link and pending reboot are properties of its suite. Pure: the report document in,
the XML text out (xml.etree, so every value is escaped).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks

# XML 1.0 allows no control characters but tab, newline and carriage return.
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def _text(value):
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (list, tuple)):
        return ', '.join(_text(item) for item in value)
    return _NOT_XML.sub('?', str(value))


def _details(item):
    """measured / limit / evidence / where, one per line, for the test case's body."""
    unit = item.get('unit')
    lines = [item.get('summary') or '']
    for label, key in (('measured', 'measured'), ('limit', 'limit')):
        if item.get(key) not in (None, ''):
            lines.append('%s: %s%s' % (label, _text(item[key]), ' %s' % unit if unit else ''))
    evidence = (item.get('details') or {}).get('evidence')
    if evidence:
        lines.append('evidence: %s' % evidence)
    if item.get('vantage_point'):
        lines.append('measured from: %s' % item['vantage_point'])
    return _text('\n'.join(line for line in lines if line))


def to_junit(doc, verdict_text=None):
    """The JUnit XML text of a report document (readiness.document)."""
    verdict_text = verdict_text or {}
    reports = doc.get('systems') or []
    suites = ET.Element('testsuites', name=_text(doc.get('title') or 'IP Office subscription report'))
    totals = {'tests': 0, 'failures': 0, 'skipped': 0}
    for report in reports:
        system = report.get('system') or report.get('inventory_host') or '?'
        items = report.get('checks') or []
        counts = {
            'tests': len(items),
            'failures': sum(1 for item in items if item['status'] == checks.FAIL),
            'skipped': sum(1 for item in items if item['status'] == checks.NOT_MEASURED),
        }
        for key in totals:
            totals[key] += counts[key]
        suite = ET.SubElement(suites, 'testsuite', name=_text(system), tests=str(counts['tests']), failures=str(counts['failures']),
                              errors='0', skipped=str(counts['skipped']), hostname=_text(report.get('inventory_host') or ''))
        if doc.get('generated'):
            suite.set('timestamp', _text(doc['generated']).rstrip('Z'))
        properties = ET.SubElement(suite, 'properties')
        link = report.get('link') or {}
        for name, value in (('verdict', report.get('verdict')), ('verdict_text', verdict_text.get(report.get('verdict'), report.get('verdict'))),
                            ('node_address', report.get('node_address')), ('inventory_host', report.get('inventory_host')),
                            ('system_type', report.get('system_type')), ('role', report.get('role')),
                            ('link_state', link.get('state')), ('link_port', link.get('port')),
                            ('reboot_pending', report.get('reboot_pending'))):
            if value is not None:
                ET.SubElement(properties, 'property', name=name, value=_text(value))
        for note in report.get('notes') or []:
            ET.SubElement(properties, 'property', name='note', value=_text(note))
        for item in items:
            case = ET.SubElement(suite, 'testcase', name=_text(item['check']), classname=_text(system))
            if item['status'] == checks.FAIL:
                failure = ET.SubElement(case, 'failure', message=_text(item.get('hint') or item.get('summary') or 'failed'), type='fail')
                failure.text = _details(item)
            elif item['status'] == checks.NOT_MEASURED:
                ET.SubElement(case, 'skipped', message=_text('not measured: %s' % (item.get('summary') or 'nothing could measure it')))
            else:
                body = _details(item)
                if body:
                    ET.SubElement(case, 'system-out').text = body
    for key, count in totals.items():
        suites.set(key, str(count))
    suites.set('errors', '0')
    if hasattr(ET, 'indent'):
        ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding='unicode') + '\n'
