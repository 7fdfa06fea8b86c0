# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import link_status, schema

# A device answer as the API sends it: quoted values, one alarm as an object.
WIRE_STATUS = {
    '@GUID': 'A' * 32, 'PBXAddress': '192.0.2.1', 'LinkState': 'ErrorMode', 'Reason': 'port_refused',
    'ReasonText': 'TCP 192.0.2.9:443 refused the connection', 'MissingPrerequisites': '', 'ServerAddress': 'admin.uk1.avaya-sub.com',
    'ResolvedAddress': '192.0.2.9', 'Port': '0', 'ConnectedSince': '', 'LastHeartbeat': '2026-11-24T10:00:00Z',
    'LastAttempt': '2026-11-25T10:00:00Z', 'Attempts': '17', 'RoundTripMs': '12', 'ErrorModeSince': '2026-11-24T10:00:05Z',
    'GracePeriodDays': '30', 'GraceDaysLeft': '29', 'Alarms': {'Alarm': {'Day': '1', 'Raised': '2026-11-24T10:00:05Z', 'Text': 'day 1'}},
    'Telephony': 'Active', 'SubscriptionFeatures': 'Active', 'TimeSynchronised': 'true', 'TimeOffsetMs': '-3', 'LastLicenseUpdate': '',
}


def licence(status, grace=False, key='Subscription Power User'):
    return {'key': key, 'display_name': 'Power User', 'quantity': 10, 'expiry_date': '2027/11/24', 'status': status, 'is_grace': grace}


def test_a_device_status_reads_as_typed_facts_with_one_alarm_as_a_list():
    facts = schema.to_facts('SubscriptionStatus', schema.normalise('SubscriptionStatus', WIRE_STATUS))
    node = link_status.node_status(facts, [licence(1, grace=True)])
    assert node['link']['state'] == 'error_mode'
    assert node['link']['port'] is None and node['link']['attempts'] == 17 and node['link']['time_offset_ms'] == -3
    assert node['grace'] == {'in_error_mode': True, 'expired': False, 'error_mode_since': '2026-11-24T10:00:05Z',
                             'period_days': 30, 'days_left': 29}
    assert node['alarms'] == [{'day': 1, 'raised': '2026-11-24T10:00:05Z', 'text': 'day 1'}]
    assert node['licence_status']['grace'] is True
    assert node['ready'] is False


def test_an_unknown_device_state_is_reported_as_unknown_not_guessed():
    assert link_status.link_facts({'link_state': 'Rebooting'})['state'] == 'unknown'


@pytest.mark.parametrize('statuses, expected', [
    ([], 'none'),
    ([1, 1], 'valid'),
    ([1, 2], 'partly_expired'),
    ([2, 2], 'expired'),
    ([0, 1], 'invalid'),
    ([1, 4], 'partly_expired'),
])
def test_licence_summary_names_the_worst_case(statuses, expected):
    summary = link_status.licence_summary([licence(status) for status in statuses])
    assert summary['state'] == expected
    assert summary['valid'] + summary['expired'] + summary['invalid'] + summary['other'] == len(statuses)


def test_ready_needs_a_connected_link_and_valid_licences():
    connected = {'link_state': 'Connected', 'port': 8443}
    assert link_status.node_status(connected, [licence(1)])['ready'] is True
    assert link_status.node_status(connected, [licence(1), licence(2, key='x')])['ready'] is False
    assert link_status.node_status(connected, [])['ready'] is False
    assert link_status.node_status({'link_state': 'Connecting'}, [licence(1)])['ready'] is False


def test_entitlement_dates_become_iso_and_status_words():
    item = link_status.entitlement_facts(licence(2))
    assert item['expiry_date'] == '2027-11-24' and item['status'] == 'expired'


# -- one judgement of a link, for subscription_status, the readiness report and the monitoring report -----------------

def _connected(*licences):
    return link_status.node_status({'link_state': 'Connected', 'port': 443}, list(licences))


@pytest.mark.parametrize('node, ready, problem', [
    (_connected(licence(1)), True, None),
    (_connected(), False, link_status.NO_LICENCES),
    (_connected(licence(1), licence(2, key='x')), False, link_status.LICENCES_NOT_VALID),
    (_connected(licence(1, grace=True)), False, link_status.LICENCES_ON_GRACE),
    (link_status.node_status({'link_state': 'ErrorMode', 'reason_text': 'TCP 443 refused'}, [licence(1)]), False,
     link_status.NOT_CONNECTED),
    (None, False, link_status.NO_STATUS),
    ({'node_address': '192.0.2.1'}, False, link_status.NO_STATUS),
])
def test_one_judgement_of_a_link(node, ready, problem):
    judged = link_status.judge_link(node)
    assert (judged['ready'], judged['problem']) == (ready, problem)
    assert (judged['text'] is None) is ready
    if node and 'link' in node:
        assert node['ready'] is ready   # subscription_status's ready is the same judgement


def test_a_connected_node_without_licences_is_not_ready_in_any_report():
    """The case the three places judged differently: subscription_status, readiness and monitoring now agree."""
    from ansible_collections.ipoffice.subscription.plugins.module_utils import checks, monitoring, readiness
    node = dict(_connected(), node_address='192.0.2.1')
    assert node['ready'] is False
    readiness_checks = dict((item['check'], item) for item in readiness.link_checks(node))
    assert readiness_checks['link.first_connection']['status'] == checks.PASS
    assert readiness_checks['link.licences']['status'] == checks.FAIL
    monitored = dict((item['check'], item) for item in monitoring.node_checks(node, 30))
    assert monitored['link.state']['status'] == checks.PASS and monitored['link.licences']['status'] == checks.FAIL
    assert readiness_checks['link.licences']['hint'] == monitored['link.licences']['hint']
    assert 'delivered no subscription licences' in monitored['link.licences']['hint']


def test_licence_codes_are_one_table():
    assert [link_status.licence_status_word(code) for code in range(8)] == [
        'invalid', 'valid', 'expired', 'token_expired', 'unknown', 'dormant', 'obsolete', 'unknown']
    assert link_status.LICENCE_STATUS[link_status.VALID] == 'valid'
