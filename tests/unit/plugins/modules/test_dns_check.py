# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dns_check's pure logic: how a lookup falls back to the backup server, and how each answer is judged."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.ipoffice.subscription.plugins.modules import dns_check
from ansible_collections.ipoffice.subscription.tests.unit.plugins.module_utils.dns_fakes import BACKUP, PRIMARY, attempt, scripted

RESULT_KEYS = {'check', 'status', 'passed', 'measured', 'limit', 'unit', 'summary', 'hint', 'details'}


def settled(name, rcode='NOERROR', addresses=('192.0.2.44',), server=PRIMARY, elapsed_ms=5.0):
    answer = attempt(server, rcode, addresses, elapsed_ms=elapsed_ms)
    return {'name': name, 'attempts': [answer], 'answer': answer, 'elapsed_ms': elapsed_ms}


def unsettled(name, attempts):
    return {'name': name, 'attempts': attempts, 'answer': None, 'elapsed_ms': sum(a['elapsed_ms'] for a in attempts)}


# --- dns.server_address: exactly one address --------------------------------------------------------------------

def test_one_address_passes():
    result = dns_check.judge_server_address(settled('admin.uk1.avaya-sub.com'))
    assert set(result) == RESULT_KEYS
    assert result['check'] == 'dns.server_address' and result['status'] == 'pass' and result['passed'] is True
    assert result['measured'] == 1 and result['limit'] == 1 and result['hint'] is None
    assert result['details']['addresses'] == ['192.0.2.44'] and result['details']['answered_by'] == PRIMARY


def test_nxdomain_fails_saying_the_customer_dns_must_resolve_avaya_sub_com():
    result = dns_check.judge_server_address(settled('admin.uk1.avaya-sub.com', 'NXDOMAIN', ()))
    assert result['status'] == 'fail' and result['measured'] == 0 and result['details']['rcode'] == 'NXDOMAIN'
    assert '*.avaya-sub.com' in result['hint'] and 'misspelt' in result['hint']


def test_no_address_fails_saying_the_customer_dns_needs_external_access():
    result = dns_check.judge_server_address(settled('admin.uk1.avaya-sub.com', 'NOERROR', ()))
    assert result['status'] == 'fail' and result['measured'] == 0
    assert 'external access' in result['hint'] and 'avaya-sub.com' in result['hint']


@pytest.mark.parametrize('count', [2, 3])
def test_two_or_more_addresses_fail_com_must_be_one_static_address(count):
    addresses = ['192.0.2.%d' % (index + 1) for index in range(count)]
    result = dns_check.judge_server_address(settled('admin.uk1.avaya-sub.com', 'NOERROR', addresses))
    assert result['status'] == 'fail' and result['measured'] == count and result['limit'] == 1
    assert 'COM must be one static address' in result['hint']


def test_an_unanswered_server_address_is_not_measured_never_passed():
    result = dns_check.judge_server_address(unsettled('admin.uk1.avaya-sub.com', [attempt(PRIMARY, error='x')]))
    assert result['status'] == 'not_measured' and result['passed'] is None


# --- dns.<name>: at least one address ---------------------------------------------------------------------------

@pytest.mark.parametrize('addresses', [['192.0.2.1'], ['192.0.2.1', '192.0.2.2']])
def test_other_names_pass_with_one_or_more_addresses(addresses):
    result = dns_check.judge_name(settled('storage.googleapis.com', 'NOERROR', addresses))
    assert result['check'] == 'dns.storage.googleapis.com' and result['status'] == 'pass'
    assert result['measured'] == len(addresses)


@pytest.mark.parametrize('rcode', ['NXDOMAIN', 'NOERROR'])
def test_other_names_fail_without_an_address(rcode):
    result = dns_check.judge_name(settled('storage.googleapis.com', rcode, ()))
    assert result['status'] == 'fail' and 'external access to storage.googleapis.com' in result['hint']


# --- dns.server_reachable ---------------------------------------------------------------------------------------

