# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The list engine's plan: which writes a state makes, from one read."""

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import list_resource, module_base, schema

ROUTES = [schema.normalise('IPRoute', r) for r in (
    {'@GUID': 'A', 'IPAddress': '', 'IPMask': '', 'GatewayIPAddress': '10.0.0.254', 'Destination': 'LAN1', 'Metric': '4'},
    {'@GUID': 'B', 'IPAddress': '10.9.0.0', 'IPMask': '255.255.0.0', 'GatewayIPAddress': '10.0.0.1', 'Destination': 'LAN1', 'Metric': '0'},
)]


def _identity(obj):
    return (obj.get('IPAddress') or '0.0.0.0', obj.get('IPMask') or '0.0.0.0')


def _wanted(item):
    result = {('IPAddress',): item['ip_address'], ('IPMask',): item['ip_mask']}
    for option, key in (('gateway', 'GatewayIPAddress'), ('metric', 'Metric')):
        if item.get(option) is not None:
            result[(key,)] = item[option]
    return result


class FakeModule(object):
    def __init__(self, state):
        self.params = {'state': state}


def _plan(state, config, current=ROUTES, **spec_options):
    spec = list_resource.ItemSpec('IPRoute', _identity, _wanted, create={('Metric',): 0}, reset={('Metric',): 0}, **spec_options)
    return [(op.method, op.key, sorted(op.changes)) for op in list_resource.ListTask(FakeModule(state), spec, config).plan(current)]


def _item(**values):
    return dict({'ip_address': '0.0.0.0', 'ip_mask': '0.0.0.0'}, **values)


def test_merged_same_values_plans_nothing_even_for_a_blank_default_route():
    assert _plan('merged', [_item(gateway='10.0.0.254')]) == []


def test_merged_changes_only_the_given_field():
    assert _plan('merged', [_item(gateway='10.0.0.253')]) == [('PUT', ('0.0.0.0', '0.0.0.0'), [('GatewayIPAddress',)])]


def test_replaced_resets_fields_not_given():
    assert _plan('replaced', [_item(gateway='10.0.0.254')]) == [('PUT', ('0.0.0.0', '0.0.0.0'), [('Metric',)])]


def test_new_item_is_created_with_the_create_defaults():
    plan = _plan('merged', [_item(ip_address='10.8.0.0', ip_mask='255.255.0.0', gateway='10.0.0.1')])
    assert plan == [('POST', ('10.8.0.0', '255.255.0.0'), [('GatewayIPAddress',), ('IPAddress',), ('IPMask',), ('Metric',)])]


def test_overridden_removes_what_is_not_listed():
    assert _plan('overridden', [_item(gateway='10.0.0.254', metric=4)]) == [('DELETE', ('10.9.0.0', '255.255.0.0'), [])]


def test_deleted_removes_only_the_listed_item_and_nothing_for_an_empty_list():
    assert _plan('deleted', [_item()]) == [('DELETE', ('0.0.0.0', '0.0.0.0'), [])]
    assert _plan('deleted', []) == []


def test_protected_item_stops_the_whole_plan():
    with pytest.raises(module_base.ModuleInputError, match='nothing was changed: IPRoute 10.9.0.0/255.255.0.0 cannot be removed: kept'):
        _plan('overridden', [_item(gateway='10.0.0.254')], protect=lambda obj: 'kept' if obj['@GUID'] == 'B' else None)


def test_duplicates_on_the_node_stop_the_plan():
    with pytest.raises(module_base.ModuleInputError, match='exists 2 times'):
        _plan('merged', [_item(gateway='10.0.0.1')], current=ROUTES + [dict(ROUTES[0], **{'@GUID': 'C'})])


def test_a_write_that_would_clear_a_password_is_refused_before_any_write():
    users = [schema.normalise('ServiceUser', {'@GUID': 'U', 'Name': 'COMAdmin', 'AccountStatus': 'Disabled', 'RightsGroups': 'g'})]
    spec = list_resource.ItemSpec('ServiceUser', lambda obj: obj.get('Name'),
                                  lambda item: {('Name',): item['name'], ('AccountStatus',): item['status']})
    task = list_resource.ListTask(FakeModule('merged'), spec, [{'name': 'COMAdmin', 'status': 'Enabled'}])
    with pytest.raises(module_base.ModuleInputError, match='would clear its Password'):
        task.plan(users)
