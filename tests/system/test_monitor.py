# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The monitor role through ansible-playbook (playbooks/monitor.yml) against the
lab: a healthy system passes; error mode, an expiry inside the window and an
expired grace period fail the host after the report is written; a Server
Edition Secondary is not applicable; a documented release (no link status
resource) is judged from its licences and the network checks."""

from __future__ import annotations

import datetime

from alarmlab import doc_link_up, history, monitor
from conftest import API_PASSWORD
from linklab import (CUSTOMER, advance_days, com_port, configure, report_check as _check, report_system as _system, run_role_playbook,
                     wait_link, wait_state)


def _monitor(lab, tmp_path, host, *args, report_dir=None):
    """Run playbooks/monitor.yml on one lab inventory host; (process, report document or None, output)."""
    report_dir = report_dir or tmp_path / 'monitoring'
    return run_role_playbook(lab, tmp_path, host, 'monitor.yml', report_dir, 'monitoring.json',
                             '-e', 'monitor_report_dir=%s' % report_dir, *args, timeout=300)


def _connected(lab, name):
    configure(lab, name)
    wait_state(lab, name, 'Connected')


def _error_mode(lab, name):
    _connected(lab, name)
    com_port(lab, 443, mode='refuse')
    com_port(lab, 8443, mode='refuse')
    wait_state(lab, name, 'ErrorMode')


def test_a_healthy_primary_passes_and_its_secondary_is_not_applicable(fresh_lab, tmp_path):
    _connected(fresh_lab, 'se-primary')
    proc, report, output = _monitor(fresh_lab, tmp_path, 'se-primary')
    assert proc.returncode == 0, output[-4000:]
    assert report['kind'] == 'monitoring' and report['fleet'] == dict(report['fleet'], ready=1, not_ready=0, no_link_expected=2)
    primary = _system(report, 'se-primary')
    assert primary['verdict'] == 'ready' and primary['failed_checks'] == []
    assert _check(primary, 'link.state')['measured'] == 'connected on port 443'
    assert _check(primary, 'entitlement.Subscription Power User')['measured'] >= 364
    assert "days counted from the device's date" in primary['notes'][-1]
    for name in ('se-secondary', 'se-expansion'):
        entry = _system(report, name)
        assert entry['verdict'] == 'no_link_expected' and entry['checks'] == []
    assert 'se-primary (127.0.30.1): healthy' in output
    assert 'se-secondary (127.0.30.2): not applicable: no link of its own' in output
    assert 'fleet: 1 of 1 systems healthy, 0 need attention, 2 not applicable' in output
    html = (tmp_path / 'monitoring' / 'monitoring.html').read_text()
    assert '<h1>IP Office subscription monitoring</h1>' in html and API_PASSWORD not in html


def test_day_three_of_error_mode_fails_naming_the_days_left(fresh_lab, tmp_path):
    _error_mode(fresh_lab, 'ip500-single')
    advance_days(fresh_lab, 2)
    # Check mode: the report is printed but not written, and the host does not fail.
    preview = tmp_path / 'preview'
    proc, report, output = _monitor(fresh_lab, tmp_path, 'ip500-single', '--check', report_dir=preview)
    assert proc.returncode == 0, output[-4000:]
    assert report is None and not preview.exists()
    assert 'ip500-single (127.0.11.1): NEEDS ATTENTION - link.state: ' in output and '(check mode: not written)' in output

    proc, report, output = _monitor(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode != 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['verdict'] == 'not_ready' and entry['link']['state'] == 'error_mode'
    assert {'link.state', 'grace.days_left', 'alarms.active'} <= set(entry['failed_checks'])
    assert _check(entry, 'grace.days_left')['measured'] == 28
    link = _check(entry, 'link.state')
    assert link['details']['days_left'] == 28 and link['details']['alarms'] == 3
    assert [alarm['day'] for alarm in _check(entry, 'alarms.active')['details']['alarms']] == [1, 2, 3]
    # The licences still run on the grace period.
    assert _check(entry, 'entitlement.Subscription Power User')['status'] == 'pass'
    assert 'needs attention: ip500-single: error mode, day 3: 28 of 30 days left in the grace period' in output
    assert '28 days' in (tmp_path / 'monitoring' / 'monitoring.html').read_text()


def test_an_entitlement_expiring_inside_the_window_fails_with_key_date_and_days_left(fresh_lab, tmp_path):
    _connected(fresh_lab, 'ip500-single')
    today = datetime.date.fromisoformat(fresh_lab.control('GET', '/lab/clock')['now'][:10])
    expiry = (today + datetime.timedelta(days=10)).isoformat()
    fresh_lab.control('POST', '/lab/com/customers/%s/subscriptions' % CUSTOMER, {'key': 'Subscription Power User', 'expires_in_days': 10})
    wait_link(fresh_lab, 'ip500-single', lambda current: any(item['key'] == 'Subscription Power User' and item['expires'] == expiry
                                                             for item in current['entitlements']), 10, 'the pushed expiry')
    proc, report, output = _monitor(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode != 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['verdict'] == 'not_ready' and entry['failed_checks'] == ['entitlement.Subscription Power User']
    check = _check(entry, 'entitlement.Subscription Power User')
    assert check['measured'] == 10 and check['limit'] == 'more than 30' and check['details']['expiry_date'] == expiry
    assert check['hint'].startswith('renew Subscription Power User before %s (10 days left)' % expiry)
    assert 'needs attention: ip500-single: Subscription Power User expires on %s: 10 days left' % expiry in output

    proc, report, output = _monitor(fresh_lab, tmp_path, 'ip500-single', '-e', 'monitor_expiry_warning_days=5')
    assert proc.returncode == 0, output[-4000:]
    check = _check(_system(report, 'ip500-single'), 'entitlement.Subscription Power User')
    assert check['status'] == 'pass' and check['measured'] == 10 and check['limit'] == 'more than 5'


def test_an_expired_grace_period_fails(fresh_lab, tmp_path):
    _error_mode(fresh_lab, 'ip500-single')
    advance_days(fresh_lab, 30)
    wait_state(fresh_lab, 'ip500-single', 'Expired')
    proc, report, output = _monitor(fresh_lab, tmp_path, 'ip500-single')
    assert proc.returncode != 0, output[-4000:]
    entry = _system(report, 'ip500-single')
    assert entry['link']['state'] == 'expired'
    assert _check(entry, 'link.state')['measured'] == 'grace period expired'
    assert _check(entry, 'grace.days_left')['measured'] == 0
    assert _check(entry, 'entitlement.Subscription Power User')['details']['licence_status'] == 'invalid'
    assert 'subscription features and telephony deactivated' in output


def test_a_documented_system_whose_link_drops_is_judged_from_its_licences_and_the_network_checks(fresh_lab, tmp_path):
    # doc-1 serves only what Avaya documents: no link status resource, no alarms through its API.
    doc_link_up(fresh_lab)
    com_port(fresh_lab, 443, mode='refuse')
    com_port(fresh_lab, 8443, mode='refuse')
    wait_state(fresh_lab, 'doc-1', 'ErrorMode')
    start = fresh_lab.last_seq()
    proc, report, output = monitor(fresh_lab, tmp_path, 'doc')
    assert proc.returncode != 0, output[-4000:]
    assert not [entry for entry in fresh_lab.requests(start) if entry['write']]
    entry = _system(report, 'doc-1')
    assert entry['verdict'] == 'not_ready' and 'api.readable' not in entry['failed_checks']
    # The licences' grace state, from the documented reads, and what they rest on.
    link = _check(entry, 'link.state')
    assert link['measured'] == 'error mode (licences on the grace period)'
    assert link['details']['evidence'].startswith('judged from the documented licences')
    grace = _check(entry, 'grace.days_left')
    assert grace['status'] == 'not_measured' and grace['measured'] is None and grace['limit'] == 30
    assert grace['summary'].startswith('days left unknown: the licences show that the grace period runs (IsGrace), not since when')
    assert _check(entry, 'alarms.active')['status'] == 'not_measured'
    assert _check(entry, 'entitlement.Subscription Power User')['status'] == 'pass'
    # The validate role's network checks, from the controller here: what blocks the link.
    for name in ('ports.443', 'ports.8443', 'ports.any_open'):
        assert _check(entry, name)['status'] == 'fail'
        # Each names where it was measured (the validate role's vantage point, passed on by monitor).
        assert _check(entry, name)['vantage_point'].startswith('the controller'), _check(entry, name)
    assert _check(entry, 'dns.server_address')['status'] == 'pass'
    assert {'link.state', 'ports.any_open'} <= set(entry['failed_checks'])
    assert 'None' not in ' '.join(item['summary'] + (item['hint'] or '') for item in (link, grace))
    # Nothing measured the start: the history bounds the stop date from the first run that saw the error mode.
    (line,) = history(tmp_path / 'monitoring')
    assert (line['system'], line['state'], line['days_left'], line['error_mode_since']) == ('doc-1', 'error_mode', None, None)
    (row,) = report['timeline']
    assert row['telephony_stops'] is None and row['telephony_stops_by'] and row['began'].startswith('on or before ')
    assert 'timeline: doc-1: error mode since on or before ' in output
    assert 'Error mode: when telephony stops' in (tmp_path / 'monitoring' / 'monitoring.html').read_text()
