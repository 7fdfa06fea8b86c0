# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report as people and CI systems read it: the HTML page's summary table, values written for people,
the pending-reboot badge, verdicts the template does not know by name, and the JUnit XML."""

from __future__ import annotations

import html.parser
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, readiness, report_html, report_junit
from ansible_collections.ipoffice.subscription.plugins.modules import readiness_report

NODE = {
    'name': 'site-1', 'node_address': '192.0.2.1', 'system_type': 'IP500 V2', 'role': 'node', 'holds_subscription_link': True,
    'lans': [{'name': 'LAN1', 'ip_address': '192.0.2.1', 'ip_mask': '255.255.255.0'}],
    'ip_routes': [{'ip_address': '0.0.0.0', 'ip_mask': '0.0.0.0', 'gateway': '192.0.2.254', 'destination': 'LAN1', 'metric': 0}],
    'dns': {'server': '192.0.2.53'}, 'time': {'source': 'SNTP', 'server': 'time.example', 'time_zone': 'Europe/London'},
    'subscription': {'customer_id': 'C-1', 'server_address': 'admin.uk1.avaya-sub.com'},
    'service_users': [{'name': 'COMAdmin', 'account_status': 'Enabled'}],
}


def node(name, address):
    return dict(NODE, name=name, node_address=address, lans=[dict(NODE['lans'][0], ip_address=address)],
                ip_routes=[dict(NODE['ip_routes'][0], gateway=address.rsplit('.', 1)[0] + '.254')])


def connected(address):
    return {'node_address': address, 'link': {'state': 'connected', 'port': 443}, 'licence_status': {'state': 'valid'}}


def results(address, dns_ok=True, offset=-0.0):
    item = {'node_address': address}
    return [
        {'check': 'dns', 'results': [{'item': item, 'checks': [
            checks.passed_if('dns.server_address', dns_ok, measured=1 if dns_ok else 0, limit=1, unit='addresses', summary='resolves',
                             hint="the customer's DNS server must resolve *.avaya-sub.com")]}]},
        {'check': 'ports', 'results': [{'item': item, 'checks': [
            checks.result('ports.443', checks.PASS, measured='open', limit='open', summary='open'),
            checks.result('ports.any_open', checks.PASS, measured=[443, 8443], limit='at least one of 443 and 8443', summary='open')]}]},
        {'check': 'tls', 'results': [{'item': item, 'checks': [
            checks.result('tls.client_certificate_requested', checks.PASS, measured=True, limit=True, summary='asked')]}]},
        {'check': 'quality', 'results': [{'item': item, 'checks': [
            checks.result('quality.throughput', checks.PASS, measured=443445.9, limit=128, unit='kbit/s', summary='fast')]}]},
        {'check': 'time', 'results': [{'item': item, 'checks': [
            checks.result('time.offset', checks.PASS, measured=offset, limit=5, unit='s', summary='in step')]}]},
    ]


def fleet():
    """alpha ready, beta without avaya-sub.com in its DNS, gamma waiting for a reboot, delta a secondary, 'scn' unreadable."""
    reports = [readiness.system_report('a', node('alpha', '192.0.2.1'), connected('192.0.2.1'), results('192.0.2.1')),
               readiness.system_report('b', node('beta', '192.0.2.2'), connected('192.0.2.2'), results('192.0.2.2', dns_ok=False))]
    reboot = [{'node': '192.0.2.3', 'setting': 'reboot', 'label': 'Reboot', 'where': 'System Status', 'value': 'when free'}]
    reports.append(readiness.system_report('c', node('gamma', '192.0.2.3'), connected('192.0.2.3'), results('192.0.2.3'),
                                           manual_steps=reboot))
    reports.append(readiness.system_report('d', dict(node('delta', '192.0.2.4'), role='secondary', holds_subscription_link=False),
                                           None, []))
    reports.extend(readiness.host_reports('scn', [], [], [], error='HTTP 401'))
    return readiness.document(reports, '2026-12-07T10:00:00Z')


class Page(html.parser.HTMLParser):
    """The summary table's rows (cell texts, classes and links) and every id of the page."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.rows, self.headings, self.links = set(), [], [], []
        self._summary = self._row = self._cell = self._head = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get('id'):
            self.ids.add(attrs['id'])
        if tag == 'a' and attrs.get('href'):
            self.links.append(attrs['href'])
        if tag == 'table' and attrs.get('id') == 'summary':
            self._summary = True
        elif self._summary and tag == 'thead':
            self._head = True
        elif self._summary and tag == 'tr' and not self._head:
            self._row = []
            self.rows.append(self._row)
        elif self._summary and tag in ('td', 'th'):
            self._cell = {'class': attrs.get('class') or '', 'text': '', 'href': None}
            (self.headings if self._head else self._row).append(self._cell)
        elif self._cell is not None and tag == 'a':
            self._cell['href'] = attrs.get('href')

    def handle_endtag(self, tag):
        if tag == 'table':
            self._summary = None
        elif tag == 'thead':
            self._head = None
        elif tag in ('td', 'th'):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell['text'] += data


