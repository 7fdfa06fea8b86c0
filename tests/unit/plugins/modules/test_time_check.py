# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""time_check's judgements, input check and resolution (the DNS servers through the one resolver policy, primary then
backup), and a whole run against a small SNTP server on 127.0.0.1 in this process."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils.sntp import SntpError
from ansible_collections.ipoffice.subscription.plugins.modules import time_check
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.dns_fakes import BACKUP, PRIMARY, scripted
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.sntp_server import TinySntp

RESULT_KEYS = {'check', 'status', 'passed', 'measured', 'limit', 'unit', 'summary', 'hint', 'details'}
ZONES = {'Europe/London', 'Europe/Berlin', 'UTC'}


# --- judgements -------------------------------------------------------------------------------------------------

def test_offset_within_the_limit_passes_either_way():
    assert time_check.judge_offset(4.9, 5, 'ntp')['status'] == 'pass'
    result = time_check.judge_offset(-4.9996, 5, 'ntp')
    assert set(result) == RESULT_KEYS and result['status'] == 'pass' and result['measured'] == -5.0
    assert result['limit'] == 5 and result['unit'] == 's'


@pytest.mark.parametrize('offset', [3600.2, -5.01])
def test_offset_beyond_the_limit_fails_with_the_measured_value(offset):
    result = time_check.judge_offset(offset, 5, 'ntp.example')
    assert result['status'] == 'fail' and result['measured'] == round(offset, 3)
    assert 'ntp.example' in result['hint'] and 'COM refuses' in result['hint']


def test_no_offset_is_not_measured():
    assert time_check.judge_offset(None, 5, 'ntp')['status'] == 'not_measured'


@pytest.mark.parametrize('value', ['', '  ', None])
def test_an_empty_time_zone_fails(value):
    result = time_check.judge_time_zone(value, names=ZONES)
    assert result['status'] == 'fail' and 'no time zone is set' in result['summary'] and 'time_zone' in result['hint']


@pytest.mark.parametrize('value', ['Mars/Olympus_Mons', 'europe/london', 'GMT+1'])
def test_a_time_zone_that_is_no_iana_name_fails(value):
    result = time_check.judge_time_zone(value, names=ZONES)
    assert result['status'] == 'fail' and result['measured'] == value
    assert "must be an IANA time zone name such as Europe/London: got %r" % value in result['hint']


def test_an_iana_time_zone_passes():
    result = time_check.judge_time_zone('Europe/Berlin', names=ZONES)
    assert result['status'] == 'pass' and result['measured'] == 'Europe/Berlin'


def test_the_real_time_zone_database_knows_europe_london():
    assert time_check.judge_time_zone('Europe/London')['status'] == 'pass'


def test_without_a_time_zone_database_the_zone_is_not_measured():
    assert time_check.judge_time_zone('Europe/London', names=set())['status'] == 'not_measured'


def test_unreachable_and_unusable_sources_fail_with_different_hints():
    silent = time_check.judge_reachable('ntp.example', '192.0.2.123',
                                        error=SntpError('unreachable', 'no answer'), port=123)
    assert silent['status'] == 'fail' and 'did not answer' in silent['hint'] and 'UDP port 123' in silent['hint']
    kod = time_check.judge_reachable('ntp.example', '192.0.2.123', error=SntpError('unusable', 'kiss'))
    assert kod['status'] == 'fail' and 'must not be used' in kod['hint']
    unresolved = time_check.judge_reachable('ntp.example', None, resolve_problem='NXDOMAIN')
    assert unresolved['status'] == 'fail' and 'does not resolve (NXDOMAIN)' in unresolved['hint']


# --- input ------------------------------------------------------------------------------------------------------

GOOD = dict(server='time.google.com', dns_server=None, backup_dns_server=None, port=123, timeout=3.0, max_offset_seconds=5.0,
            time_zone='Europe/London')


def test_good_input_has_no_problems():
    assert time_check.check_input(GOOD) == []
    assert time_check.check_input(dict(GOOD, server='192.0.2.123', dns_server='192.0.2.53', time_zone='')) == []
    assert time_check.check_input(dict(GOOD, dns_server='192.0.2.53', backup_dns_server='192.0.2.54')) == []


@pytest.mark.parametrize('change, fragment', [
    (dict(server='ntp://time.google.com'), "server must be a host name or an IPv4 address, not a URL or a path"),
    (dict(server='time.google.com:123'), 'without a port'),
    (dict(dns_server='dns.example'), "dns_server must be an IPv4 address in dotted-quad form: got 'dns.example'"),
    (dict(backup_dns_server='10.1'), "backup_dns_server must be an IPv4 address in dotted-quad form: got '10.1'"),
    (dict(port=70000), 'port must be a TCP port from 1 to 65535: got 70000'),
    (dict(timeout=-1.0), 'timeout must be more than 0 and at most 60: got -1.0'),
    (dict(max_offset_seconds=0.0), 'max_offset_seconds must be more than 0: got 0.0'),
])
def test_bad_input_names_the_option_and_the_value(change, fragment):
    problems = time_check.check_input(dict(GOOD, **change))
    assert any(fragment in problem for problem in problems), problems


# --- resolution -------------------------------------------------------------------------------------------------

def test_an_address_is_used_as_it_is(mocker):
    local = mocker.patch.object(time_check.socket, 'getaddrinfo')
    assert time_check.resolve(dict(GOOD, server='192.0.2.123')) == ('192.0.2.123', 'address', ['192.0.2.123'], None)
    local.assert_not_called()


