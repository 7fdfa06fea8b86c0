"""The front panel: a person changing a system's settings in Web Manager.

Tests use it where the collection hands a setting to the installer as a manual
step (a release whose API does not carry it): the change lands in the system's
configuration exactly as an API write would (same checks, same reboot rule),
whatever its release serves, and the request log records it as a panel entry.
"""

from __future__ import annotations

import copy
import uuid

from . import model
from .releases import SYSTEM_SETTINGS
from .security import hash_password
OTHER_SETTINGS = ('default_route', 'comadmin')
SETTINGS = tuple(SYSTEM_SETTINGS) + OTHER_SETTINGS


class PanelError(ValueError):
    """A value Web Manager would refuse; the message names the setting."""


def apply(state, values):
    """Apply {setting: value} to one system. Returns {'changed': [settings], 'reboot_pending': bool}.

    All or nothing: every value is checked before anything is stored."""
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise PanelError('unknown settings: %s (known: %s)' % (', '.join(unknown), ', '.join(SETTINGS)))
    changed = []
    write = model.Write(state.address)
    body = {}
    for setting, (section, field) in SYSTEM_SETTINGS.items():
        if setting in values:
            body.setdefault(section, {})[field] = values[setting]
    system = state.system
    if body:
        system = dict([('@GUID', state.system['@GUID'])] + list(model.apply(model.SYSTEM_FIELDS, state.system, body, 'merge', write).items()))
        model.validate_system(system, write, state)
    routes = state.collections['IPRoute']
    if 'default_route' in values:
        routes = _default_route(state, values['default_route'], write)
    users = state.collections['ServiceUser']
    if 'comadmin' in values:
        users = _comadmin(state, values['comadmin'], write)
    if write.errors:
        raise PanelError('; '.join(error['error_desc'] for error in write.errors))
    for setting, (section, field) in SYSTEM_SETTINGS.items():
        if setting in values and system[section][field] != state.system[section][field]:
            changed.append(setting)
    if routes != state.collections['IPRoute']:
        changed.append('default_route')
    if users != state.collections['ServiceUser']:
        changed.append('comadmin')
    state.system = system
    state.collections['IPRoute'] = routes
    state.collections['ServiceUser'] = users
    if write.reboot:
        state.reboot_pending = True
    return {'changed': changed, 'reboot_pending': state.reboot_pending}


def _default_route(state, value, write):
    """{gateway, destination (LAN1), metric (0)}: the IP Route record 0.0.0.0/0.0.0.0, added or changed."""
    if not isinstance(value, dict) or not value.get('gateway'):
        raise PanelError('default_route: give {"gateway": ..., "destination": "LAN1" or "LAN2"}')
    routes = copy.deepcopy(state.collections['IPRoute'])
    default = [route for route in routes if route['IPAddress'] in ('0.0.0.0', '') and route['IPMask'] in ('0.0.0.0', '')]
    wanted = {'IPAddress': '0.0.0.0', 'IPMask': '0.0.0.0', 'GatewayIPAddress': value['gateway'],
              'Destination': value.get('destination', 'LAN1'), 'Metric': value.get('metric', 0)}
    if default:
        route = model.apply(model.IPROUTE_FIELDS, default[0], wanted, 'merge', write)
        route['@GUID'] = default[0]['@GUID']
        routes[routes.index(default[0])] = route
    else:
        route = model.apply(model.IPROUTE_FIELDS, model.empty_object(model.IPROUTE_FIELDS), wanted, 'merge', write)
        route['@GUID'] = uuid.uuid4().hex.upper()
        routes.append(route)
    model.validate_iproute(route, write, state)
    return routes


def _comadmin(state, value, write):
    """{account_status: Enabled|Disabled, password: ...}: the COMAdmin service user, created when missing."""
    if isinstance(value, str):
        value = {'account_status': value}
    if not isinstance(value, dict):
        raise PanelError('comadmin: give {"account_status": "Enabled"} (and "password" to create it)')
    users = copy.deepcopy(state.collections['ServiceUser'])
    existing = [user for user in users if user['Name'] == 'COMAdmin']
    if existing:
        user = existing[0]
    else:
        if not value.get('password'):
            raise PanelError('comadmin: the user does not exist; give a password to create it')
        user = {'@GUID': uuid.uuid4().hex.upper(), 'Name': 'COMAdmin', 'Password': '', 'AccountStatus': 'Enabled',
                'RightsGroups': 'COM Admin Group'}
        users.append(user)
    if 'account_status' in value:
        user['AccountStatus'] = str(value['account_status'])
    if value.get('password'):
        user['Password'] = hash_password(str(value['password']))
    model.validate_serviceuser(user, write, state)
    return users