def test_reachable_when_the_first_server_settles_everything():
    result = dns_check.judge_server_reachable([settled('a.example'), settled('b.example')], [PRIMARY, BACKUP])
    assert result['status'] == 'pass' and result['measured'] == PRIMARY
    assert result['details']['servers'][0] == {'address': PRIMARY, 'role': 'server', 'queries': 2, 'answered': 2,
                                               'problems': []}
    assert result['details']['servers'][1]['queries'] == 0


def test_reachable_through_the_backup_says_the_first_server_did_not_answer():
    silent = attempt(PRIMARY, error='no answer within 3 s', elapsed_ms=3000.0)
    backup = attempt(BACKUP, 'NOERROR', ['192.0.2.44'])
    item = {'name': 'a.example', 'attempts': [silent, backup], 'answer': backup, 'elapsed_ms': 3005.0}
    result = dns_check.judge_server_reachable([item], [PRIMARY, BACKUP])
    assert result['status'] == 'pass' and result['measured'] == BACKUP
    assert 'no usable answer (no answer within 3 s)' in result['summary'] and BACKUP in result['summary']


def test_unreachable_fails_with_what_each_server_did():
    lookups = [unsettled('a.example', [attempt(PRIMARY, error='no answer within 3 s')])]
    result = dns_check.judge_server_reachable(lookups, [PRIMARY])
    assert result['status'] == 'fail' and result['measured'] is None
    assert 'no configured DNS server answered' in result['hint'] and '192.0.2.53: no answer within 3 s' in result['hint']


def test_a_refusing_server_fails_saying_it_must_allow_recursion():
    lookups = [unsettled('a.example', [attempt(PRIMARY, 'REFUSED')])]
    result = dns_check.judge_server_reachable(lookups, [PRIMARY])
    assert result['status'] == 'fail' and 'recursive' in result['hint'] and '192.0.2.53 answered REFUSED' in result['hint']
    assert result['details']['servers'][0]['problems'] == ['answered REFUSED']


# --- dns.lookup_time --------------------------------------------------------------------------------------------

def test_lookup_time_holds_the_slowest_settled_lookup_to_the_limit():
    lookups = [settled('a.example', elapsed_ms=12.0), settled('b.example', elapsed_ms=40.5),
               unsettled('c.example', [attempt(PRIMARY, error='x', elapsed_ms=3000.0)])]
    result = dns_check.judge_lookup_time(lookups, 1000)
    assert result['status'] == 'pass' and result['measured'] == 40.5 and result['limit'] == 1000 and result['unit'] == 'ms'
    assert dns_check.judge_lookup_time(lookups, 40)['status'] == 'fail'
    assert 'b.example took 40.5 ms' in dns_check.judge_lookup_time(lookups, 40)['hint']


def test_lookup_time_is_not_measured_without_any_answer():
    result = dns_check.judge_lookup_time([unsettled('a.example', [attempt(PRIMARY, error='x')])], 1000)
    assert result['status'] == 'not_measured'


# --- input ------------------------------------------------------------------------------------------------------

GOOD = dict(server='192.0.2.53', backup_server=None, port=53, server_address='admin.uk1.avaya-sub.com',
            names=['storage.googleapis.com'], timeout=3.0, max_lookup_ms=1000)


def test_good_input_has_no_problems():
    assert dns_check.check_input(GOOD) == []


@pytest.mark.parametrize('change, fragment', [
    (dict(server='dns.example.com'), "server must be an IPv4 address in dotted-quad form: got 'dns.example.com'"),
    (dict(server=''), "server must be an IPv4 address"),
    (dict(backup_server='10.1'), "backup_server must be an IPv4 address in dotted-quad form: got '10.1'"),
    (dict(port=0), 'port must be a TCP port from 1 to 65535: got 0'),
    (dict(server_address='https://admin.uk1.avaya-sub.com'), 'server_address must be a host name'),
    (dict(server_address='192.0.2.44'), 'server_address must be a host name'),
    (dict(names=['storage.googleapis.com', 'bad name']), "names[1] must be a host name such as storage.googleapis.com"),
    (dict(timeout=0.0), 'timeout must be more than 0 and at most 60: got 0.0'),
    (dict(timeout=61.0), 'timeout must be more than 0 and at most 60: got 61.0'),
    (dict(max_lookup_ms=-1), 'max_lookup_ms must be more than 0: got -1'),
])
def test_bad_input_names_the_option_and_the_value(change, fragment):
    problems = dns_check.check_input(dict(GOOD, **change))
    assert any(fragment in problem for problem in problems), problems


