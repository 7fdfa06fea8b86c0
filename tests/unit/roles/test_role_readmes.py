# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each role's README.md (which Galaxy shows and galaxy-importer requires) lists
exactly the variables of its meta/argument_specs.yml, with their type, and the
default that defaults/main.yml really applies."""

from __future__ import annotations

import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ROLES = sorted(os.listdir(os.path.join(ROOT, 'roles')))
# A table row: | `name` | type | default | what |
ROW = re.compile(r'^\| `(?P<name>[a-z0-9_]+)` \| (?P<type>[a-z]+) \| (?P<default>[^|]*) \|')


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _readme_rows(role):
    with open(os.path.join(ROOT, 'roles', role, 'README.md'), encoding='utf-8') as handle:
        return dict((m.group('name'), m) for m in (ROW.match(line) for line in handle) if m)


def _accepted(value):
    """The spellings a README may give for a default: the value itself, or for a
    template, any variable or literal it falls back to."""
    if isinstance(value, str) and '{{' in value:
        return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*|'[^']*'", value)) | set(
            literal.strip("'") for literal in re.findall(r"'[^']*'", value)) | {value.rsplit('}}', 1)[-1].strip('/')}
    if value == '':
        return {'""'}
    if isinstance(value, bool):
        return {str(value).lower()}
    if isinstance(value, list):
        return {'[%s]' % ', '.join(str(item) for item in value)}
    if isinstance(value, dict) and not value:
        return {'{}'}
    return {str(value)}


@pytest.mark.parametrize('role', ROLES)
def test_the_readme_lists_every_variable_with_its_type_and_default(role):
    options = _yaml('roles', role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _yaml('roles', role, 'defaults', 'main.yml') or {}
    rows = _readme_rows(role)
    assert sorted(rows) == sorted(options), 'README.md of %s and its argument specs list different variables' % role
    for name, option in options.items():
        row = rows[name]
        assert row.group('type') == option.get('type', 'str'), (role, name)
        cell = row.group('default')
        if option.get('required'):
            assert 'required' in cell, (role, name, cell)
            continue
        # The role's defaults/main.yml is what applies; the spec's default is what ansible-doc shows.
        value = defaults.get(name, option.get('default'))
        assert any(spelling in cell for spelling in _accepted(value)), (role, name, cell, value)