@pytest.mark.parametrize('value, unit, text', [
    (443445.9, 'kbit/s', '443,446 kbit/s'), (1234567, 'ms', '1,234,567 ms'), (-0.0, 's', '0 s'), (-0.0004, 's', '0 s'),
    (0.0123, 's', '0.012 s'), (12.34, 'ms', '12.3 ms'), (2.5, 's', '2.5 s'), (1, 'addresses', '1 address'),
    (0, 'addresses', '0 addresses'), (2, 'addresses', '2 addresses'), (1, 'days', '1 day'), (28, 'days', '28 days'),
    (True, None, 'yes'), (False, None, 'no'), ('not_applicable', None, 'not applicable'), ('error_mode', None, 'error mode'),
    (8443, None, '8443'), ([443, 8443], None, '443, 8443'), ([], None, 'none'), (None, 'ms', '-'),
    ('connected on port 443', None, 'connected on port 443'), ('TLSv1.2', None, 'TLSv1.2'),
])
def test_values_are_written_for_people(value, unit, text):
    assert report_html.value(value, unit) == text


def test_the_summary_table_comes_first_failing_systems_first_one_column_per_area():
    page_text = readiness.to_html(fleet())
    page = Page(page_text)
    assert [cell['text'] for cell in page.headings] == [
        'system', 'verdict', 'route', 'DNS', 'time', 'ports', 'TLS', 'link quality', 'link', 'API / probe host', 'manual steps',
        'pending reboot']
    assert [row[0]['text'] for row in page.rows] == ['beta', 'gamma', 'scn', 'alpha', 'delta']
    assert [row[1]['text'] for row in page.rows] == ['NOT READY', 'NOT READY', 'NOT READY', 'ready', 'no link of its own expected']
    assert page_text.index('id="summary"') < page_text.index('class="system') and page_text.index('id="summary"') < page_text.index('<ul')
    by_system = dict((row[0]['text'], dict(zip([cell['text'] for cell in page.headings], row))) for row in page.rows)
    assert by_system['beta']['DNS']['text'] == 'FAIL' and 'fail' in by_system['beta']['DNS']['class']
    assert by_system['beta']['route']['text'] == 'ok' and by_system['beta']['pending reboot']['text'] == 'no'
    assert by_system['gamma']['pending reboot']['text'] == 'reboot pending' and by_system['gamma']['manual steps']['text'] == '1 open'
    assert by_system['scn']['API / probe host']['text'] == 'FAIL' and by_system['scn']['pending reboot']['text'] == 'unknown'
    assert by_system['delta']['ports']['text'] == '-' and by_system['alpha']['API / probe host']['text'] == '-'
    # Every cell links into the page: to the area's first check in the system's section.
    assert by_system['beta']['DNS']['href'] == '#system-1-dns' and by_system['gamma']['pending reboot']['href'] == '#system-2-reboot'
    for row in page.rows:
        for cell in row:
            assert cell['href'] and cell['href'][1:] in page.ids, (row[0]['text'], cell)
    assert all(link.startswith('#') and link[1:] in page.ids for link in page.links)


def test_the_page_says_nothing_a_program_would_say():
    text = re.sub(r'<style>.*?</style>', '', readiness.to_html(fleet()), flags=re.S)
    visible = re.sub(r'<[^>]+>', ' ', text)
    for raw in ('True', 'False', 'None', 'not_applicable', 'not_measured', 'no_link_expected', '-0.0', '1 addresses', '443445.9'):
        assert raw not in visible, raw
    assert '443,446 kbit/s' in visible and '1 address' in visible and '0 s' in visible and 'yes' in visible


def test_a_pending_reboot_has_a_badge_and_the_blockers_say_what_to_do():
    page = readiness.to_html(fleet())
    section = page[page.index('id="system-2"'):]
    assert re.match(r'id="system-2">\s*<h2>gamma <span class="verdict v-not_ready">NOT READY</span> <span class="badge reboot"', section)
    blockers = page[page.index('<ul class="blockers">'):]
    assert "<b>dns.server_address</b> (1 system: beta)<br><span class=\"hint\">what to do (on beta): the customer&#39;s DNS server " \
           "must resolve *.avaya-sub.com" in blockers


