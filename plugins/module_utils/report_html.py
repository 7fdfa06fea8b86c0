# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTML page of a readiness or monitoring report: one Jinja2 template and the values it shows, written for people.

The page is built for a fleet of hundreds: a summary table first (one row per system, failing systems first,
a column per area, each cell linking to the area's first check in the system's section), then what blocks
the rest, then every system in detail. Values read as a person writes them: units, thousands separators,
singular or plural, yes or no, words instead of codes.

The template is text in this file, not a .j2 file beside it: Ansible ships only the module_utils Python
files with a module. It is rendered with autoescaping, so nothing from a device reaches the page unescaped.
Pure functions over the report document (readiness.document); jinja2 comes with ansible-core.
"""

from __future__ import annotations

import re
import traceback

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, profiles

try:
    from jinja2 import Environment
except ImportError:  # pragma: no cover - jinja2 is a requirement of ansible-core
    Environment = None
    JINJA2_IMPORT_ERROR = traceback.format_exc()
else:
    JINJA2_IMPORT_ERROR = None

HAS_JINJA2 = Environment is not None

# -- areas: the columns of the summary table ----------------------------------------------------------------------

# (key, heading, check names or prefixes that belong to it). The first area that claims a check holds it.
READINESS_AREAS = (
    ('route', 'route', ('prerequisite.default_route',)),
    ('dns', 'DNS', ('prerequisite.dns_server', 'dns.')),
    ('time', 'time', ('prerequisite.time_source', 'prerequisite.time_zone', 'time.')),
    ('ports', 'ports', ('ports.',)),
    ('tls', 'TLS', ('tls.',)),
    ('quality', 'link quality', ('quality.',)),
    ('link', 'link', ('link.', 'prerequisite.customer_id', 'prerequisite.server_address', 'prerequisite.comadmin')),
)
MONITORING_AREAS = (
    ('link', 'link', ('link.',)),
    ('grace', 'grace period', ('grace.',)),
    ('alarms', 'alarms', ('alarms.',)),
    ('subscriptions', 'subscriptions', ('entitlement.',)),
)
# Shown only when some system has a check there: reading the API or reaching the probe host, and anything else.
ACCESS_AREA = ('access', 'API / probe host', ('api.', 'probe.'))
OTHER_AREA = ('other', 'other checks', ('',))
REBOOT_CHECK = 'reboot.pending'

# Colours of the verdicts; a verdict without one (a new code) gets NEUTRAL, and still its own CSS class.
VERDICT_COLOURS = {'ready': '#2e7d32', 'not_ready': '#c62828', 'unverified': '#ef6c00', 'no_link_expected': '#78909c'}
NEUTRAL = '#8d6e00'
OPTIONAL_TILES = ('unverified',)

_STATUS_TEXT = {checks.PASS: 'pass', checks.FAIL: 'FAIL', checks.NOT_MEASURED: 'not measured'}
_STATUS_RANK = {checks.FAIL: 0, checks.NOT_MEASURED: 1, checks.PASS: 2}
_STEP_CLASS = {profiles.CONFIRMED: checks.PASS, profiles.ENTERED: checks.NOT_MEASURED, profiles.OPEN: checks.FAIL}

# -- values for people --------------------------------------------------------------------------------------------

_SINGULAR = {'addresses': 'address', 'days': 'day', 'alarms': 'alarm', 'systems': 'system', 'ports': 'port'}
_CODE = re.compile(r'^[a-z]+(?:_[a-z0-9]+)+$')


def plural(count, word):
    """'1 address', '2 addresses', '1 system', '0 systems'."""
    return '%s %s' % (count, _SINGULAR.get(word, word) if count == 1 else word)


def number(value, separators=True):
    """A number as people write it: 443,445.9 -> '443,446'; 0.0123 -> '0.012'; -0.0 -> '0'; 2.50 -> '2.5'."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, int):
        return '{:,}'.format(value) if separators else str(value)
    size = abs(value)
    places = 0 if size >= 1000 else 1 if size >= 1 else 3
    text = ('{:,.%df}' if separators else '{:.%df}') % places
    text = text.format(value)
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    if text.lstrip('-') in ('0', ''):
        return '0'
    return text


