# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Properties of every validator: each valid form generated is accepted, each
invalid form generated is refused with a message that starts with the option
and shows the value, and no input of any type makes one raise."""

from __future__ import annotations

import ipaddress
import os

import pytest

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ansible_collections.ipoffice.subscription.plugins.module_utils import validators as v

# Modest and without deadlines: these machines are shared and noisy.
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPTION = 'some_option'

octets = st.integers(0, 255)
ipv4_texts = st.tuples(octets, octets, octets, octets).map(lambda q: '%d.%d.%d.%d' % q)
ipv6_texts = st.integers(0, 2 ** 128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
_label = st.from_regex(r'\A[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?\Z')
# At least one label holds a letter, so the name is never a malformed address.
host_names = st.tuples(st.lists(_label, min_size=0, max_size=3), st.from_regex(r'\A[A-Za-z][A-Za-z0-9-]{0,10}[A-Za-z0-9]\Z')).map(
    lambda parts: '.'.join(parts[0] + [parts[1]]))
dotted_names = st.tuples(_label, host_names).map('.'.join)
# Anything a playbook could hand over after Ansible's type conversion, and more.
anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), st.binary(max_size=10),
                     st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

# Every check_* of validators.py, with the extra arguments it needs.
CHECKS = [
    ('check_host', ()), ('check_port', ()), ('check_positive', ()), ('check_positive', (10,)), ('check_readable_file', ()),
    ('check_ipv4', ()), ('check_netmask', ()), ('check_host_or_ipv4', ()), ('check_server_name', ()),
    ('check_time_zone', ()), ('check_range', (0, 255)), ('check_customer_id', ()), ('check_port_list', ()),
    ('check_url_path', ()), ('check_license_server', ()), ('check_server_ipv4', ()), ('check_time_server', ()),
    ('check_dns_domain', ()), ('check_gateway', ('LAN1', '192.0.2.1', '255.255.255.0')), ('check_password', ()),
    ('check_timeout', ()),
]


def test_every_check_of_the_module_is_covered():
    assert sorted(set(name for name, _extra in CHECKS)) == sorted(n for n in dir(v) if n.startswith('check_'))


def refused(message, value, option=OPTION):
    """A refusal names the option first and shows the value as Python writes it."""
    assert isinstance(message, str), 'accepted %r' % (value,)
    assert message.startswith(option), message
    assert repr(value) in message or (isinstance(value, (list, tuple)) and option + '[' in message), message


@pytest.mark.parametrize('name, extra', CHECKS, ids=[n + str(len(e)) for n, e in CHECKS])
@PROPERTY
@given(value=anything)
def test_property_no_input_makes_a_check_raise(name, extra, value):
    message = getattr(v, name)(OPTION, value, *extra)
    assert message is None or message.startswith(OPTION)


@PROPERTY
@given(st.one_of(ipv4_texts, ipv6_texts, host_names))
def test_property_host_accepts_addresses_and_names(value):
    assert v.check_host(OPTION, value) is None


@PROPERTY
@given(st.one_of(host_names.map(lambda h: 'https://' + h), host_names.map(lambda h: h + '/x'),
                 st.tuples(st.integers(256, 999), octets, octets, octets).map(lambda q: '%d.%d.%d.%d' % q),
                 host_names.map(lambda h: h + ' x'), host_names.map(lambda h: '-' + h)))
def test_property_host_refuses_urls_bad_quads_and_bad_names(value):
    refused(v.check_host(OPTION, value), value)


@PROPERTY
@given(ipv4_texts)
def test_property_ipv4_accepts_every_dotted_quad(value):
    assert v.check_ipv4(OPTION, value) is None and v.is_ipv4_address(value) and v.is_ip_address(value)


@PROPERTY
@given(st.one_of(
    st.tuples(octets, octets, octets).map(lambda q: '%d.%d.%d' % q),                        # three parts
    st.tuples(octets, octets, octets, st.integers(256, 10 ** 6)).map(lambda q: '%d.%d.%d.%d' % q),
    st.tuples(ipv4_texts, st.sampled_from([' ', '\n', '/24', '.0', ':80'])).map(''.join),
    ipv6_texts, host_names, st.text(max_size=20).filter(lambda t: t.count('.') != 3)))
def test_property_ipv4_refuses_everything_else(value):
    assume(not v.is_ipv4_address(value))
    refused(v.check_ipv4(OPTION, value), value)


@PROPERTY
@given(st.integers(0, 32))
def test_property_netmask_prefix_and_dotted_forms_agree(prefix):
    dotted = str(ipaddress.IPv4Network('0.0.0.0/%d' % prefix).netmask)
    assert v.netmask_to_dotted(str(prefix)) == v.netmask_to_dotted('/%d' % prefix) == v.netmask_to_dotted(dotted) == dotted
    assert v.check_netmask(OPTION, dotted) is None


@PROPERTY
@given(st.integers(0, 2 ** 32 - 1))
def test_property_netmask_refuses_every_non_contiguous_mask(number):
    dotted = str(ipaddress.IPv4Address(number))
    bits = bin(number)[2:].zfill(32)
    assume('01' in bits)  # a one after a zero: not a mask
    assert v.netmask_to_dotted(dotted) is None
    refused(v.check_netmask(OPTION, dotted), dotted)


@PROPERTY
@given(st.one_of(st.integers(33, 10 ** 6).map(str), st.integers(max_value=-1).map(str),
                 st.text(alphabet='0123456789\u00b2\u0663\uff11 /.', min_size=1, max_size=6)))
def test_property_netmask_refuses_other_numbers_and_digits_of_other_scripts(value):
    assume(not (value.strip().lstrip('/').isascii() and value.strip().lstrip('/').isdigit()
                and int(value.strip().lstrip('/')) <= 32))
    assume(not v.is_ipv4_address(value.strip().lstrip('/')))
    refused(v.check_netmask(OPTION, value), value)


@PROPERTY
@given(ipv4_texts, st.integers(0, 32), ipv4_texts)
def test_property_address_in_subnet_matches_the_standard_library(lan, prefix, address):
    mask = str(ipaddress.IPv4Network('0.0.0.0/%d' % prefix).netmask)
    expected = ipaddress.IPv4Address(address) in ipaddress.IPv4Network('%s/%d' % (lan, prefix), strict=False)
    assert v.address_in_subnet(address, lan, mask) is expected


@PROPERTY
@given(st.one_of(ipv4_texts, host_names))
def test_property_time_server_accepts_names_and_ipv4(value):
    assert v.check_host_or_ipv4(OPTION, value) is None


@PROPERTY
@given(st.one_of(st.tuples(host_names, st.integers(1, 65535)).map(lambda p: '%s:%d' % p), host_names.map(lambda h: 'ntp://' + h),
                 ipv6_texts, host_names.map(lambda h: h + '\t')))
def test_property_time_server_refuses_ports_urls_ipv6_and_spaces(value):
    refused(v.check_host_or_ipv4(OPTION, value), value)


@PROPERTY
@given(dotted_names)
def test_property_server_name_accepts_dotted_names(value):
    assert v.check_server_name(OPTION, value) is None


@PROPERTY
@given(st.one_of(ipv4_texts, ipv6_texts, _label.filter(lambda t: not t.isdigit()), dotted_names.map(lambda h: 'wss://' + h),
                 st.tuples(dotted_names, st.integers(1, 65535)).map(lambda p: '%s:%d' % p)))
def test_property_server_name_refuses_addresses_single_labels_urls_and_ports(value):
    refused(v.check_server_name(OPTION, value, example='x.example.com'), value)


@PROPERTY
@given(st.tuples(dotted_names, st.sampled_from(['', 'https://', 'HTTPS://']), st.sampled_from(['', '/'])))
def test_property_license_server_takes_a_name_or_the_guides_url_form_in_one_normal_form(parts):
    host, scheme, slash = parts
    normal, problem = v.normalise_license_server(scheme + host + (slash if scheme else ''))
    assert problem is None
    assert normal == host
    # The normal form is a fixed point: normalising it again changes nothing.
    assert v.normalise_license_server(normal) == (normal, None)


@PROPERTY
@given(st.one_of(ipv4_texts, dotted_names.map(lambda h: 'http://' + h), dotted_names.map(lambda h: 'wss://' + h),
                 st.tuples(dotted_names, st.integers(1, 99999)).map(lambda p: 'https://%s:%d' % p),
                 dotted_names.map(lambda h: 'https://' + h + '/path')))
def test_property_license_server_refuses_addresses_other_schemes_bad_ports_and_paths(value):
    refused(v.check_license_server(OPTION, value), value)


@PROPERTY
@given(st.integers(1, 65535))
def test_property_port_accepts_1_to_65535(value):
    assert v.check_port(OPTION, value) is None and v.check_port_list(OPTION, [value]) is None


@PROPERTY
@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536), st.booleans(), st.floats(), st.text(max_size=5)))
def test_property_port_refuses_everything_else(value):
    refused(v.check_port(OPTION, value), value)


@PROPERTY
@given(st.lists(st.integers(1, 65535), min_size=1, max_size=16, unique=True))
def test_property_port_list_accepts_distinct_ports_in_any_order(value):
    assert v.check_port_list(OPTION, value) is None


@PROPERTY
@given(st.lists(st.integers(1, 65535), min_size=1, max_size=8), st.data())
def test_property_port_list_names_a_bad_or_repeated_port(ports, data):
    bad = data.draw(st.one_of(st.integers(max_value=0), st.integers(min_value=65536), st.just(True), st.sampled_from(ports)))
    value = ports + [bad]
    message = v.check_port_list(OPTION, value)
    assert message.startswith(OPTION) and repr(bad) in message


@PROPERTY
@given(st.floats(min_value=0.001, max_value=10), st.integers(1, 10))
def test_property_positive_accepts_up_to_the_maximum(number, whole):
    assert v.check_positive(OPTION, number, maximum=10) is None and v.check_positive(OPTION, whole) is None


@PROPERTY
@given(st.one_of(st.floats(max_value=0), st.floats(min_value=10.0001), st.just(float('nan')), st.booleans(), st.text(max_size=3)))
def test_property_positive_refuses_zero_negatives_too_large_and_non_numbers(value):
    message = v.check_positive(OPTION, value, maximum=10)
    assert message.startswith(OPTION + ' must be more than 0 and at most 10: got ')


@PROPERTY
@given(anything)
def test_property_a_check_timeout_is_positive_up_to_the_one_limit(value):
    assert v.check_timeout(OPTION, value) == v.check_positive(OPTION, value, maximum=v.MAX_CHECK_TIMEOUT)


@PROPERTY
@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-2000, 2000))
def test_property_range_is_inclusive(low, high, value):
    low, high = min(low, high), max(low, high)
    message = v.check_range(OPTION, value, low, high)
    if low <= value <= high:
        assert message is None
    else:
        assert message == '%s must be %d to %d: got %d' % (OPTION, low, high, value)


@PROPERTY
@given(st.from_regex(r'\A[A-Za-z0-9][A-Za-z0-9-]{0,31}\Z'))
def test_property_customer_id_accepts_its_model(value):
    assert v.check_customer_id(OPTION, value) is None


@PROPERTY
@given(st.text(max_size=40))
def test_property_customer_id_refuses_anything_outside_its_model(value):
    import re
    assume(not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9-]{0,31}', value))
    refused(v.check_customer_id(OPTION, value), value)


@PROPERTY
@given(st.sampled_from(sorted(v.time_zone_names())))
def test_property_time_zone_accepts_every_database_name(value):
    assert v.check_time_zone(OPTION, value) is None


RESPELLINGS = [str.lower, str.upper, lambda t: t + ' ', lambda t: ' ' + t, lambda t: t.replace('/', '\\'), lambda t: t + '/X']


@PROPERTY
@given(st.sampled_from(sorted(v.time_zone_names())), st.sampled_from(RESPELLINGS))
def test_property_time_zone_refuses_names_spelt_otherwise(name, respell):
    value = respell(name)
    assume(value not in v.time_zone_names())
    refused(v.check_time_zone(OPTION, value), value)


@PROPERTY
@given(st.from_regex(r'\A/[A-Za-z0-9._~-]{0,20}(/[A-Za-z0-9._~-]{1,20}){0,3}\Z'))
def test_property_url_path_accepts_paths(value):
    assert v.check_url_path(OPTION, value) is None


@PROPERTY
@given(st.one_of(st.text(max_size=20).filter(lambda t: not t.startswith('/')),
                 st.tuples(st.just('/a'), st.sampled_from(' ?#\n"<>'), st.text(max_size=5)).map(''.join)))
def test_property_url_path_refuses_other_text(value):
    refused(v.check_url_path(OPTION, value), value)


@PROPERTY
@given(st.text(alphabet='abcxyz/._-', min_size=1, max_size=20))
def test_property_readable_file_refuses_what_does_not_exist(name):
    path = os.path.join('/nonexistent-ipoffice-test', name)
    refused(v.check_readable_file(OPTION, path), path)


def test_readable_file_accepts_a_readable_file_and_nothing_given():
    assert v.check_readable_file(OPTION, __file__) is None and v.check_readable_file(OPTION, None) is None


_NOT_SERVERS = [ipaddress.ip_network(net) for net in ('0.0.0.0/8', '255.255.255.255/32', '224.0.0.0/4', '240.0.0.0/4')]


@PROPERTY
@given(ipv4_texts)
def test_property_a_server_address_is_any_quad_outside_the_blocks_that_name_no_server(value):
    unusable = any(ipaddress.ip_address(value) in net for net in _NOT_SERVERS)
    for check in (v.check_server_ipv4, v.check_time_server):
        message = check(OPTION, value)
        if unusable:
            refused(message, value)
        else:
            assert message is None, message


@PROPERTY
@given(st.integers(0, 2 ** 32 - 1), st.integers(8, 30), st.data())
def test_property_a_gateway_is_a_host_of_the_lan_other_than_the_node(number, prefix, data):
    lan = ipaddress.ip_network((number, prefix), strict=False)
    node = str(lan.network_address + data.draw(st.integers(1, lan.num_addresses - 2)))
    mask = str(lan.netmask)
    gateway = str(lan.network_address + data.draw(st.integers(0, lan.num_addresses - 1)))
    message = v.check_gateway(OPTION, gateway, 'LAN1', node, mask)
    if gateway in (node, str(lan.network_address), str(lan.broadcast_address)):
        assert message and message.startswith('%s %s is the ' % (OPTION, gateway)), message
    else:
        assert message is None, message
    outside = str(ipaddress.ip_address((int(lan.broadcast_address) + 1) % 2 ** 32))
    assert 'is not in the subnet of LAN1' in v.check_gateway(OPTION, outside, 'LAN1', node, mask)


@PROPERTY
@given(host_names)
def test_property_a_setting_never_takes_a_host_name_with_a_trailing_dot(value):
    for check in (v.check_host_or_ipv4, v.check_time_server, v.check_dns_domain, v.check_license_server):
        refused(check(OPTION, value + '.'), value + '.')
    refused(v.check_server_name(OPTION, value + '.example.'), value + '.example.')
