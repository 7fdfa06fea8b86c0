# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import validators
from ansible_collections.ipoffice.subscription.plugins.module_utils.client import check_connection_params

GOOD = dict(host='127.0.0.1', port=7070, username='u', password='p', timeout=30, retries=3, ca_path=None, node_address=None)


@pytest.mark.parametrize('value', ['192.0.2.1', 'ipo.example.com', 'ipo-1', '2001:db8::1', 'admin.uk1.avaya-sub.com'])
def test_good_hosts(value):
    assert validators.check_host('host', value) is None


@pytest.mark.parametrize('value', ['', 'https://ipo.example.com', 'ipo/x', '300.1.1.1', '-bad-.example', 'a..b', None])
def test_bad_hosts_name_option_and_value(value):
    message = validators.check_host('host', value)
    assert message and message.startswith('host ')


@pytest.mark.parametrize('change, fragment', [
    (dict(port=0), 'port must be'), (dict(port=70000), 'port must be'),
    (dict(timeout=0), 'timeout must be'), (dict(retries=11), 'retries must be'),
    (dict(ca_path='/nonexistent/ca.pem'), "ca_path must name a readable file: '/nonexistent/ca.pem'"),
    (dict(username=''), 'username is required'), (dict(password=''), 'password is required'),
    (dict(host='https://x/'), 'host must be'), (dict(node_address='node1'), "node_address must be"),
])
def test_connection_problems_are_found_before_any_request(change, fragment):
    params = dict(GOOD, **change)
    problems = check_connection_params(params)
    assert any(fragment in p for p in problems), problems


def test_good_connection_params_pass():
    assert check_connection_params(GOOD) == []


@pytest.mark.parametrize('value, ok', [('10.0.0.1', True), ('10.1', False), ('0.0.0.0', True), ('1.2.3.4.5', False), ('', False)])
def test_ipv4_dotted_quad_only(value, ok):
    assert validators.is_ipv4_address(value) is ok
