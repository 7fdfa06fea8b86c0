# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab itself (tests of the emulator, not of the collection): releases that
serve only what Avaya documents, vendor fields nobody modelled, the front panel
a person uses, and a real device's session and lockout rules."""

from __future__ import annotations

import urllib.error

import pytest

from conftest import API_PASSWORD, SE_PRIMARY, login_error
from linklab import client

DOC_API = '127.0.40.1'
DOC_NODE = '127.0.41.1'


def _api_error(call):
    from ansible_collections.ipoffice.subscription.plugins.module_utils import client as api
    with pytest.raises(api.IPOfficeError) as caught:
        call()
    return caught.value


def test_a_documented_release_serves_the_guides_resources_only(fresh_lab):
    with client(fresh_lab, DOC_API) as api:
        system = api.get('System', node_address=DOC_NODE)[0]
        for resource in ('iproutes', 'serviceusers', 'rightsgroups', 'subscriptionstatus'):
            error = _api_error(lambda resource=resource: api.call('GET', resource, node_address=DOC_NODE))
            assert error.details.get('http_status') == 404, resource
        api.call('GET', 'licenses', node_address=DOC_NODE)
    for name in ('DNS', 'TimeSettings', 'Subscription', 'SystemType'):
        assert name not in system, name
    lan = system['LANS']['LAN'][0]
    # The guide's section 4.2 field set, not the lab's old subset.
    for name in ('LanDHCPPools', 'DiffServSettings', 'Scope', 'FirewallProfile'):
        assert name in lan, name
    assert 'GracePLDSHostId' in system['PBXLicense'] and 'PreferredEdition' in system['PBXLicense']['ReservedLicenses']


def test_a_documented_release_refuses_model_fields_and_takes_the_guides_pbxlicense_write(fresh_lab):
    with client(fresh_lab, DOC_API) as api:
        error = _api_error(lambda: api.call('PUT', 'systems', node_address=DOC_NODE, objects=[
            ('System', {'DNS': {'DNSServerIPAddress': '127.0.53.53'}})]))
        assert 'DNS: unknown field' in str(error)
        # The guide's example: only three PBXLicense fields and no GUID.
        answer = api.call('PUT', 'systems', node_address=DOC_NODE, objects=[('System', {'PBXLicense': {
            'EnableRemoteServer': True, 'LicenseServerURL': 'https://admin.lab1.avaya-sub.com', 'LicenseServerID': '42'}})])
        assert answer.ok
    stored = fresh_lab.system('doc-1')['config']['System']
    assert stored['PBXLicense']['LicenseServerURL'] == 'https://admin.lab1.avaya-sub.com'
    assert stored['PBXLicense']['LicenseMode'] == 4  # merged: the rest kept
    assert stored['DNS']['DNSServerIPAddress'] == ''  # the refused write changed nothing


@pytest.mark.parametrize('semantics', ['merge', 'replace'])
def test_vendor_fields_are_served_kept_by_a_merge_and_emptied_by_a_replace(fresh_lab, semantics):
    fresh_lab.control('POST', '/lab/systems/se-primary/semantics', {'System': semantics})
    with client(fresh_lab, SE_PRIMARY) as api:
        system = api.get('System', node_address=SE_PRIMARY)[0]
        assert system['Directory'] == {'LdapEnable': False, 'LdapServerIPAddress': '127.0.88.1', 'LdapPort': 389}
        assert system['CodecLockdown'] == 'G711A|G729'
        api.call('PUT', 'systems', node_address=SE_PRIMARY, objects=[('System', {'@GUID': system['@GUID'], 'Name': 'se-primary'})])
        after = fresh_lab.system('se-primary')['config']['System']
        if semantics == 'merge':
            assert after['Directory'] == system['Directory'] and after['CodecLockdown'] == 'G711A|G729'
        else:
            assert after['Directory'] == {'LdapEnable': False, 'LdapServerIPAddress': '', 'LdapPort': 0}
            assert after['CodecLockdown'] == '' and after['MediaConnectionPreservation'] is False
        # Sent back, they are stored; the object as read is refused (it carries read-only fields, as a strict
        # device refuses them), and so is a field the system does not have.
        vendor = dict((key, system[key]) for key in ('Directory', 'CodecLockdown', 'MediaConnectionPreservation'))
        api.call('PUT', 'systems', node_address=SE_PRIMARY, objects=[('System', dict(vendor, **{'@GUID': system['@GUID']}))])
        assert fresh_lab.system('se-primary')['config']['System']['Directory']['LdapServerIPAddress'] == '127.0.88.1'
        error = _api_error(lambda: api.call('PUT', 'systems', node_address=SE_PRIMARY, objects=[('System', dict(system))]))
        assert 'read-only field' in str(error)
        error = _api_error(lambda: api.call('PUT', 'systems', node_address=SE_PRIMARY, objects=[
            ('System', {'@GUID': system['@GUID'], 'NoSuchField': 1})]))
        assert 'NoSuchField: unknown field' in str(error)