def words(value):
    """A value's text without program codes: True -> 'yes', 'not_applicable' -> 'not applicable'."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, str) and _CODE.match(value):
        return value.replace('_', ' ')
    return str(value)


def value(item, unit=None):
    """A measured value or limit with its unit; '-' for nothing. Numbers get separators only with a unit (not ports)."""
    if item is None or item == '':
        return '-'
    if isinstance(item, (list, tuple)):
        return ', '.join(value(part) for part in item) if item else 'none'
    if isinstance(item, dict):
        return ', '.join('%s %s' % (words(key), value(part)) for key, part in item.items()) or 'none'
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        text = number(item, separators=bool(unit))
        if not unit:
            return text
        return '%s %s' % (text, _SINGULAR.get(unit, unit) if item == 1 else unit)
    text = words(item)
    return '%s %s' % (text, unit) if unit else text


# -- the page's model ---------------------------------------------------------------------------------------------

def _area_of(name, areas):
    for key, _heading, claims in areas:
        if any(name == claim or (claim.endswith('.') or claim == '') and name.startswith(claim) for claim in claims):
            return key
    return None


def _worst(items):
    return min((item['status'] for item in items), key=lambda status: _STATUS_RANK.get(status, 3))


def _cell(area, items, anchor):
    """One summary cell: the worst status of the area's checks, in words, linking to the area's first check."""
    if not items:
        return {'area': area, 'status': 'none', 'text': '-', 'title': 'no check of this area for this system', 'href': anchor}
    status = _worst(items)
    failed = [item for item in items if item['status'] == checks.FAIL]
    unmeasured = [item for item in items if item['status'] == checks.NOT_MEASURED]
    if status == checks.FAIL:
        text = 'FAIL' if len(failed) == 1 else '%d FAIL' % len(failed)
        first = failed[0]
        title = '%s: %s' % (first['check'], first.get('hint') or first.get('summary') or '')
    elif status == checks.NOT_MEASURED:
        text = 'not measured'
        title = '%s: %s' % (unmeasured[0]['check'], unmeasured[0].get('summary') or 'not measured')
    else:
        text = 'ok'
        title = plural(len(items), 'checks') + ' passed'
    return {'area': area, 'status': status, 'text': text, 'title': title, 'href': anchor}


def _steps_cell(steps, anchor):
    if not steps:
        return {'area': 'manual', 'status': 'none', 'text': 'none', 'title': 'no manual step', 'href': anchor}
    by_status = dict((status, [step for step in steps if step.get('status') == status])
                     for status in (profiles.OPEN, profiles.ENTERED, profiles.CONFIRMED))
    for status in (profiles.OPEN, profiles.ENTERED, profiles.CONFIRMED):
        if by_status[status]:
            labels = ', '.join(step.get('label') or step.get('setting') or '?' for step in by_status[status])
            return {'area': 'manual', 'status': _STEP_CLASS[status], 'text': '%d %s' % (len(by_status[status]), status),
                    'title': '%s %s: %s' % (plural(len(by_status[status]), 'steps'), status, labels), 'href': anchor}
    return {'area': 'manual', 'status': 'none', 'text': plural(len(steps), 'steps'), 'title': '', 'href': anchor}


def _reboot_cell(pending, anchor):
    if pending is True:
        return {'area': 'reboot', 'status': checks.FAIL, 'text': 'reboot pending', 'title': 'a change of this run acts only after a reboot',
                'href': anchor, 'badge': True}
    if pending is False:
        return {'area': 'reboot', 'status': 'none', 'text': 'no', 'title': 'no change waits for a reboot', 'href': anchor}
    return {'area': 'reboot', 'status': checks.NOT_MEASURED, 'text': 'unknown', 'title': 'the system could not be read', 'href': anchor}


def _css_code(code):
    return re.sub(r'[^a-z0-9_-]', '-', str(code or 'unknown').lower())


def _verdict_text(code, verdicts):
    return verdicts.get(code) or words(code or 'unknown')


def _check_row(item, anchor):
    status = item['status']
    advice = item.get('hint') if status == checks.FAIL else item.get('summary')
    return {
        'id': anchor, 'check': item['check'], 'status': status, 'status_text': _STATUS_TEXT.get(status, words(status)),
        'measured': value(item.get('measured'), item.get('unit')), 'limit': value(item.get('limit'), item.get('unit')),
        'advice': advice or '', 'evidence': (item.get('details') or {}).get('evidence') or '', 'from': item.get('vantage_point'),
    }


def _step_row(step):
    edit = ', '.join(word for flag, word in ((step.get('offline'), 'offline'), (step.get('reboot'), 'reboot')) if flag) or 'online'
    shown = value(step.get('value'))
    if step.get('note'):
        shown = '%s (%s)' % (shown, step['note'])
    return {'class': _STEP_CLASS.get(step.get('status'), ''), 'where': step.get('where') or '', 'label': step.get('label') or '',
            'value': shown, 'edit': edit, 'status': words(step.get('status') or ''), 'evidence': step.get('evidence') or ''}


def _some(names, limit=12):
    """The first names and how many more: a blocker of 200 systems stays one line."""
    shown = ', '.join(names[:limit])
    return shown if len(names) <= limit else '%s and %d more' % (shown, len(names) - limit)


def page_model(doc, words_of_kind, verdict_text, controller_warning, monitoring_kind):
    """Everything the template shows, as text and CSS class names; the template adds no logic of its own."""
    reports = doc.get('systems') or []
    base = MONITORING_AREAS if monitoring_kind else READINESS_AREAS
    optional = (READINESS_AREAS + (ACCESS_AREA,) if monitoring_kind else (ACCESS_AREA,))
    claimed = base + tuple(area for area in optional if area[0] not in dict((key, 1) for key, _h, _c in base)) + (OTHER_AREA,)
    verdicts = dict(verdict_text)
    verdicts.update(words_of_kind['verdicts'])
    # Which areas any system has a check in: the fixed areas of the kind always, the others only when used.
    used = set()
    for report in reports:
        for item in report.get('checks') or []:
            if item['check'] != REBOOT_CHECK:
                used.add(_area_of(item['check'], claimed))
    areas = [area for area in claimed if area in base or area[0] in used]
    keys = [key for key, _heading, _claims in areas]
    show_steps = not monitoring_kind or any(report.get('manual_steps') for report in reports)
    show_reboot = not monitoring_kind or any(report.get('reboot_pending') for report in reports)
    rows, systems = [], []
    for index, report in enumerate(reports, 1):
        anchor = 'system-%d' % index
        verdict = report.get('verdict')
        by_area = dict((key, []) for key in keys)
        details, seen = [], set()
        for item in report.get('checks') or []:
            key = 'reboot' if item['check'] == REBOOT_CHECK else _area_of(item['check'], areas)
            row_anchor = None
            if key not in seen:
                seen.add(key)
                row_anchor = '%s-%s' % (anchor, key)
            if key in by_area:
                by_area[key].append(item)
            details.append(_check_row(item, row_anchor))
        cells = [_cell(key, by_area[key], '%s-%s' % (anchor, key) if by_area[key] else anchor) for key in keys]
        steps = report.get('manual_steps') or []
        if show_steps:
            cells.append(_steps_cell(steps, '%s-manual' % anchor if steps else anchor))
        if show_reboot:
            cells.append(_reboot_cell(report.get('reboot_pending'), '%s-reboot' % anchor if 'reboot' in seen else anchor))
        name = report.get('system') or report.get('inventory_host') or '?'
        link = report.get('link') or {}
        state = value(link.get('state')) if link.get('state') else 'unknown'
        rows.append({'id': anchor, 'name': name, 'address': report.get('node_address') or '', 'verdict': _css_code(verdict),
                     'verdict_text': _verdict_text(verdict, verdicts), 'cells': cells})
        systems.append({
            'id': anchor, 'name': name, 'verdict': _css_code(verdict), 'verdict_text': _verdict_text(verdict, verdicts),
            'reboot_pending': report.get('reboot_pending') is True,
            'meta': '%s, %s, LAN1 %s, inventory host %s; link: %s%s' % (
                report.get('system_type') or 'type unknown', report.get('role') or 'role unknown', report.get('node_address') or '-',
                report.get('inventory_host') or '-', state, ' on port %s' % link['port'] if link.get('port') else ''),
            'notes': report.get('notes') or [], 'checks': details, 'steps': [_step_row(step) for step in steps],
            # Nothing failed, but a requirement was not measured: which checks, and why.
            'unverified': checks.unmeasured_text(report.get('checks') or [], report['unmeasured_requirements'])
            if verdict == 'unverified' and report.get('unmeasured_requirements') else '',
        })
    headings = [heading for _key, heading, _claims in areas]
    if show_steps:
        headings.append('manual steps')
    if show_reboot:
        headings.append('pending reboot')
    codes = list(verdicts)
    codes.extend(code for code in (report.get('verdict') for report in reports) if code not in codes)
    # A verdict whose tile is optional (unverified) shows only when a system has it: the first screen stays for the table.
    tiles = [{'code': _css_code(code), 'count': sum(1 for report in reports if report.get('verdict') == code),
              'label': words_of_kind['tiles'].get(code) or _verdict_text(code, verdicts)} for code in codes
             if (code in words_of_kind['tiles'] and code not in OPTIONAL_TILES) or any(report.get('verdict') == code for report in reports)]
    fleet = doc.get('fleet') or {}
    by_name = dict((report.get('system'), report) for report in reports)
    blockers = []
    for blocker in fleet.get('blockers') or []:
        names = blocker.get('systems') or []
        example = [item for item in (by_name.get(names[0]) or {}).get('checks') or [] if item['check'] == blocker['check']] if names else []
        blockers.append({'check': blocker['check'], 'count': plural(len(names), 'systems'), 'systems': _some(names),
                         'hint': (example[0].get('hint') or '') if example else '', 'example': names[0] if names else ''})
    timeline = []
    for row in doc.get('timeline') or []:
        stops = row.get('telephony_stops') or ('%s at the latest' % row['telephony_stops_by'] if row.get('telephony_stops_by') else 'unknown')
        timeline.append({'system': row.get('system') or '', 'began': row.get('began') or '', 'stops': stops,
                         'days_left': value(row.get('days_left'), 'days'), 'how': row.get('how') or ''})
    controller = fleet.get('checked_from_controller') or []
    return {
        'title': words_of_kind['title'], 'generated': doc.get('generated') or '', 'tiles': tiles,
        'controller': plural(len(controller), 'systems') if controller else '', 'controller_warning': controller_warning,
        'headings': headings, 'rows': rows, 'systems': systems, 'blockers_title': words_of_kind['blockers'], 'blockers': blockers,
        'timeline': timeline,
        'verdict_colours': [(code, VERDICT_COLOURS.get(code, NEUTRAL)) for code in dict.fromkeys(_css_code(code) for code in codes)],
    }


TEMPLATE = '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1em 2em;color:#1b1b1b;background:#fafafa}
h1{margin:.2em 0} .meta{color:#555;margin:.2em 0}
.fleet{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0}
.tile{padding:.4em 1em;border-radius:6px;background:#fff;border:1px solid #ddd;border-top:4px solid #999;min-width:7em}
.tile b{display:block;font-size:1.5em}
.vantage{background:#fff3e0;border:1px solid #ef6c00;border-radius:6px;padding:.5em 1em;font-weight:bold;margin:.6em 0}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{text-align:left;padding:.3em .55em;border-bottom:1px solid #eee;vertical-align:top}
table.summary{background:#fff;font-size:.9em}
table.summary thead th{position:sticky;top:0;background:#eceff1;white-space:nowrap}
table.summary td,table.summary th{white-space:nowrap}
table.summary a{color:inherit;text-decoration:none;display:block}
table.summary a:hover{text-decoration:underline}
td.cell.fail{background:#ffcdd2;color:#b71c1c;font-weight:bold} td.cell.not_measured{background:#fff8e1;color:#8d6e00}
td.cell.pass{background:#f1f8e9;color:#1b5e20} td.cell.none{color:#777}
.verdict{font-weight:bold;padding:.1em .5em;border-radius:4px;color:#fff;white-space:nowrap}
.badge{font-weight:bold;padding:.1em .5em;border-radius:4px;white-space:nowrap}
.badge.reboot{background:#4a148c;color:#fff}
{% for code, colour in verdict_colours -%}
.verdict.v-{{ code }}{background:{{ colour }}} section.v-{{ code }}{border-left-color:{{ colour }}}
.tile.v-{{ code }}{border-top-color:{{ colour }}}
{% endfor -%}
section.system{background:#fff;border:1px solid #ddd;border-left:8px solid #999;border-radius:6px;margin:1.2em 0;padding:.6em 1.2em}
tr.fail td{background:#ffebee} tr.pass td{background:#f1f8e9} tr.not_measured td{background:#fff8e1}
td.status{font-weight:bold;white-space:nowrap}
tr.fail td.status{color:#b71c1c} tr.pass td.status{color:#1b5e20} tr.not_measured td.status{color:#8d6e00}
ul.blockers li{margin:.2em 0} .notes{color:#444} .hint{color:#444} p.unverified{color:#8d4a00;font-weight:bold}
td.from{color:#555;font-size:.9em} td.advice{min-width:22em}
:target{outline:3px solid #1565c0}
</style></head>
<body>
<h1>{{ title }}</h1>
<p class="meta">Generated {{ generated }} by ipoffice.subscription</p>
<div class="fleet" id="fleet">
{% for tile in tiles %}<div class="tile v-{{ tile.code }}"><b>{{ tile.count }}</b>{{ tile.label }}</div>
{% endfor %}</div>
{% if controller %}<p class="vantage" id="vantage">{{ controller }} checked from the controller: {{ controller_warning }}</p>
{% endif %}
<table class="summary" id="summary">
<thead><tr><th>system</th><th>verdict</th>{% for heading in headings %}<th>{{ heading }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows -%}
<tr class="v-{{ row.verdict }}">
<th scope="row"><a href="#{{ row.id }}" title="{{ row.address }}">{{ row.name }}</a></th>
<td><a href="#{{ row.id }}"><span class="verdict v-{{ row.verdict }}">{{ row.verdict_text }}</span></a></td>
{% for cell in row.cells -%}
<td class="cell {{ cell.status }}" title="{{ cell.title }}"><a href="#{{ cell.href }}">
{%- if cell.badge %}<span class="badge reboot">{{ cell.text }}</span>{% else %}{{ cell.text }}{% endif -%}
</a></td>
{% endfor -%}
</tr>
{% endfor %}</tbody></table>
{% if blockers %}<h2>{{ blockers_title }}</h2>
<ul class="blockers">
{% for blocker in blockers %}<li><b>{{ blocker.check }}</b> ({{ blocker.count }}: {{ blocker.systems }})
{%- if blocker.hint %}<br><span class="hint">what to do (on {{ blocker.example }}): {{ blocker.hint }}</span>{% endif %}</li>
{% endfor %}</ul>
{% endif %}
{% if timeline %}<h2>Error mode: when telephony stops</h2>
<table class="timeline"><thead><tr><th>system</th><th>error mode since</th><th>telephony stops</th><th>days left</th>
<th>how it is known</th></tr></thead><tbody>
{% for row in timeline -%}
<tr class="fail"><td>{{ row.system }}</td><td>{{ row.began }}</td><td>{{ row.stops }}</td><td>{{ row.days_left }}</td>
<td>{{ row.how }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
{% for system in systems %}<section class="system v-{{ system.verdict }}" id="{{ system.id }}">
<h2>{{ system.name }} <span class="verdict v-{{ system.verdict }}">{{ system.verdict_text }}</span>
{%- if system.reboot_pending %} <span class="badge reboot" id="{{ system.id }}-badge">reboot pending</span>{% endif %}</h2>
<p class="meta">{{ system.meta }}</p>
{% if system.unverified %}<p class="unverified">Unverified: nothing failed, but not everything was measured: {{ system.unverified }}</p>
{% endif %}
{%- if system.notes %}<p class="notes">{% for note in system.notes %}{{ note }}{% if not loop.last %}<br>{% endif %}{% endfor %}</p>
{% endif %}
{%- if system.checks %}<table><thead><tr><th>check</th><th>status</th><th>measured</th><th>limit</th>
<th>what it means / what to do</th><th>evidence</th><th>measured from</th></tr></thead><tbody>
{% for item in system.checks -%}
<tr class="{{ item.status }}"{% if item.id %} id="{{ item.id }}"{% endif %}><td>{{ item.check }}</td>
<td class="status">{{ item.status_text }}</td><td>{{ item.measured }}</td><td>{{ item.limit }}</td>
<td class="advice">{{ item.advice }}</td><td>{{ item.evidence }}</td><td class="from">{{ item.from or '' }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
{%- if system.steps %}<h3 id="{{ system.id }}-manual">Manual steps in Web Manager</h3>
<table class="manual"><thead><tr><th>where</th><th>label</th><th>value</th><th>edit</th><th>status</th><th>evidence</th></tr></thead><tbody>
{% for step in system.steps -%}
<tr class="{{ step.class }}"><td>{{ step.where }}</td><td>{{ step.label }}</td><td>{{ step.value }}</td><td>{{ step.edit }}</td>
<td class="status">{{ step.status }}</td><td>{{ step.evidence }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
</section>
{% endfor %}</body></html>
'''


def render(model):
    """The page for page_model's model. Raises RuntimeError when jinja2 is missing (the module says so)."""
    if not HAS_JINJA2:
        raise RuntimeError('the HTML report needs the Python library jinja2 (part of ansible-core): %s' % JINJA2_IMPORT_ERROR)
    environment = Environment(autoescape=True, keep_trailing_newline=True, trim_blocks=False)
    return environment.from_string(TEMPLATE).render(**model)
