# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validate role through ansible-playbook (playbooks/validate.yml) against
the lab: each scenario of the seeds ends in the right verdict and report line."""

from __future__ import annotations

import json
import os
import threading
import xml.etree.ElementTree as ET

from ansible_collections.ipoffice.subscription.plugins.module_utils import readiness
from browser import evaluate
from conftest import API_PASSWORD
from fleet_report import fleet_document
from linklab import (LAB_DNS, LAB_DNS_WITHOUT_AVAYA, LAB_SNTP, SHAPED_SERVER, com_port, configure, report_check as _check,
                     report_system as _system, run_role_playbook, set_system, unregistered_identity, wait_link, wait_state)


def _validate(lab, tmp_path, host, *args):
    """Run playbooks/validate.yml on one lab inventory host; (process, report document, output)."""
    report_dir = tmp_path / 'readiness'
    return run_role_playbook(lab, tmp_path, host, 'validate.yml', report_dir, 'readiness.json',
                             '-e', 'validate_report_dir=%s' % report_dir, '-e', 'validate_wait_timeout=30', *args)


def test_a_healthy_system_is_ready_and_says_which_port(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single')
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode == 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['verdict'] == 'ready' and entry['failed_checks'] == [] and entry['not_measured'] == []
    assert _check(entry, 'link.first_connection')['measured'] == 'connected on port 443'
    assert 'ip500-single (127.0.11.1): ready' in output
    assert report['fleet'] == dict(report['fleet'], ready=1, not_ready=0, all_ready=True)


def test_443_blocked_is_ready_on_8443_with_a_note(fresh_lab, tmp_path):
    com_port(fresh_lab, 443, mode='refuse')
    configure(fresh_lab, 'ip500-single')
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode == 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['verdict'] == 'ready'
    assert entry['link']['port'] == 8443 and any('8443' in note for note in entry['notes'])
    assert 'ip500-single (127.0.11.1): ready - ' in output


def _not_ready(fresh_lab, tmp_path, host, system, failing, *args):
    proc, report, output = _validate(fresh_lab, tmp_path, host, *args)
    assert proc.returncode != 0, output[-4000:]
    entry = _system(report, system)
    assert entry['verdict'] == 'not_ready'
    assert failing in entry['failed_checks'], entry['failed_checks']
    assert entry['checks'][0]['status'] == 'fail' and entry['checks'][0]['hint']
    assert '%s (' % system in output and 'NOT READY' in output
    assert 'not ready for subscriptions: %s' % system in output
    return entry


def test_both_ports_blocked(fresh_lab, tmp_path):
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    configure(fresh_lab, 'ip500-single')
    _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'ports.any_open')


def test_dns_without_the_avaya_sub_record(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single', dns=LAB_DNS_WITHOUT_AVAYA)
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'dns.server_address')
    assert 'avaya-sub.com' in _check(entry, 'dns.server_address')['hint']


def test_a_time_server_name_goes_to_the_nodes_backup_dns_server_when_the_first_does_not_answer(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single', time_server='time.lab')
    set_system(fresh_lab, 'ip500-single', DNS={'DNSServerIPAddress': LAB_DNS_WITHOUT_AVAYA, 'BackupDNSServerIPAddress': LAB_DNS,
                                               'DNSDomain': ''})
    fresh_lab.control('POST', '/lab/dns/%s/mode' % LAB_DNS_WITHOUT_AVAYA, {'mode': 'silent'})
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single', '-e', 'validate_check_timeout=1')
    entry = _system(report, 'ip500-single')
    reachable = _check(entry, 'time.source_reachable')
    assert reachable['status'] == 'pass', reachable
    assert reachable['details']['resolved_through'] == 'backup_dns_server' and reachable['details']['addresses'] == [LAB_SNTP]
    assert _check(entry, 'time.offset')['status'] == 'pass'
    # The silent first server costs dns_check its lookup time, as it costs the IP Office.
    assert _check(entry, 'dns.server_reachable')['status'] == 'pass' and 'dns.lookup_time' in entry['failed_checks']
    assert [name for name in entry['failed_checks'] if name.startswith('time.')] == [] and proc.returncode != 0, output[-4000:]


def test_an_identity_com_does_not_know_fails_the_websocket_upgrade_with_a_hint(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single')
    # With the system's own identity (lab.yml's lab_identity) the upgrade passes.
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode == 0, output[-4000:]
    assert _check(_system(report, 'ip500-single'), 'tls.websocket')['status'] == 'pass'
    # With a certificate the lab CA signed for a system no customer registered, COM refuses the upgrade.
    unknown = unregistered_identity(fresh_lab, tmp_path)
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'tls.websocket',
                       '-e', 'validate_client_cert=%s' % unknown['client_cert'], '-e', 'validate_client_key=%s' % unknown['client_key'])
    websocket = _check(entry, 'tls.websocket')
    assert 'refused the upgrade with HTTP 403' in websocket['summary']
    assert 'does not accept this client identity' in websocket['hint'] and 'registered with the customer' in websocket['hint']
    assert entry['failed_checks'] == ['tls.websocket'], entry['failed_checks']


def test_a_system_with_another_customers_id_is_not_ready_and_the_report_says_why(fresh_lab, tmp_path):
    # LAB-0002 is a customer COM knows; ip500-single is registered to LAB-0001 (tests/lab/topology.yml).
    configure(fresh_lab, 'ip500-single', customer='LAB-0002')
    wait_link(fresh_lab, 'ip500-single', lambda current: current['Reason'] == 'com_rejected', 15, 'com_rejected')
    # Not waited for: the link cannot come with this customer ID.
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'link.first_connection', '-e', 'validate_wait_for_link=false')
    link = _check(entry, 'link.first_connection')
    reason = 'identity_mismatch (system ip500-single is registered to customer LAB-0001, not LAB-0002)'
    assert reason in link['hint'] and link['details']['reason'] == 'com_rejected'
    assert reason in entry['link']['reason'] and entry['link']['state'] == 'connecting'
    # The lab's throughput test is refused for the same reason: not measured, and it says why.
    throughput = _check(entry, 'quality.throughput')
    assert throughput['status'] == 'not_measured' and 'registered to customer LAB-0001, not LAB-0002' in throughput['summary']


def test_a_server_name_with_two_addresses(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single', server='admin.twoaddr.avaya-sub.com')
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'dns.server_address')
    assert 'one static' in _check(entry, 'dns.server_address')['hint']


def test_a_tls_intercepting_proxy(fresh_lab, tmp_path):
    com_port(fresh_lab, 443, cert='rogue')
    com_port(fresh_lab, 8443, cert='rogue')
    configure(fresh_lab, 'ip500-single')
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'tls.server_certificate')
    assert 'intercept' in _check(entry, 'tls.server_certificate')['hint'].lower()


def test_250_ms_round_trip(fresh_lab, tmp_path):
    fresh_lab.control('POST', '/lab/shaper', {'latency_ms': 250})
    configure(fresh_lab, 'ip500-single', server=SHAPED_SERVER)
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'quality.round_trip')
    assert _check(entry, 'quality.round_trip')['measured'] >= 250


def test_64_kbit_per_second(fresh_lab, tmp_path):
    fresh_lab.control('POST', '/lab/shaper', {'rate_kbps': 64})
    configure(fresh_lab, 'ip500-single', server=SHAPED_SERVER)
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'quality.throughput')
    assert _check(entry, 'quality.throughput')['measured'] < 128


def test_an_unreachable_time_source(fresh_lab, tmp_path):
    fresh_lab.control('POST', '/lab/sntp', {'mode': 'silent'})
    configure(fresh_lab, 'ip500-single')
    _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'time.source_reachable')


def test_a_skewed_time_source(fresh_lab, tmp_path):
    fresh_lab.control('POST', '/lab/sntp', {'skew_seconds': 3600})
    configure(fresh_lab, 'ip500-single')
    entry = _not_ready(fresh_lab, tmp_path, 'ip500-single', 'ip500-single', 'time.offset')
    assert abs(_check(entry, 'time.offset')['measured']) > 3000


def test_server_edition_secondary_expects_no_link(fresh_lab, tmp_path):
    for name in ('se-primary', 'se-secondary', 'se-expansion'):
        configure(fresh_lab, name)
    proc, report, output = _validate(fresh_lab, tmp_path, 'se-primary')
    assert proc.returncode == 0, output[-4000:]
    assert _system(report, 'se-primary')['verdict'] == 'ready'
    for name in ('se-secondary', 'se-expansion'):
        entry = _system(report, name)
        assert entry['verdict'] == 'no_link_expected'
        assert not [item for item in entry['checks'] if item['check'].startswith(('dns.', 'ports.', 'tls.', 'link.'))]
    assert 'se-secondary (127.0.30.2): no link of its own expected' in output


def test_the_html_report_shows_the_failing_system_first_in_a_browser(fresh_lab, tmp_path):
    configure(fresh_lab, 'scn-1')
    configure(fresh_lab, 'scn-2', dns=LAB_DNS_WITHOUT_AVAYA)
    configure(fresh_lab, 'scn-3')
    wait_state(fresh_lab, 'scn-1', 'Connected')
    proc, report, output = _validate(fresh_lab, tmp_path, 'scn')
    assert proc.returncode != 0
    page = str(tmp_path / 'readiness' / 'readiness.html')
    seen = evaluate(page, {
        'text': 'document.body.innerText',
        'first_system': "document.querySelector('section.system h2').innerText",
        'first_failing_check': "document.querySelector('section.system tr.fail td').innerText",
        'fail_colour': "getComputedStyle(document.querySelector('section.system tr.fail td')).backgroundColor",
        'pass_colour': "getComputedStyle(document.querySelector('tr.pass td')).backgroundColor",
        'scripts': 'document.scripts.length',
    })
    assert seen['first_system'].startswith('scn-2') and 'NOT READY' in seen['first_system']
    assert seen['first_failing_check'] == 'dns.server_address'
    assert seen['fail_colour'] != seen['pass_colour']
    text = seen['text']
    assert text.index('scn-2') < text.index('scn-1') and text.index('scn-2') < text.index('scn-3')
    assert '2\nready' in text and '1\nnot ready' in text
    assert seen['scripts'] == 0
    assert API_PASSWORD not in open(page).read()
    # The summary table names the failing system first, its DNS cell failing and linking to its DNS checks.
    summary = evaluate(page, {
        'first_row': "Array.from(document.querySelectorAll('#summary tbody tr')[0].cells).map(c => c.innerText)",
        'headings': "Array.from(document.querySelectorAll('#summary thead th')).map(c => c.innerText)",
        'dns_link': "document.querySelectorAll('#summary tbody tr')[0].cells[3].querySelector('a').getAttribute('href')",
    })
    assert summary['headings'][:3] == ['system', 'verdict', 'route'] and summary['headings'][3] == 'DNS'
    assert summary['first_row'][:2] == ['scn-2', 'NOT READY'] and summary['first_row'][3] == 'FAIL'
    assert summary['dns_link'] == '#system-1-dns'
    # The same verdicts as JUnit XML: one test suite per system, one test case per check.
    junit = ET.parse(str(tmp_path / 'readiness' / 'readiness.xml')).getroot()
    suites = dict((suite.get('name'), suite) for suite in junit.findall('testsuite'))
    assert sorted(suites) == ['scn-1', 'scn-2', 'scn-3']
    failing = [case.get('name') for case in suites['scn-2'].findall('testcase') if case.find('failure') is not None]
    assert failing == _system(report, 'scn-2')['failed_checks'] and 'dns.server_address' in failing
    assert len(suites['scn-1'].findall('testcase')) == len(_system(report, 'scn-1')['checks'])


def test_a_link_that_drops_during_the_run_is_reported_as_it_is_when_the_report_is_written(fresh_lab, tmp_path):
    configure(fresh_lab, 'ip500-single')
    wait_state(fresh_lab, 'ip500-single', 'Connected')
    since = fresh_lab.control('GET', '/lab/dns')['last_seq']
    closed, stop = threading.Event(), threading.Event()

    def firewall_closes_during_the_checks():
        # The DNS check comes after the role's read of the nodes (the link is connected then) and before the port
        # check: the customer's firewall closes both ports at that moment, which takes the link down.
        while not stop.is_set():
            queries = fresh_lab.control('GET', '/lab/dns/queries?since=%d' % since)
            if any(query['name'].rstrip('.') == 'storage.googleapis.com' for query in queries):
                com_port(fresh_lab, 443, mode='refuse')
                com_port(fresh_lab, 8443, mode='refuse')
                closed.set()
                return
            stop.wait(0.05)

    watcher = threading.Thread(target=firewall_closes_during_the_checks, daemon=True)
    watcher.start()
    try:
        proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single')
    finally:
        stop.set()
        watcher.join(10)
    assert closed.is_set(), output[-3000:]
    assert proc.returncode != 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert _check(entry, 'ports.any_open')['status'] == 'fail', 'the ports closed too late for this test: %s' % entry['checks']
    # The link is read after the checks: never "connected on port 443" beside the failed port check.
    link = _check(entry, 'link.first_connection')
    assert link['status'] == 'fail' and link['measured'] != 'connected on port 443', link
    assert entry['link']['state'] != 'connected'
    ports = output.index('TASK [ipoffice.subscription.validate : Check TCP 443 and 8443 to the subscription server]')
    assert output.index('TASK [ipoffice.subscription.validate : Read each node\'s subscription link after the checks]') > ports


def test_the_report_of_200_systems_shows_its_summary_in_the_first_screen_failing_systems_first(tmp_path):
    # A pure-logic input: 200 systems judged by readiness.py from check results of the modules' shapes
    # (tests/system/fleet_report.py), five of them not ready, opened as an operator opens the file.
    doc = fleet_document(200, failing=(17, 103, 188), reboot=(50,), link_down=(150,))
    page = tmp_path / 'readiness.html'
    page.write_text(readiness.to_html(doc))
    seen = evaluate(str(page), {
        'viewport': 'window.innerHeight',
        'table_top': "document.getElementById('summary').getBoundingClientRect().top",
        'first_rows_bottom': "document.querySelectorAll('#summary tbody tr')[5].getBoundingClientRect().bottom",
        'rows': "Array.from(document.querySelectorAll('#summary tbody tr')).map(r => [r.cells[0].innerText, r.cells[1].innerText])",
        'reboot_badge': "document.querySelectorAll('#summary tbody tr')[1].querySelector('.badge.reboot').innerText",
        'first_section': "document.querySelector('section.system').id",
        'dangling': "Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
                    ".filter(h => !h.startsWith('#') || !document.getElementById(h.slice(1))).length",
        # Everything the page loaded: the document alone, nothing from the network or another file.
        'resources': "performance.getEntriesByType('resource').map(e => e.name)",
        'external': "Array.from(document.querySelectorAll('[src], link[href], object, iframe, embed')).length",
        'scripts': 'document.scripts.length',
    })
    # The summary table starts in the first screen and its first rows, the failing systems, are visible there.
    assert seen['table_top'] < seen['viewport'] / 2, seen
    assert seen['first_rows_bottom'] <= seen['viewport'], seen
    rows = seen['rows']
    assert len(rows) == 200
    assert [name for name, verdict in rows[:5]] == ['site-017', 'site-050', 'site-103', 'site-150', 'site-188']
    assert all(verdict == 'NOT READY' for name, verdict in rows[:5]) and all(verdict == 'ready' for name, verdict in rows[5:])
    assert seen['reboot_badge'] == 'reboot pending' and seen['first_section'] == 'system-1'
    assert seen['dangling'] == 0
    assert seen['resources'] == [] and seen['external'] == 0 and seen['scripts'] == 0
    text = page.read_text()
    assert 'http://' not in text and 'https://' not in text and 'url(' not in text and '@import' not in text
    # About 5 KB per system: a fleet of hundreds stays a page a browser opens at once.
    assert os.path.getsize(str(page)) < 200 * 8 * 1024
    assert json.loads(readiness.to_json(doc))['fleet']['not_ready'] == 5


def test_a_throughput_nobody_measured_is_unverified_and_fails_the_play_unless_accepted(fresh_lab, tmp_path):
    """What a real COM offers: no throughput test. Everything else passes and the link comes up, yet the system is
    unverified, never ready: in the JSON, the HTML, the verdict lines and the play's exit status."""
    configure(fresh_lab, 'ip500-single')
    real_com = ('-e', 'validate_lab_throughput_protocol=false')
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single', *real_com)
    assert proc.returncode == 2, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['verdict'] == 'unverified' and entry['failed_checks'] == []
    assert entry['unmeasured_requirements'] == entry['not_measured'] == ['quality.throughput']
    assert _check(entry, 'link.first_connection')['status'] == 'pass' and _check(entry, 'tls.websocket')['status'] == 'pass'
    reason = 'a real COM offers no throughput test; measured only against the lab (lab_throughput_protocol)'
    assert _check(entry, 'quality.throughput')['summary'] == 'not measured: %s' % reason
    assert report['fleet'] == dict(report['fleet'], ready=0, unverified=1, not_ready=0, all_ready=False,
                                   unverified_systems=['ip500-single'])
    assert 'ip500-single (127.0.11.1): UNVERIFIED - not measured: quality.throughput (%s)' % reason in output
    assert 'fleet: 0 of 1 systems ready, 0 not ready, 0 without a link of their own, 1 unverified' in output
    assert 'unverified (nothing failed, but not everything was measured): ip500-single: not measured quality.throughput' in output
    seen = evaluate(str(tmp_path / 'readiness' / 'readiness.html'), {
        'text': 'document.body.innerText',
        'verdict': "document.querySelector('section.system .verdict').innerText",
        'why': "document.querySelector('section.system p.unverified').innerText",
    })
    assert seen['verdict'] == 'UNVERIFIED' and '1\nunverified (not everything measured)' in seen['text']
    assert seen['why'].startswith('Unverified: nothing failed, but not everything was measured: not measured: quality.throughput')

    # Accepted explicitly: the play passes, and the report still says unverified, never ready.
    proc, report, output = _validate(fresh_lab, tmp_path, 'ip500-single', *real_com, '-e', 'validate_accept_unverified=true')
    assert proc.returncode == 0, output[-4000:]
    assert _system(report, 'ip500-single')['verdict'] == 'unverified' and report['fleet']['all_ready'] is False
    assert 'ip500-single (127.0.11.1): UNVERIFIED - ' in output and 'unverified (nothing failed' not in output
