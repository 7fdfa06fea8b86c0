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


@pytest.mark.parametrize('value', ['time.google.com', 'Time.Google.COM', 'ntp1', '192.0.2.123'])
def test_good_time_servers(value):
    assert validators.check_host_or_ipv4('server', value) is None


@pytest.mark.parametrize('value, fragment', [
    ('https://time.google.com', 'not a URL or a path'), ('time.google.com/ntp', 'not a URL or a path'),
    ('time.google.com:123', 'without a port'), ('2001:db8::1', 'without a port'), ('300.1.1.1', "got '300.1.1.1'"),
    ('time google', "got 'time google'"), ('time.google.com\n', 'got'), ('', 'got'), (None, 'got None'),
])
def test_bad_time_servers_name_option_and_value(value, fragment):
    message = validators.check_host_or_ipv4('server', value)
    assert message and message.startswith('server must be a host name or an IPv4 address') and fragment in message


@pytest.mark.parametrize('value', ['admin.uk1.avaya-sub.com', 'Admin.UK1.Avaya-Sub.com', 'admin.uk1.avaya-sub.com.'])
def test_good_server_names(value):
    assert validators.check_server_name('server_address', value) is None


@pytest.mark.parametrize('value, fragment', [
    ('https://admin.uk1.avaya-sub.com', 'not a URL or a path'), ('admin.uk1.avaya-sub.com/api', 'not a URL or a path'),
    ('admin.uk1.avaya-sub.com:8443', 'without a port'), ('192.0.2.1', 'not an IP address'),
    ('2001:db8::1', 'not an IP address'), ('[2001:db8::1]', 'not an IP address'), ('localhost', "got 'localhost'"),
    ('admin uk1', "got 'admin uk1'"), ('admin.uk1.avaya-sub.com\n', 'got'), ('', "got ''"), (None, 'got None'),
])
def test_bad_server_names_name_option_and_value(value, fragment):
    message = validators.check_server_name('server_address', value)
    assert message and message.startswith('server_address must be a host name such as admin.uk1.avaya-sub.com')
    assert fragment in message


@pytest.mark.parametrize('value', ['Europe/London', 'America/New_York', 'Asia/Kolkata', 'UTC', 'Etc/GMT+1'])
def test_good_time_zones(value):
    assert validators.check_time_zone('time_zone', value) is None


@pytest.mark.parametrize('value', ['Mars/Base', 'europe/london', 'GMT+1', 'Europe/London ', '', None])
def test_bad_time_zones_name_option_and_value(value):
    assert validators.check_time_zone('time_zone', value) == (
        'time_zone must be an IANA time zone name such as Europe/London: got %r' % (value,))


def test_time_zone_without_a_database_says_so():
    message = validators.check_time_zone('time_zone', 'Europe/London', names=set())
    assert 'no IANA time zone database' in message and 'tzdata' in message


@pytest.mark.parametrize('value, good', [(-720, True), (840, True), (0, True), (-721, False), (841, False),
                                         (True, False), ('60', False), (None, False)])
def test_range(value, good):
    message = validators.check_range('local_offset_minutes', value, -720, 840)
    assert (message is None) is good
    if not good:
        assert message == 'local_offset_minutes must be -720 to 840: got %r' % (value,)


@pytest.mark.parametrize('value', ['ACME-0042', '1', '0a-b', 'A' * 32])
def test_good_customer_ids(value):
    assert validators.check_customer_id('customer_id', value) is None


@pytest.mark.parametrize('value', ['', '-ACME', 'ACME_0042', 'ACME 0042', 'A' * 33, 'ACME\n', 'ÄCME', None])
def test_bad_customer_ids_name_option_and_value(value):
    assert validators.check_customer_id('customer_id', value) == (
        'customer_id must be 1 to 32 letters, digits and hyphens, starting with a letter or a digit: got %r' % (value,))