def test_the_messages_name_the_options_as_the_caller_names_them():
    names = dict(port='validate_time_port', max_offset_seconds='validate_max_time_offset_seconds')
    problems = time_check.check_input(dict(GOOD, port=0, max_offset_seconds=-1.0, timeout=0.0),
                                      lambda option: names.get(option, option))
    assert problems == ['validate_time_port must be a TCP port from 1 to 65535: got 0',
                        'timeout must be more than 0 and at most 60: got 0.0',
                        'validate_max_time_offset_seconds must be more than 0: got -1.0']


def test_a_name_goes_to_the_dns_server_when_given_never_to_the_local_resolver(mocker):
    local = mocker.patch.object(time_check.socket, 'getaddrinfo')
    asker = scripted({(PRIMARY, 'time.google.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.7', '192.0.2.8']}})
    assert time_check.resolve(dict(GOOD, dns_server=PRIMARY, backup_dns_server=BACKUP), asker) == (
        '192.0.2.7', 'dns_server', ['192.0.2.7', '192.0.2.8'], None)
    assert asker.calls == [(PRIMARY, 53, 'time.google.com', 3.0)]
    local.assert_not_called()


@pytest.mark.parametrize('first', [{}, {'rcode': 'REFUSED'}, {'rcode': 'SERVFAIL'}])
def test_a_primary_that_gives_no_answer_hands_the_name_to_the_backup(mocker, first):
    local = mocker.patch.object(time_check.socket, 'getaddrinfo')
    answers = {(BACKUP, 'time.google.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.9']}}
    if first:
        answers[(PRIMARY, 'time.google.com')] = first
    asker = scripted(answers)
    assert time_check.resolve(dict(GOOD, dns_server=PRIMARY, backup_dns_server=BACKUP), asker) == (
        '192.0.2.9', 'backup_dns_server', ['192.0.2.9'], None)
    assert [call[0] for call in asker.calls] == [PRIMARY, BACKUP]
    local.assert_not_called()


def test_a_name_the_primary_says_does_not_exist_is_not_asked_again():
    asker = scripted({(PRIMARY, 'time.google.com'): {'rcode': 'NXDOMAIN'},
                      (BACKUP, 'time.google.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.9']}})
    address, how, addresses, problem = time_check.resolve(dict(GOOD, dns_server=PRIMARY, backup_dns_server=BACKUP), asker)
    assert (address, how, addresses) == (None, 'dns_server', [])
    assert problem == 'the DNS server 192.0.2.53 answered NXDOMAIN for time.google.com'
    assert [call[0] for call in asker.calls] == [PRIMARY]


def test_when_no_server_answers_the_problem_says_what_each_did():
    asker = scripted({(BACKUP, 'time.google.com'): {'rcode': 'NOERROR'}})
    address, how, addresses, problem = time_check.resolve(dict(GOOD, dns_server=PRIMARY, backup_dns_server=BACKUP,
                                                               timeout=1.0), asker)
    assert address is None and how == 'dns_server' and addresses == []
    assert problem == ('the DNS server 192.0.2.53: no answer within 1 s; '
                       'the DNS server 192.0.2.54 has no IPv4 address for time.google.com')


def test_a_backup_without_a_primary_is_asked_alone():
    asker = scripted({(BACKUP, 'time.google.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.9']}})
    assert time_check.resolve(dict(GOOD, backup_dns_server=BACKUP), asker)[:2] == ('192.0.2.9', 'backup_dns_server')
    assert [call[0] for call in asker.calls] == [BACKUP]


def test_a_name_without_a_dns_server_goes_to_the_local_resolver(mocker):
    mocker.patch.object(time_check.socket, 'getaddrinfo', return_value=[
        (socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('192.0.2.9', 123)),
        (socket.AF_INET, socket.SOCK_DGRAM, 17, '', ('192.0.2.9', 123))])
    assert time_check.resolve(GOOD) == ('192.0.2.9', 'local_resolver', ['192.0.2.9'], None)


def test_a_name_the_local_resolver_does_not_know_is_a_problem(mocker):
    mocker.patch.object(time_check.socket, 'getaddrinfo', side_effect=socket.gaierror(-2, 'Name or service not known'))
    address, how, addresses, problem = time_check.resolve(GOOD)
    assert address is None and how == 'local_resolver' and 'Name or service not known' in problem


# --- the whole run -----------------------------------------------------------------------------------------------

def test_run_checks_adds_up_the_three_checks():
    server = TinySntp(skew=3600.0)
    try:
        outcome = time_check.run_checks(dict(GOOD, server='127.0.0.1', port=server.port, time_zone=''))
    finally:
        server.close()
    assert [item['check'] for item in outcome['checks']] == ['time.source_reachable', 'time.offset', 'time.time_zone']
    assert outcome['failed_checks'] == ['time.offset', 'time.time_zone'] and outcome['passed'] is False
    assert outcome['failed'] is True and outcome['msg'].startswith('failed: time.offset (the time source 127.0.0.1')
    # The server tells this machine's clock plus 3600 s: RFC 4330 puts that within half the measured round trip of the
    # offset measured (1 ms for the result's rounding), a property of the measurement, not a tolerance on the clock.
    assert abs(outcome['offset_seconds'] - 3600.0) <= outcome['round_trip_ms'] / 2000.0 + 0.001, outcome
    assert outcome['address'] == '127.0.0.1'
    assert outcome['resolved_through'] == 'address' and outcome['source_time'].endswith('Z')
    assert outcome['changed'] is False


def test_an_unreachable_time_source_names_udp_123_through_the_default_route():
    silent = time_check.judge_reachable('ntp.example', '192.0.2.123', error=time_check.SntpError('unreachable', 'no answer'), port=123)
    assert 'SNTP (UDP port 123) out through the default route' in silent['hint'] and "customer's firewall administrator" in silent['hint']
