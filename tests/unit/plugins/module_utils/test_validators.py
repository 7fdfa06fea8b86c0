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


@pytest.mark.parametrize('value', ['admin.uk1.avaya-sub.com', 'Admin.UK1.Avaya-Sub.com'])
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


@pytest.mark.parametrize('value', ['Europe/London', 'America/New_York', 'Asia/Kolkata', 'UTC', 'Etc/UTC', 'Europe/Oslo'])
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


@pytest.mark.parametrize('value, hint', [
    # Old names the database keeps only for compatibility: refused, naming the zone they stand for.
    ('US/Eastern', "('US/Eastern' is an old name the IANA database keeps for compatibility; give America/New_York)"),
    ('GB', "give Europe/London)"), ('Europe/Kiev', 'give Europe/Kyiv)'), ('Asia/Calcutta', 'give Asia/Kolkata)'),
    # The build tree's copies (right/ counts leap seconds).
    ('right/Europe/London', "('right/Europe/London' is a copy in the build tree; give Europe/London)"),
    ('posix/Asia/Tokyo', 'give Asia/Tokyo)'),
    # POSIX signs: Etc/GMT+1 is one hour behind UTC, and follows no daylight saving.
    ('Etc/GMT+1', "('Etc/GMT+1' is a fixed offset with the sign reversed, POSIX style, and without daylight saving"),
    ('Etc/GMT-14', 'sign reversed'),
])
def test_time_zones_zoneinfo_loads_but_no_site_should_use_are_refused_with_the_zone_to_give(value, hint):
    message = validators.check_time_zone('time_zone', value)
    assert message.startswith("time_zone must be an IANA time zone name such as Europe/London: got %r" % value)
    assert hint in message, message


@pytest.mark.parametrize('value', ['Factory', 'localtime', 'Etc/GMT', 'EST5EDT', 'CET'])
def test_names_that_stand_for_no_place_are_refused(value):
    assert validators.check_time_zone('time_zone', value).startswith('time_zone must be an IANA time zone name')


def test_accepted_zones_are_the_databases_location_zones_and_utc():
    names = validators.time_zone_names()
    assert {'Europe/London', 'Europe/Oslo', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/UTC'} <= names
    assert not [name for name in names if name.startswith(('posix/', 'right/', 'Etc/GMT', 'US/'))]
    assert len(names) > 300


@pytest.mark.parametrize('value, words', [
    ('0.0.0.0', "'0.0.0.0' is in 0.0.0.0/8"), ('0.1.2.3', '0.0.0.0/8'), ('255.255.255.255', 'the broadcast address'),
    ('224.0.0.251', 'a multicast address'), ('240.0.0.1', 'a reserved address'),
])
def test_server_addresses_that_parse_but_name_no_server_are_refused(value, words):
    for check, start in ((validators.check_server_ipv4, 'server must be the address of a server: '),
                         (validators.check_time_server, 'server must be a time server: ')):
        message = check('server', value)
        assert message.startswith(start) and words in message, message


@pytest.mark.parametrize('value', ['8.8.8.8', '127.0.53.53', '192.0.2.53', '223.255.255.254', '1.0.0.0'])
def test_server_addresses_of_hosts_pass(value):
    assert validators.check_server_ipv4('server', value) is None and validators.check_time_server('server', value) is None


def test_a_server_that_is_not_an_address_is_refused_as_before():
    assert validators.check_server_ipv4('server', '8.8.8') == "server must be an IPv4 address in dotted-quad form: got '8.8.8'"
    assert validators.check_time_server('server', 'time.google.com') is None


def test_host_names_with_a_trailing_dot_are_refused():
    assert validators.check_time_server('server', 'time.google.com.') == (
        "server must be a host name without a trailing dot, such as time.google.com: got 'time.google.com.'")
    assert validators.check_dns_domain('domain', 'example.com.') == (
        "domain must be a DNS domain without a trailing dot, such as example.com: got 'example.com.'")
    assert validators.check_license_server('server_address', 'https://admin.uk1.avaya-sub.com./').startswith(
        'server_address must be a host name without a trailing dot')
    assert validators.check_server_name('server_address', 'admin.uk1.avaya-sub.com.') == (
        "server_address must be a host name without a trailing dot, such as admin.uk1.avaya-sub.com: got 'admin.uk1.avaya-sub.com.'")
    assert validators.check_dns_domain('domain', 'Example.COM') is None
    assert validators.check_dns_domain('domain', 'exa mple.com') == "domain must be a DNS domain such as example.com: got 'exa mple.com'"


@pytest.mark.parametrize('gateway, words', [
    ('192.0.2.1', "192.0.2.1 is the node's own LAN1 address: the router is another host on LAN1 (192.0.2.1/255.255.255.0)"),
    ('192.0.2.0', '192.0.2.0 is the network address of LAN1 (192.0.2.1/255.255.255.0), not a host'),
    ('192.0.2.255', '192.0.2.255 is the broadcast address of LAN1 (192.0.2.1/255.255.255.0), not a host'),
    ('198.51.100.1', '198.51.100.1 is not in the subnet of LAN1 (192.0.2.1/255.255.255.0): the router must be on that LAN'),
    ('192.0.2', "must be an IPv4 address in dotted-quad form: got '192.0.2'"),
])
def test_a_gateway_must_be_another_host_on_the_lan(gateway, words):
    message = validators.check_gateway('config[0].gateway', gateway, 'LAN1', '192.0.2.1', '255.255.255.0')
    assert message.startswith('config[0].gateway ') and words in message, message


def test_a_point_to_point_lan_has_no_network_or_broadcast_address():
    # RFC 3021: both addresses of a /31 are hosts.
    assert validators.check_gateway('gateway', '192.0.2.0', 'LAN1', '192.0.2.1', '255.255.255.254') is None
    assert validators.check_gateway('gateway', '192.0.2.254', 'LAN1', '192.0.2.1', '24') is None


@pytest.mark.parametrize('value, words', [
    (5349, 'YAML read it as the number 5349'), (12345, 'the number 12345'), (1.5, 'the number 1.5'),
    (True, 'the boolean True'),
])
def test_a_customer_id_yaml_read_as_a_number_is_refused_saying_to_quote_it(value, words):
    message = validators.check_customer_id('customer_id', value)
    assert message.startswith('customer_id must be text: ') and words in message and 'put the customer ID in quotes' in message


@pytest.mark.parametrize('value', ['', ' ', '   ', '\t \n'])
def test_a_password_of_white_space_alone_is_refused_without_showing_it(value):
    assert validators.check_password('config[0].password', value) == (
        'config[0].password must not be empty or white space alone: the user could no longer log in')


def test_a_password_with_spaces_and_more_passes():
    assert validators.check_password('config[0].password', ' a b ') is None
    assert validators.check_password('config[0].password', None) == 'config[0].password must be text'