# --- the whole run with a fake network ------------------------------------------------------------------------

def test_run_checks_reports_each_check_and_adds_them_up():
    asker = scripted({(PRIMARY, 'admin.uk1.avaya-sub.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.44']},
                      (PRIMARY, 'storage.googleapis.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.46']}})
    outcome = dns_check.run_checks(dict(GOOD, server=PRIMARY), asker)
    assert [item['check'] for item in outcome['checks']] == [
        'dns.server_reachable', 'dns.server_address', 'dns.storage.googleapis.com', 'dns.lookup_time']
    assert outcome['passed'] is True and outcome['failed_checks'] == [] and outcome['counts']['pass'] == 4
    assert outcome['failed'] is False and outcome['msg'] == 'no DNS check failed (4 checks)'
    assert outcome['resolved_address'] == '192.0.2.44' and outcome['addresses'] == ['192.0.2.44']
    assert outcome['changed'] is False


def test_run_checks_names_the_failures_and_keeps_every_address():
    asker = scripted({(PRIMARY, 'admin.uk1.avaya-sub.com'): {'rcode': 'NOERROR', 'addresses': ['192.0.2.44', '192.0.2.45']},
                      (PRIMARY, 'storage.googleapis.com'): {'rcode': 'NXDOMAIN'}})
    outcome = dns_check.run_checks(dict(GOOD, server=PRIMARY), asker)
    assert outcome['passed'] is False and outcome['failed'] is True
    assert outcome['failed_checks'] == ['dns.server_address', 'dns.storage.googleapis.com']
    assert outcome['msg'].startswith('failed: dns.server_address (COM must be one static address')
    assert '; dns.storage.googleapis.com (the customer' in outcome['msg']
    assert outcome['resolved_address'] is None and outcome['addresses'] == ['192.0.2.44', '192.0.2.45']


def test_names_are_asked_once_each_and_the_server_address_first():
    asker = scripted({})
    outcome = dns_check.run_checks(dict(GOOD, server=PRIMARY, server_address='Admin.UK1.avaya-sub.com.',
                                        names=['admin.uk1.avaya-sub.com', 'storage.googleapis.com',
                                               'STORAGE.googleapis.com'], timeout=0.01), asker)
    assert sorted(call[2] for call in asker.calls) == ['admin.uk1.avaya-sub.com', 'storage.googleapis.com']
    assert [item['check'] for item in outcome['checks']][1:3] == ['dns.server_address', 'dns.storage.googleapis.com']
    assert outcome['not_measured'] == ['dns.server_address', 'dns.storage.googleapis.com', 'dns.lookup_time']
    assert outcome['failed_checks'] == ['dns.server_reachable']


def test_independent_lookups_run_at_the_same_time():
    # Four lookups (the server address and three names): each waits inside the asker until all four are there.
    # One after another, the first would wait alone and the barrier would break (a clear failure, not a slow pass).
    together = threading.Barrier(4, timeout=10)
    calls = []

    def meeting(server, port, name, timeout):
        calls.append(name)
        try:
            together.wait()
        except threading.BrokenBarrierError:
            raise AssertionError('the lookup of %s ran alone: the lookups did not run at the same time' % name)
        return attempt(server, 'NOERROR', ['192.0.2.1'], elapsed_ms=300.0)

    outcome = dns_check.run_checks(dict(GOOD, names=['a.example', 'b.example', 'c.example']), meeting)
    assert sorted(calls) == ['a.example', 'admin.uk1.avaya-sub.com', 'b.example', 'c.example'], calls
    assert outcome['passed'] is True
