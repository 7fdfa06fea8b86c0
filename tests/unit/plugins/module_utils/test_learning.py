# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Learning a profile from what a node answers (module_utils/learning.py)."""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import learning

SYSTEM = {'@GUID': 'A' * 32, 'Name': 'site-1', 'Cloud': {'Url': 'https://Admin.UK1.avaya-sub.com/', 'Account': 'ACME-1'},
          'Net': {'Dns1': '192.0.2.53', 'Dns2': '192.0.2.54', 'Zone': 'Europe/Berlin', 'Offset': 60}}
ROUTES = ('StaticRoute', [
    {'@GUID': '1', 'Net': '198.18.5.0', 'Mask': '255.255.255.0', 'Hop': '192.0.2.1', 'If': 'LAN1', 'Cost': '0'},
    {'@GUID': '2', 'Net': '', 'Mask': '', 'Hop': '192.0.2.254', 'If': 'LAN1', 'Cost': '0'},
])
USERS = ('Account', [{'@GUID': '3', 'Login': 'COMAdmin', 'State': 'Enabled', 'Secret': ''},
                     {'@GUID': '4', 'Login': 'apiadmin', 'State': 'Enabled', 'Secret': ''}])


def test_the_licence_server_is_found_in_either_form_and_the_form_is_kept():
    assert learning.forms_of('license_server', 'admin.uk1.avaya-sub.com', 'https://Admin.UK1.avaya-sub.com/') == 'url'
    assert learning.forms_of('license_server', 'https://admin.uk1.avaya-sub.com', 'ADMIN.uk1.avaya-sub.com') == 'host'
    assert learning.forms_of('license_server', 'admin.uk1.avaya-sub.com', 'admin.uk2.avaya-sub.com') is None
    assert learning.forms_of('time_offset', 60, '60') == 'number'


def test_every_setting_is_found_once_with_its_evidence():
    settings, learned, ambiguous, missing = learning.learn(
        {'customer_id': 'ACME-1', 'license_server': 'admin.uk1.avaya-sub.com', 'dns_server': '192.0.2.53',
         'backup_dns_server': '192.0.2.54', 'time_zone': 'Europe/Berlin', 'time_offset': 60, 'default_gateway': '192.0.2.254',
         'default_route_lan': 'LAN1', 'comadmin': True},
        [('systems', 'System', SYSTEM)], {'staticroutes': ROUTES, 'accounts': USERS}, '192.0.2.10')
    assert ambiguous == {} and missing == {}
    assert settings['license_server'] == {'resource': 'systems', 'path': 'Cloud.Url', 'form': 'url', 'learned': learned['license_server']}
    assert learned['license_server']['evidence'] == {'node': '192.0.2.10', 'resource': 'systems', 'field': 'Cloud.Url',
                                                     'value': 'https://Admin.UK1.avaya-sub.com/'}
    assert settings['time_offset']['path'] == 'Net.Offset'
    route = settings['default_route']
    assert (route['resource'], route['entity'], route['form']) == ('staticroutes', 'StaticRoute', 'blank')
    # The other route tells the mask (255.x) from the address; the one numeric field left is the metric.
    assert route['fields'] == {'IPAddress': 'Net', 'IPMask': 'Mask', 'GatewayIPAddress': 'Hop', 'Destination': 'If', 'Metric': 'Cost'}
    assert settings['comadmin']['fields'] == {'Name': 'Login', 'AccountStatus': 'State'}


def test_a_value_in_two_fields_or_in_none_is_never_guessed():
    settings, _learned, ambiguous, missing = learning.learn(
        {'dns_server': '192.0.2.53', 'backup_dns_server': '192.0.2.53', 'dns_domain': 'example.com', 'comadmin': False},
        [('systems', 'System', dict(SYSTEM, Net=dict(SYSTEM['Net'], Dns2='192.0.2.53')))], {}, '192.0.2.10')
    assert sorted(item['path'] for item in ambiguous['dns_server']['candidates']) == ['Net.Dns1', 'Net.Dns2']
    assert 'backup_dns_server' in ambiguous and missing['dns_domain']['value'] == 'example.com'
    assert settings == {}


def test_a_lone_default_route_cannot_tell_its_address_from_its_mask():
    _settings, _learned, ambiguous, _missing = learning.learn(
        {'default_gateway': '192.0.2.254', 'comadmin': False}, [], {'staticroutes': ('StaticRoute', [ROUTES[1][1]])}, 'n')
    assert 'cannot be told apart' in ambiguous['default_route']['candidates'][0]['why']


def test_the_user_names_the_field_of_an_ambiguous_value():
    settings, _learned, ambiguous, _missing = learning.learn(
        {'dns_server': '192.0.2.53', 'comadmin': False},
        [('systems', 'System', dict(SYSTEM, Net=dict(SYSTEM['Net'], Dns2='192.0.2.53')))], {}, 'n',
        named={'dns_server': {'resource': 'systems', 'path': 'Net.Dns1'}})
    assert settings['dns_server']['path'] == 'Net.Dns1' and ambiguous == {}


def test_two_runs_agree_or_say_where_they_differ():
    one = {'dns_server': {'resource': 'systems', 'path': 'Net.Dns1'}, 'time_zone': {'resource': 'systems', 'path': 'Net.Zone'}}
    assert learning.compare(one, dict(one)) == ([], [], [])
    other = {'dns_server': {'resource': 'netconfig', 'entity': 'NetConfig', 'path': 'Dns.Server1'}}
    disagreements, only_earlier, only_now = learning.compare(one, other)
    assert [item['setting'] for item in disagreements] == ['dns_server'] and only_earlier == ['time_zone'] and only_now == []
