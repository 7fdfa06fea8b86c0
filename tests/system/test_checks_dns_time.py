# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dns_check and time_check through ansible-playbook against the lab's DNS and SNTP servers.

Every server named here is on loopback; the modules' defaults that would name a public service
(storage.googleapis.com is only a name, asked of the lab's DNS server) never reach past 127.0.0.0/8."""

from __future__ import annotations

from conftest import SINGLE_APP_SERVER, connection
from linklab import COM, LAB_DNS, LAB_DNS_WITHOUT_AVAYA, LAB_SNTP, NODES, SERVER, configure

SILENT_DNS = '127.0.53.99'   # nothing listens there
STORAGE = 'storage.googleapis.com'
STORAGE_ADDRESS = '127.0.46.1'


def _dns_task(register, **options):
    return {'name': 'dns check %s' % register, 'ipoffice.subscription.dns_check': options, 'register': register,
            'ignore_errors': True}


def _time_task(register, **options):
    return {'name': 'time check %s' % register, 'ipoffice.subscription.time_check': options, 'register': register,
            'ignore_errors': True}


def _run(run_playbook, tasks, check=False):
    names = [task['register'] for task in tasks]
    run = run_playbook(tasks, capture=names, extra_args=['--check'] if check else [])
    assert sorted(run.results) == sorted(names), run.output[-3000:]
    return run.results


def _by_check(result):
    return dict((item['check'], item) for item in result['checks'])


def _dns_mark(lab):
    return lab.control('GET', '/lab/dns')['last_seq']


def _dns_queries(lab, since):
    return lab.control('GET', '/lab/dns/queries?since=%d' % since)


def _sntp_mark(lab):
    return lab.control('GET', '/lab/sntp')['last_seq']


def _sntp_queries(lab, since):
    return lab.control('GET', '/lab/sntp/queries?since=%d' % since)


def _checked(result):
    """A result whose checks ran: the task fails exactly when a check failed, msg names each failure."""
    assert 'checks' in result, result.get('msg')
    assert result['changed'] is False
    assert result['failed'] is (not result['passed']) and result['failed'] is bool(result['failed_checks'])
    if result['passed']:
        assert result['msg'].startswith('no ') and 'check failed (' in result['msg']
    else:
        assert result['msg'].startswith('failed: ')
        assert all(name in result['msg'] for name in result['failed_checks'])
    return result


# --- dns_check ------------------------------------------------------------------------------------------------

def test_dns_healthy_passes_and_asks_only_the_configured_server(fresh_lab, run_playbook):
    mark = _dns_mark(fresh_lab)
    results = _run(run_playbook, [_dns_task('dns', server=LAB_DNS, server_address=SERVER)])
    result = _checked(results['dns'])
    assert result['passed'] is True and result['failed_checks'] == [] and result['not_measured'] == []
    assert result['resolved_address'] == COM and result['addresses'] == [COM]
    checks = _by_check(result)
    assert list(checks) == ['dns.server_reachable', 'dns.server_address', 'dns.' + STORAGE, 'dns.lookup_time']
    assert all(item['status'] == 'pass' and item['hint'] is None for item in checks.values())
    assert checks['dns.server_reachable']['measured'] == LAB_DNS
    assert checks['dns.server_address']['measured'] == 1 and checks['dns.server_address']['details']['answered_by'] == LAB_DNS
    assert checks['dns.' + STORAGE]['details']['addresses'] == [STORAGE_ADDRESS]
    lookup_time = checks['dns.lookup_time']
    # Passed (above) is the module's own verdict against its limit; the test adds no time bound of its own.
    assert lookup_time['unit'] == 'ms' and lookup_time['limit'] == 1000 and lookup_time['measured'] >= 0
    # The lab's own log: one A query per name, to the configured server, nothing to anyone else.
    queries = _dns_queries(fresh_lab, mark)
    assert sorted((entry['server'], entry['name'], entry['qtype']) for entry in queries) == [
        (LAB_DNS, SERVER, 'A'), (LAB_DNS, STORAGE, 'A')]
    assert all(entry['rcode'] == 'NOERROR' and entry['client'].startswith('127.') for entry in queries)


def test_dns_check_mode_gives_the_same_answer(fresh_lab, run_playbook):
    results = _run(run_playbook, [_dns_task('dns', server=LAB_DNS, server_address=SERVER)], check=True)
    result = _checked(results['dns'])
    assert result['passed'] is True and result['resolved_address'] == COM


def test_dns_nxdomain_no_address_and_two_addresses_fail_with_their_hints(fresh_lab, run_playbook):
    results = _run(run_playbook, [
        _dns_task('nxdomain', server=LAB_DNS_WITHOUT_AVAYA, server_address=SERVER),
        _dns_task('noaddr', server=LAB_DNS, server_address='admin.noaddr.avaya-sub.com'),
        _dns_task('twoaddr', server=LAB_DNS, server_address='admin.twoaddr.avaya-sub.com'),
    ])
    nxdomain = _checked(results['nxdomain'])
    assert nxdomain['passed'] is False and nxdomain['failed_checks'] == ['dns.server_address']
    check = _by_check(nxdomain)['dns.server_address']
    assert check['details']['rcode'] == 'NXDOMAIN' and check['measured'] == 0
    assert '*.avaya-sub.com' in check['hint']
    assert _by_check(nxdomain)['dns.' + STORAGE]['status'] == 'pass'   # that server still knows storage
    assert nxdomain['resolved_address'] is None and nxdomain['addresses'] == []

    noaddr = _checked(results['noaddr'])
    check = _by_check(noaddr)['dns.server_address']
    assert noaddr['failed_checks'] == ['dns.server_address'] and check['details']['rcode'] == 'NOERROR'
    assert check['measured'] == 0 and 'external access' in check['hint'] and 'avaya-sub.com' in check['hint']

    twoaddr = _checked(results['twoaddr'])
    check = _by_check(twoaddr)['dns.server_address']
    assert twoaddr['failed_checks'] == ['dns.server_address'] and check['measured'] == 2 and check['limit'] == 1
    assert 'COM must be one static address' in check['hint']
    assert len(twoaddr['addresses']) == 2 and twoaddr['resolved_address'] is None


def test_dns_unreachable_server_fails_within_the_timeout(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/dns/%s/mode' % LAB_DNS, {'mode': 'silent'})
    mark = _dns_mark(fresh_lab)
    names = [STORAGE, 'a.example.test', 'b.example.test']
    results = _run(run_playbook, [
        _dns_task('nobody', server=SILENT_DNS, server_address=SERVER, timeout=1),
        _dns_task('silent', server=LAB_DNS, server_address=SERVER, names=names, timeout=1),
    ])
    for name in ('nobody', 'silent'):
        result = _checked(results[name])
        checks = _by_check(result)
        assert result['passed'] is False and result['failed_checks'] == ['dns.server_reachable']
        assert 'no configured DNS server answered' in checks['dns.server_reachable']['hint']
        assert 'no answer within 1 s' in checks['dns.server_reachable']['hint']
        # Nothing measured is never reported as passed.
        assert all(checks[check]['status'] == 'not_measured' for check in result['not_measured'])
        assert 'dns.server_address' in result['not_measured'] and 'dns.lookup_time' in result['not_measured']
        assert result['resolved_address'] is None
    # Bounded by counts, not a stopwatch: the silent server received each name exactly once (no retries), and each
    # query waits one timeout at most (tests/unit: test_dnsquery.py reads the waits from the socket, and
    # test_dns_check.py shows the lookups run at the same time).
    queries = _dns_queries(fresh_lab, mark)
    assert sorted(entry['name'] for entry in queries) == sorted([SERVER] + names)
    assert all(entry['server'] == LAB_DNS and entry['rcode'] is None for entry in queries)


def test_dns_backup_server_answers_when_the_first_is_silent_but_not_after_nxdomain(fresh_lab, run_playbook):
    mark = _dns_mark(fresh_lab)
    results = _run(run_playbook, [
        _dns_task('backup', server=SILENT_DNS, backup_server=LAB_DNS, server_address=SERVER, timeout=1),
        _dns_task('nxdomain', server=LAB_DNS_WITHOUT_AVAYA, backup_server=LAB_DNS, server_address=SERVER, timeout=1),
    ])
    backup = _checked(results['backup'])
    checks = _by_check(backup)
    assert backup['failed_checks'] == ['dns.lookup_time'] and backup['resolved_address'] == COM
    assert checks['dns.server_reachable']['status'] == 'pass' and checks['dns.server_reachable']['measured'] == LAB_DNS
    assert 'the DNS server %s gave no usable answer' % SILENT_DNS in checks['dns.server_reachable']['summary']
    assert checks['dns.server_address']['details']['answered_by'] == LAB_DNS
    # The silent first server shows in the lookup time, as it would on the IP Office: its one timeout (1 s) alone
    # exceeds max_lookup_ms (1000 by default), so dns.lookup_time fails and says why.
    assert checks['dns.lookup_time']['measured'] > checks['dns.lookup_time']['limit'] == 1000
    assert 'backup' in checks['dns.lookup_time']['hint']
    nxdomain = _checked(results['nxdomain'])
    assert nxdomain['failed_checks'] == ['dns.server_address']
    # NXDOMAIN settles the name: the backup was asked about the first task's names only.
    asked_backup = [entry['name'] for entry in _dns_queries(fresh_lab, mark) if entry['server'] == LAB_DNS]
    assert sorted(asked_backup) == sorted([SERVER, STORAGE])


def test_dns_follows_the_records_and_mode_of_the_lab_server(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/dns/%s/records' % LAB_DNS, {'admin.new.avaya-sub.com': ['127.0.44.7'], STORAGE: None})
    first = _checked(_run(run_playbook, [_dns_task('dns', server=LAB_DNS, server_address='admin.new.avaya-sub.com')])['dns'])
    assert first['resolved_address'] == '127.0.44.7'
    assert first['failed_checks'] == ['dns.' + STORAGE]
    assert 'external access to %s' % STORAGE in _by_check(first)['dns.' + STORAGE]['hint']
    fresh_lab.control('POST', '/lab/dns/%s/mode' % LAB_DNS, {'mode': 'refuse'})
    refused = _checked(_run(run_playbook, [_dns_task('dns', server=LAB_DNS, server_address=SERVER)])['dns'])
    check = _by_check(refused)['dns.server_reachable']
    assert refused['failed_checks'] == ['dns.server_reachable'] and 'answered REFUSED' in check['hint']
    assert 'recursive' in check['hint']


def test_dns_bad_input_fails_before_any_query(fresh_lab, run_playbook):
    mark = _dns_mark(fresh_lab)
    results = _run(run_playbook, [
        _dns_task('server', server='dns.example.test', server_address=SERVER),
        _dns_task('address', server=LAB_DNS, server_address='https://admin.lab1.avaya-sub.com/'),
        _dns_task('names', server=LAB_DNS, server_address=SERVER, names=[STORAGE, 'not a name']),
        _dns_task('timeout', server=LAB_DNS, backup_server='127.0.53', server_address=SERVER, timeout=0),
    ])
    assert "server must be an IPv4 address in dotted-quad form: got 'dns.example.test'" in results['server']['msg']
    assert "server_address must be a host name such as admin.uk1.avaya-sub.com, not a URL" in results['address']['msg']
    assert "names[1] must be a host name such as storage.googleapis.com: got 'not a name'" in results['names']['msg']
    assert "backup_server must be an IPv4 address in dotted-quad form: got '127.0.53'" in results['timeout']['msg']
    assert 'timeout must be more than 0 and at most 60: got 0.0' in results['timeout']['msg']
    assert all(results[name]['failed'] for name in results)
    assert _dns_queries(fresh_lab, mark) == []


# --- time_check -----------------------------------------------------------------------------------------------

def _offset_is(result, skew):
    """The lab's SNTP server tells this machine's clock plus `skew`, so RFC 4330 puts the true offset, `skew`, within
    half the measured round trip of the offset measured: a property of the measurement, not a stopwatch bound
    (1 ms for the result's rounding)."""
    return abs(result['offset_seconds'] - skew) <= result['round_trip_ms'] / 2000.0 + 0.001


def test_time_healthy_passes_and_asks_the_configured_source(fresh_lab, run_playbook):
    mark = _sntp_mark(fresh_lab)
    results = _run(run_playbook, [_time_task('time', server=LAB_SNTP, time_zone='Europe/London')])
    result = _checked(results['time'])
    assert result['passed'] is True and result['failed_checks'] == []
    checks = _by_check(result)
    assert list(checks) == ['time.source_reachable', 'time.offset', 'time.time_zone']
    assert _offset_is(result, 0) and checks['time.offset']['limit'] == 5 and checks['time.offset']['unit'] == 's'
    assert result['address'] == LAB_SNTP and result['resolved_through'] == 'address' and result['stratum'] == 2
    assert checks['time.time_zone']['measured'] == 'Europe/London'
    queries = _sntp_queries(fresh_lab, mark)
    assert len(queries) == 1 and queries[0]['version'] == 4 and queries[0]['answered'] is True


def test_time_server_name_is_resolved_through_the_configured_dns_server(fresh_lab, run_playbook):
    dns_mark = _dns_mark(fresh_lab)
    results = _run(run_playbook, [_time_task('time', server='time.lab', dns_server=LAB_DNS, time_zone='UTC')],
                   check=True)
    result = _checked(results['time'])
    assert result['passed'] is True and result['address'] == LAB_SNTP and result['resolved_through'] == 'dns_server'
    assert [(entry['server'], entry['name']) for entry in _dns_queries(fresh_lab, dns_mark)] == [(LAB_DNS, 'time.lab')]


def test_time_server_name_goes_to_the_backup_dns_server_when_the_first_does_not_answer(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/dns/%s/mode' % LAB_DNS_WITHOUT_AVAYA, {'mode': 'silent'})
    dns_mark, sntp_mark = _dns_mark(fresh_lab), _sntp_mark(fresh_lab)
    results = _run(run_playbook, [
        _time_task('backup', server='time.lab', dns_server=LAB_DNS_WITHOUT_AVAYA, backup_dns_server=LAB_DNS, time_zone='UTC',
                   timeout=1),
        # Without the backup the same primary leaves the name unresolved: the backup is what made the difference.
        _time_task('alone', server='time.lab', dns_server=LAB_DNS_WITHOUT_AVAYA, time_zone='UTC', timeout=1),
    ])
    backup = _checked(results['backup'])
    assert backup['passed'] is True and backup['address'] == LAB_SNTP and backup['resolved_through'] == 'backup_dns_server'
    reachable = _by_check(backup)['time.source_reachable']
    assert reachable['details']['resolved_through'] == 'backup_dns_server' and reachable['details']['addresses'] == [LAB_SNTP]
    alone = _checked(results['alone'])
    assert alone['failed_checks'] == ['time.source_reachable'] and alone['address'] is None
    assert 'the DNS server %s: no answer within 1 s' % LAB_DNS_WITHOUT_AVAYA in _by_check(alone)['time.source_reachable']['hint']
    # The lab's logs: the silent first server was asked first, once per task, the backup once; one SNTP query went out.
    queries = [(entry['server'], entry['name'], entry['rcode']) for entry in _dns_queries(fresh_lab, dns_mark)]
    assert sorted(queries, key=str) == sorted([(LAB_DNS_WITHOUT_AVAYA, 'time.lab', None), (LAB_DNS_WITHOUT_AVAYA, 'time.lab', None),
                                               (LAB_DNS, 'time.lab', 'NOERROR')], key=str)
    assert [entry['answered'] for entry in _sntp_queries(fresh_lab, sntp_mark)] == [True]


def test_time_skewed_source_fails_with_the_measured_offset(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/sntp', {'skew_seconds': 3600})
    result = _checked(_run(run_playbook, [_time_task('time', server=LAB_SNTP, time_zone='Europe/London')])['time'])
    check = _by_check(result)['time.offset']
    assert result['failed_checks'] == ['time.offset'] and check['status'] == 'fail'
    assert _offset_is(result, 3600) and check['measured'] == result['offset_seconds']
    assert 'COM refuses a clock too far off' in check['hint']
    # Without ignore_errors the failed check stops the play, and the message says what to fix.
    task = {'name': 'time check', 'ipoffice.subscription.time_check': {'server': LAB_SNTP, 'time_zone': 'Europe/London'}}
    run = run_playbook([task])
    assert run.rc == 2 and 'failed: time.offset (the time source %s' % LAB_SNTP in run.output


def test_time_silent_source_fails_unreachable_within_the_timeout(fresh_lab, run_playbook):
    fresh_lab.control('POST', '/lab/sntp', {'mode': 'silent'})
    mark = _sntp_mark(fresh_lab)
    results = _run(run_playbook, [
        _time_task('silent', server=LAB_SNTP, time_zone='Europe/London', timeout=1),
        _time_task('unknown', server='nowhere.lab', dns_server=LAB_DNS, time_zone='Europe/London', timeout=1),
    ])
    silent = _checked(results['silent'])
    checks = _by_check(silent)
    assert silent['failed_checks'] == ['time.source_reachable'] and silent['not_measured'] == ['time.offset']
    assert 'did not answer' in checks['time.source_reachable']['hint']
    assert 'within 1 s' in checks['time.source_reachable']['hint']
    assert silent['offset_seconds'] is None
    # Within the timeout, by count: asked once, no retry (the unit tests read the one wait from the client's socket).
    queries = _sntp_queries(fresh_lab, mark)
    assert len(queries) == 1 and queries[0]['answered'] is False, queries
    unknown = _checked(results['unknown'])
    assert unknown['failed_checks'] == ['time.source_reachable'] and unknown['address'] is None
    assert 'does not resolve' in _by_check(unknown)['time.source_reachable']['hint']
    assert 'NXDOMAIN' in _by_check(unknown)['time.source_reachable']['hint']


def test_time_empty_or_bad_time_zone_fails(fresh_lab, run_playbook):
    results = _run(run_playbook, [
        _time_task('empty', server=LAB_SNTP, time_zone=''),
        _time_task('bad', server=LAB_SNTP, time_zone='Mars/Olympus_Mons'),
    ])
    empty = _checked(results['empty'])
    assert empty['failed_checks'] == ['time.time_zone'] and 'no time zone is set' in _by_check(empty)['time.time_zone']['summary']
    bad = _checked(results['bad'])
    check = _by_check(bad)['time.time_zone']
    assert bad['failed_checks'] == ['time.time_zone'] and check['measured'] == 'Mars/Olympus_Mons'
    assert "IANA time zone name such as Europe/London: got 'Mars/Olympus_Mons'" in check['hint']


def test_time_bad_input_fails_before_any_packet(fresh_lab, run_playbook):
    sntp_mark, dns_mark = _sntp_mark(fresh_lab), _dns_mark(fresh_lab)
    results = _run(run_playbook, [
        _time_task('server', server='ntp://time.lab', dns_server=LAB_DNS, time_zone='UTC'),
        _time_task('dns', server='time.lab', dns_server='localhost', time_zone='UTC'),
        _time_task('limits', server=LAB_SNTP, port=0, max_offset_seconds=-1, time_zone='UTC'),
        _time_task('zone', server=LAB_SNTP),
    ])
    assert "server must be a host name or an IPv4 address, not a URL or a path: got 'ntp://time.lab'" in results['server']['msg']
    assert "dns_server must be an IPv4 address in dotted-quad form: got 'localhost'" in results['dns']['msg']
    assert 'port must be a TCP port from 1 to 65535: got 0' in results['limits']['msg']
    assert 'max_offset_seconds must be more than 0: got -1.0' in results['limits']['msg']
    assert 'missing required arguments: time_zone' in results['zone']['msg']
    assert all(results[name]['failed'] for name in results)
    assert _sntp_queries(fresh_lab, sntp_mark) == [] and _dns_queries(fresh_lab, dns_mark) == []


# --- both, fed from what the IP Office has --------------------------------------------------------------------

def test_checks_fed_from_system_info_use_what_the_system_has(fresh_lab, run_playbook):
    configure(fresh_lab, 'ip500-single', dns=LAB_DNS_WITHOUT_AVAYA)
    node = NODES['ip500-single'][1]
    dns_mark = _dns_mark(fresh_lab)
    read_args = connection(fresh_lab, SINGLE_APP_SERVER, node_address=node, gather_subset=['system'])
    read = {'name': 'read', 'ipoffice.subscription.system_info': read_args, 'register': 'ipo'}
    tasks = [read,
             _dns_task('dns', server='{{ ipo.systems[0].dns.server }}',
                       server_address='{{ ipo.systems[0].subscription.server_address }}'),
             _time_task('time', server='{{ ipo.systems[0].time.server }}', dns_server='{{ ipo.systems[0].dns.server }}',
                        time_zone='{{ ipo.systems[0].time.time_zone }}')]
    run = run_playbook(tasks, capture=['dns', 'time'])
    dns_result, time_result = _checked(run.results['dns']), _checked(run.results['time'])
    assert dns_result['failed_checks'] == ['dns.server_address']
    assert _by_check(dns_result)['dns.server_address']['details']['rcode'] == 'NXDOMAIN'
    assert time_result['passed'] is True and time_result['address'] == LAB_SNTP
    ours = [entry for entry in _dns_queries(fresh_lab, dns_mark) if entry['name'] in (SERVER, STORAGE)
            and not entry['client'].startswith('127.0.11.')]   # the system's own link agent asks from its LAN1
    assert ours and all(entry['server'] == LAB_DNS_WITHOUT_AVAYA for entry in ours)
