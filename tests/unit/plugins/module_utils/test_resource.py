# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import resource, schema

SYSTEM = schema.normalise('System', {
    '@GUID': 'G' * 32, 'Name': 'Site', 'Password': '', 'MajorVersion': 12,
    'DNS': {'DNSServerIPAddress': '', 'BackupDNSServerIPAddress': '', 'DNSDomain': 'Example.com'},
    'TimeSettings': {'TimeServerAddress': 'time.google.com', 'TimeZone': 'Europe/London'},
    'Voicemail': {'Type': 1},
})
DNS_SERVER = ('DNS', 'DNSServerIPAddress')


def test_changes_needed_ignores_host_name_case_and_list_order():
    wanted = {('DNS', 'DNSDomain'): 'example.COM', ('TimeSettings', 'TimeServerAddress'): 'Time.Google.com', DNS_SERVER: '8.8.8.8'}
    assert resource.changes_needed('System', SYSTEM, wanted) == {DNS_SERVER: '8.8.8.8'}
    user = {'RightsGroups': ['b', 'a']}
    assert resource.changes_needed('ServiceUser', user, {('RightsGroups',): ['a', 'b']}) == {}


def test_write_only_fields_are_always_a_change():
    assert resource.changes_needed('ServiceUser', {'Password': ''}, {('Password',): 'x'}) == {('Password',): 'x'}


def test_replace_payload_is_the_whole_writable_object_without_empty_passwords():
    payload = resource.build_payload('System', SYSTEM, {DNS_SERVER: '8.8.8.8'}, update='replace')
    assert 'Password' not in payload
    assert payload['Voicemail'] == {'Type': 1} and payload['Name'] == 'Site'
    # A read-only field (the version) does not belong in a write.
    assert 'MajorVersion' not in payload
    assert payload['DNS'] == {'DNSServerIPAddress': '8.8.8.8', 'BackupDNSServerIPAddress': '', 'DNSDomain': 'Example.com'}


def test_replace_payload_sends_a_password_the_task_sets():
    user = schema.normalise('ServiceUser', {'@GUID': 'U', 'Name': 'COMAdmin', 'Password': '', 'RightsGroups': 'a|b'})
    payload = resource.build_payload('ServiceUser', user, {('Password',): 'n3w'})
    assert payload == {'@GUID': 'U', 'Name': 'COMAdmin', 'Password': 'n3w', 'RightsGroups': 'a|b'}


def test_a_merging_device_gets_the_identity_and_the_touched_section_only():
    # The System merges (the schema's declaration, from Avaya's examples): a small write.
    payload = resource.build_payload('System', SYSTEM, {DNS_SERVER: '8.8.8.8'})
    assert payload == {'@GUID': 'G' * 32, 'DNS': {'DNSServerIPAddress': '8.8.8.8', 'BackupDNSServerIPAddress': '', 'DNSDomain': 'Example.com'}}
    two = resource.build_payload('System', SYSTEM, {DNS_SERVER: '8.8.8.8', ('TimeSettings', 'TimeZone'): 'UTC'})
    assert sorted(two) == ['@GUID', 'DNS', 'TimeSettings'] and two['TimeSettings']['TimeZone'] == 'UTC'


def test_the_lans_key_stays_but_nothing_read_only_goes_out():
    system = schema.normalise('System', {'@GUID': 'G' * 32, 'SystemType': 'IP500 V2', 'LANS': {'LAN': {'@id': 'LAN1', 'IPAddress': '192.0.2.1'}}})
    payload = resource.build_payload('System', system, {('LANS',): system['LANS']}, update='replace')
    assert 'SystemType' not in payload and payload['LANS']['LAN']['@id'] == 'LAN1'


def test_replace_without_the_password_is_a_risk_only_where_the_device_clears_it():
    assert resource.write_only_at_risk('ServiceUser', {('AccountStatus',): 'Enabled'}) == ['Password']
    assert resource.write_only_at_risk('ServiceUser', {('Password',): 'x'}) == []
    assert resource.write_only_at_risk('System', {DNS_SERVER: '8.8.8.8'}) == []


def test_verify_write_accepts_exactly_the_intended_change():
    after = resource.apply_changes(SYSTEM, {DNS_SERVER: '8.8.8.8'})
    assert resource.verify_write('System', SYSTEM, after, {DNS_SERVER: '8.8.8.8'}) == []


@pytest.mark.parametrize('damage, fragment', [
    ((('Voicemail', 'Type'), 0), 'Voicemail.Type changed from 1 to 0 although the task did not set it'),
    ((('Name',), ''), "Name changed from 'Site' to ''"),
    ((DNS_SERVER, ''), "DNS.DNSServerIPAddress is '', not '8.8.8.8' as written"),
])
def test_verify_write_names_every_field_that_went_wrong(damage, fragment):
    after = resource.apply_changes(SYSTEM, {DNS_SERVER: '8.8.8.8'})
    resource.set_path(after, damage[0], damage[1])
    problems = resource.verify_write('System', SYSTEM, after, {DNS_SERVER: '8.8.8.8'})
    assert any(fragment in p for p in problems), problems


def test_verify_write_notices_a_field_that_vanished():
    after = copy.deepcopy(resource.apply_changes(SYSTEM, {DNS_SERVER: '8.8.8.8'}))
    del after['TimeSettings']['TimeZone']
    assert any('TimeSettings.TimeZone' in p for p in resource.verify_write('System', SYSTEM, after, {DNS_SERVER: '8.8.8.8'}))


def test_reboot_needed_only_for_dns():
    assert resource.reboot_needed('System', {DNS_SERVER: '8.8.8.8'})
    assert not resource.reboot_needed('System', {('TimeSettings', 'TimeZone'): 'UTC'})


def test_section_fact_paths():
    assert schema.section_fact_paths('System', 'DNS')['server'] == DNS_SERVER
