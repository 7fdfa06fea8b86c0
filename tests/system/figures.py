# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Figures for docs/reliability.md, recorded by the reliability tests as they run.

Each call appends one JSON line to <dir>/<area>-<worker>.jsonl, where <dir> is
$IPOFFICE_FIGURES_DIR (scripts/test sets it under its output folder) or
tests/output/figures. `python tests/system/figures.py [DIR]` sums them up as the
Markdown tables that docs/reliability.md quotes. A record is written only after
the test's own assertions passed, so the figures count what was proven.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def figures_dir():
    return os.environ.get('IPOFFICE_FIGURES_DIR') or os.path.join(REPO, 'tests', 'output', 'figures')


def record(area, **fields):
    """Append one record of `area` (faults, bad_input, secrets, lockout, tls, concurrency, ...)."""
    folder = figures_dir()
    os.makedirs(folder, exist_ok=True)
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'main')
    with open(os.path.join(folder, '%s-%s.jsonl' % (area, worker)), 'a') as handle:
        handle.write(json.dumps(dict(fields, area=area), sort_keys=True) + '\n')


def excerpt(text, fragment, limit=160):
    """The line (or quoted message) of `text` that holds `fragment`, as it was printed: a record says what the run
    said, not what the test looked for. None when the fragment is not there."""
    index = text.find(fragment)
    if index < 0:
        return None
    start = max(text.rfind(mark, 0, index) for mark in ('\n', '"')) + 1
    ends = [position for position in (text.find(mark, index + len(fragment)) for mark in ('\n', '"')) if position >= 0]
    clause = text[start:min(ends) if ends else len(text)].strip()
    if len(clause) > limit:
        # Too long for a table: from the start of the sentence or clause that holds the fragment, cut at a word.
        at = clause.find(fragment)
        clause = clause[max([0] + [clause.rfind(mark, 0, at) + len(mark) for mark in ('; ', '. ', ': ')
                                   if clause.rfind(mark, 0, at) >= 0]):]
        if len(clause) > limit:
            clause = clause[:max(limit, clause.find(fragment) + len(fragment))].rsplit(' ', 1)[0] + ' ...'
    return clause


def load(folder=None):
    """{area: [record, ...]} from every file in the folder."""
    areas = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder or figures_dir(), '*.jsonl'))):
        with open(path) as handle:
            for line in handle:
                if line.strip():
                    item = json.loads(line)
                    areas[item['area']].append(item)
    return areas


def _cell(value):
    """A table cell: one line, no column break, and no HTML (a device's error page quoted in a message stays text)."""
    return str(value).replace('|', '\\|').replace('\n', ' ').replace('<', '&lt;').replace('>', '&gt;')


def markdown(areas):
    """One table per area: the records' keys as columns, in first-seen order."""
    parts = []
    for area in sorted(areas):
        rows = areas[area]
        columns = []
        for row in rows:
            columns.extend(key for key in row if key != 'area' and key not in columns)
        parts.append('### %s (%d)\n' % (area, len(rows)))
        parts.append('| ' + ' | '.join(columns) + ' |')
        parts.append('|' + '---|' * len(columns))
        for row in rows:
            parts.append('| ' + ' | '.join(_cell(row.get(key, '')) for key in columns) + ' |')
        parts.append('')
    return '\n'.join(parts)


if __name__ == '__main__':
    print(markdown(load(sys.argv[1] if len(sys.argv) > 1 else None)))
