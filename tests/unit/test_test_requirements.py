# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every test requirement is listed, and no test skips itself when one is missing: a test that cannot run must
fail, not pass by not running."""

from __future__ import annotations

import ast
import os
import re
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
UNIT = os.path.join(ROOT, 'tests', 'unit')
# What ansible-test itself brings into every units run (ansible-core and its dependencies, pytest).
PROVIDED = {'ansible', 'ansible_collections', 'pytest', 'yaml', 'jinja2', 'markupsafe'}
# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {'dns': 'dnspython'}


def _requirements(path):
    names = set()
    with open(path) as handle:
        for line in handle:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                names.add(re.split(r'[<>=!~\[; ]', line, maxsplit=1)[0].lower())
    return names


def _python_files(folder):
    for base, dummy, files in os.walk(folder):
        for name in files:
            if name.endswith('.py'):
                yield os.path.join(base, name)


def _third_party_imports(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split('.')[0])
    return set(name for name in found if name not in sys.stdlib_module_names and name not in PROVIDED)


def test_every_module_a_unit_test_imports_is_in_its_requirements():
    listed = _requirements(os.path.join(UNIT, 'requirements.txt'))
    missing = sorted('%s (%s)' % (DISTRIBUTIONS.get(name, name), os.path.relpath(path, ROOT))
                     for path in _python_files(UNIT) for name in _third_party_imports(path)
                     if DISTRIBUTIONS.get(name, name).lower() not in listed)
    assert missing == [], 'not in tests/unit/requirements.txt: %s' % ', '.join(missing)


def test_the_unit_requirements_are_in_the_test_virtualenv_too():
    unit = _requirements(os.path.join(UNIT, 'requirements.txt'))
    project = _requirements(os.path.join(ROOT, 'requirements', 'test.txt'))
    assert sorted(unit - project) == []


@pytest.mark.parametrize('folder', ['tests/unit', 'tests/system'])
def test_no_test_skips_itself_when_something_is_missing(folder):
    pattern = re.compile(r'importorskip|pytest\.skip\(|mark\.skipif|except ImportError')
    assert os.path.isdir(os.path.join(ROOT, folder)), folder
    found = []
    for path in _python_files(os.path.join(ROOT, folder)):
        if os.path.abspath(path) == os.path.abspath(__file__):
            continue
        with open(path) as handle:
            found.extend('%s:%d' % (os.path.relpath(path, ROOT), number) for number, line in enumerate(handle, 1)
                         if pattern.search(line))
    assert found == [], 'a test that skips itself passes by not running: %s' % ', '.join(found)