def test_a_blocker_of_many_systems_stays_one_line():
    reports = [readiness.system_report('h', node('s%02d' % index, '192.0.2.%d' % index), connected('192.0.2.%d' % index),
                                       results('192.0.2.%d' % index, dns_ok=False)) for index in range(1, 21)]
    page = readiness.to_html(readiness.document(reports, 'now'))
    assert '(20 systems: s01, s02, s03, s04, s05, s06, s07, s08, s09, s10, s11, s12 and 8 more)' in page


def test_a_verdict_the_template_does_not_know_gets_its_own_class_and_words(monkeypatch):
    monkeypatch.setitem(readiness.VERDICT_TEXT, 'unverified', 'UNVERIFIED')
    doc = fleet()
    doc['systems'][3] = dict(doc['systems'][3], verdict='unverified')
    page = readiness.to_html(doc)
    assert '<span class="verdict v-unverified">UNVERIFIED</span>' in page
    assert re.search(r'\.verdict\.v-unverified\{background:#[0-9a-f]{6}\}', page)
    assert 'section class="system v-unverified"' in page
    # A code nobody wrote words for is still shown as words.
    doc['systems'][3] = dict(doc['systems'][3], verdict='brand_new')
    assert '<span class="verdict v-brand_new">brand new</span>' in readiness.to_html(doc)


def test_device_text_is_escaped_by_the_template():
    doc = fleet()
    doc['systems'][0] = dict(doc['systems'][0], system='<img src=x onerror=alert(1)>', notes=['"><script>alert(1)</script>'])
    page = readiness.to_html(doc)
    assert '<img src=x' not in page and '<script>' not in page and '&lt;img src=x onerror=alert(1)&gt;' in page


def test_junit_has_one_test_case_per_check_per_system():
    doc = fleet()
    root = ET.fromstring(readiness.to_junit(doc))
    assert root.tag == 'testsuites' and root.get('name') == 'IP Office subscription readiness'
    suites = root.findall('testsuite')
    assert [suite.get('name') for suite in suites] == [report['system'] for report in doc['systems']]
    for suite, report in zip(suites, doc['systems']):
        cases = suite.findall('testcase')
        assert [case.get('name') for case in cases] == [item['check'] for item in report['checks']]
        assert int(suite.get('tests')) == len(cases) and int(suite.get('failures')) == len(report['failed_checks'])
        assert int(suite.get('skipped')) == len(report['not_measured'])
        for case, item in zip(cases, report['checks']):
            assert case.get('classname') == report['system']
            failure, skipped = case.find('failure'), case.find('skipped')
            if item['status'] == checks.FAIL:
                assert failure.get('message') == item['hint'] and skipped is None
            elif item['status'] == checks.NOT_MEASURED:
                assert skipped.get('message').startswith('not measured') and failure is None
            else:
                assert failure is None and skipped is None
        properties = dict((prop.get('name'), prop.get('value')) for prop in suite.find('properties'))
        assert properties['verdict'] == report['verdict']
    assert int(root.get('tests')) == sum(len(report['checks']) for report in doc['systems'])
    assert int(root.get('failures')) == sum(len(report['failed_checks']) for report in doc['systems'])
    beta = suites[0]
    failure = [case for case in beta.findall('testcase') if case.get('name') == 'dns.server_address'][0].find('failure')
    assert 'measured: 0 addresses' in failure.text and 'limit: 1 addresses' in failure.text
    gamma = dict((prop.get('name'), prop.get('value')) for prop in suites[1].find('properties'))
    assert gamma['reboot_pending'] == 'yes' and gamma['verdict_text'] == 'NOT READY'
    assert 'reboot.pending' in [case.get('name') for case in suites[1].findall('testcase')]


def test_junit_survives_control_characters_and_markup():
    doc = fleet()
    doc['systems'][0]['checks'][0] = dict(doc['systems'][0]['checks'][0], hint='bad \x01 byte <b>&', summary='x\x1by')
    root = ET.fromstring(report_junit.to_junit(doc))
    failure = root.find('testsuite').find('testcase').find('failure')
    assert failure.get('message') == 'bad ? byte <b>&'


def test_the_monitoring_page_has_its_own_areas():
    doc = readiness.document([], 'now', readiness.MONITORING)
    page = Page(readiness.to_html(doc))
    assert [cell['text'] for cell in page.headings] == ['system', 'verdict', 'link', 'grace period', 'alarms', 'subscriptions']
    root = ET.fromstring(readiness.to_junit(doc))
    assert root.get('name') == 'IP Office subscription monitoring' and root.get('tests') == '0'


def test_the_report_module_writes_junit_as_an_xml_file():
    assert readiness_report._FILES['junit'][0] % 'readiness' == 'readiness.xml'
    assert sorted(readiness_report._FILES) == ['html', 'json', 'junit']