def test_the_front_panel_sets_what_a_person_enters_and_refuses_what_web_manager_would(fresh_lab):
    entered = {'dns_server': '127.0.53.53', 'customer_id': 'LAB-0001', 'default_route': {'gateway': '127.0.41.254'}}
    done = fresh_lab.control('POST', '/lab/systems/doc-1/panel', entered)
    assert sorted(done['changed']) == ['customer_id', 'default_route', 'dns_server'] and done['reboot_pending'] is True
    stored = fresh_lab.system('doc-1')['config']
    assert stored['System']['DNS']['DNSServerIPAddress'] == '127.0.53.53'
    assert [route for route in stored['IPRoute'] if route['IPAddress'] == '0.0.0.0'][0]['GatewayIPAddress'] == '127.0.41.254'
    for values, message in (({'dns_server': 'dns.example'}, 'dotted-quad'), ({'default_route': {'gateway': '127.0.99.1'}}, 'not in the LAN1 subnet'),
                            ({'wins_server': '127.0.0.9'}, 'unknown settings: wins_server')):
        with pytest.raises(urllib.error.HTTPError) as caught:
            fresh_lab.control('POST', '/lab/systems/doc-1/panel', values)
        assert caught.value.code == 400 and message in caught.value.read().decode(), values
    assert fresh_lab.system('doc-1')['config'] == stored  # a refused entry changes nothing
    assert fresh_lab.control('POST', '/lab/systems/doc-1/reboot') == {'ok': True, 'was_pending': True}
    assert fresh_lab.system('doc-1')['reboot_pending'] is False


def test_a_sixth_session_of_one_account_is_refused_until_one_logs_out(fresh_lab):
    sessions = [client(fresh_lab, SE_PRIMARY) for _count in range(5)]
    for session in sessions:
        session.login()
    error = login_error(fresh_lab, 'apiadmin', API_PASSWORD)
    assert error and 'Limit of concurrent sessions per user exceeded' in error
    # Another account is not limited by this one's sessions.
    assert login_error(fresh_lab, 'readonly', 'Lab-Read-Passw0rd') is None
    logins = [entry for entry in fresh_lab.requests() if entry['resource'] == 'authenticate' and entry['user'] == 'apiadmin']
    assert [entry['open_sessions'] for entry in logins] == [1, 2, 3, 4, 5, 5]


def test_three_wrong_passwords_within_the_window_lock_the_account_for_a_while(fresh_lab):
    fresh_lab.control('POST', '/lab/settings', {'lockout_seconds': 2})
    assert 'rejected' in login_error(fresh_lab, 'apiadmin', 'wrong-1')
    assert login_error(fresh_lab, 'apiadmin', API_PASSWORD) is None
    # A good login in between does not wipe the count: the device counts failures in the window.
    assert 'rejected' in login_error(fresh_lab, 'apiadmin', 'wrong-2')
    assert 'rejected' in login_error(fresh_lab, 'apiadmin', 'wrong-3')
    assert 'locked' in login_error(fresh_lab, 'apiadmin', API_PASSWORD).lower()
    locked = fresh_lab.system('se-primary')['locked_accounts']
    assert [entry['user'] for entry in locked] == ['apiadmin']
