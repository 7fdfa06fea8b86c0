# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Learning an API profile from one system an installer configured by hand.

The installer says which values they entered in Web Manager; this finds, in
what the node's API answers, the one field that holds each value, in the
forms a device may use (a licence server as a bare host or as https://host,
a default route with 0.0.0.0 or a blank address). A value found in more than
one field, or in none, is reported with its candidates and left out: nothing
is guessed. Pure functions over what the module read, so unit tests drive
them; the module (api_profile_learn) does the reading and writes the file.
"""

from __future__ import annotations

from ansible_collections.ipoffice.subscription.plugins.module_utils import profiles, validators

SCALAR_SETTINGS = ('dns_server', 'backup_dns_server', 'dns_domain', 'time_source', 'time_server', 'time_zone', 'time_offset',
                   'customer_id', 'license_server')
STATUSES = ('Enabled', 'Disabled', 'Locked')
BUILT_IN_USER = 'COMAdmin'


def leaves(obj, prefix=()):
    """(path, value) of every single value of an object; repeated elements (lists) are not single values."""
    for key, value in (obj or {}).items():
        if key.startswith('@'):
            continue
        path = prefix + (key,)
        if isinstance(value, dict):
            yield from leaves(value, path)
        elif not isinstance(value, list):
            yield path, value


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '' if value is None else str(value)


def forms_of(setting, wanted, value):
    """The form in which a field's value holds the wanted value of a setting, or None when it does not."""
    text = _text(value).strip()
    if text == '':
        return None
    if setting == 'license_server':
        host, _problem = validators.normalise_license_server(wanted)
        host = (host or wanted).lower()
        if text.lower() == host:
            return 'host'
        if text.lower() in ('https://' + host, 'https://' + host + '/'):
            return 'url'
        return None
    if setting == 'time_offset':
        return 'number' if text.lstrip('+-').isdigit() and int(text) == int(wanted) else None
    kind = profiles.SETTINGS[setting].kind
    if kind == 'host':
        return 'text' if text.lower() == _text(wanted).strip().lower() else None
    return 'text' if text == _text(wanted).strip() else None


def find_scalar(setting, wanted, objects):
    """Every (resource, entity, path, form, value) that holds the wanted value; objects: [(resource, entity, object)]."""
    found = []
    for resource, entity, obj in objects:
        for path, value in leaves(obj):
            form = forms_of(setting, wanted, value)
            if form:
                found.append({'resource': resource, 'entity': entity, 'path': '.'.join(path), 'form': form, 'value': value})
    return found


def _is_mask(value):
    return validators.is_ipv4_address(_text(value)) and validators.netmask_to_dotted(_text(value)) is not None and \
        _text(value).startswith('255.')


def find_route(gateway, lan, lists):
    """The default route record: which resource and which field is the address, mask, gateway, destination and metric.

    lists: {resource: (entity, [objects])} of resources that hold several records. The address and the mask of a
    default route look alike (both 0.0.0.0 or blank): other records of the same resource, whose masks look like
    masks, tell them apart; without any, the pair is reported as ambiguous."""
    candidates, problems = [], []
    for resource, (entity, objects) in sorted(lists.items()):
        for obj in objects:
            names = [name for name in obj if not name.startswith('@')]
            gateways = [name for name in names if _text(obj[name]) == gateway]
            destinations = [name for name in names if _text(obj[name]) == lan]
            empties = [name for name in names if _text(obj[name]) in ('0.0.0.0', '')]
            if len(gateways) != 1 or len(destinations) != 1 or len(empties) < 2:
                continue
            others = [other for other in objects if other is not obj]
            masks = [name for name in empties if others and all(_is_mask(other.get(name)) for other in others if name in other)
                     and any(name in other for other in others)]
            addresses = [name for name in empties if others and name not in masks and all(
                validators.is_ipv4_address(_text(other.get(name))) for other in others if name in other)]
            if len(masks) != 1 or len(addresses) != 1:
                problems.append({'resource': resource, 'entity': entity, 'fields': sorted(empties),
                                 'why': 'the address and the mask of the default route cannot be told apart '
                                        '(no other route in %s shows which field holds a mask)' % resource})
                continue
            used = {gateways[0], destinations[0], masks[0], addresses[0]}
            rest = [name for name in names if name not in used and _text(obj[name]).lstrip('+-').isdigit()]
            fields = {'IPAddress': addresses[0], 'IPMask': masks[0], 'GatewayIPAddress': gateways[0], 'Destination': destinations[0]}
            if len(rest) == 1:
                fields['Metric'] = rest[0]
            candidates.append({'resource': resource, 'entity': entity, 'fields': fields,
                               'form': 'blank' if _text(obj[addresses[0]]) == '' else 'zero',
                               'value': dict((model, obj[name]) for model, name in fields.items())})
    return candidates, problems


def find_comadmin(lists):
    """The service-user record of COMAdmin: which resource, and which field is the name and the account status."""
    candidates = []
    for resource, (entity, objects) in sorted(lists.items()):
        for obj in objects:
            names = [name for name in obj if not name.startswith('@')]
            login = [name for name in names if _text(obj[name]) == BUILT_IN_USER]
            status = [name for name in names if _text(obj[name]) in STATUSES]
            if len(login) == 1 and len(status) == 1:
                candidates.append({'resource': resource, 'entity': entity,
                                   'fields': {'Name': login[0], 'AccountStatus': status[0]},
                                   'value': {'Name': obj[login[0]], 'AccountStatus': obj[status[0]]}})
    return candidates


def _evidence(candidate, node):
    return {'node': node, 'resource': candidate['resource'], 'field': candidate.get('path') or candidate.get('fields'),
            'value': candidate['value']}


def learn(values, objects, lists, node, named=None):
    """The profile's settings, and what could not be learned.

    values: {setting: what the installer entered}, plus default_gateway and default_route_lan, comadmin (bool).
    objects: [(resource, entity, object)] of the node's one-object resources (its System, ...).
    lists: {resource: (entity, [objects])} of the node's resources with several records.
    named: {setting: {resource, path}} the user names where a value is ambiguous.
    Returns (settings, learned, ambiguous, missing)."""
    named = named or {}
    settings, learned, ambiguous, missing = {}, {}, {}, {}
    for setting in SCALAR_SETTINGS:
        wanted = values.get(setting)
        if wanted is None or _text(wanted).strip() == '':
            continue
        found = find_scalar(setting, wanted, objects)
        if setting in named:
            choice = named[setting]
            found = [item for item in found if item['resource'] == choice.get('resource', 'systems') and item['path'] == choice.get('path')]
            if not found:
                missing[setting] = {'value': wanted, 'why': 'the path named for it (%s: %s) does not hold it' % (
                    choice.get('resource', 'systems'), choice.get('path'))}
                continue
        if len(found) > 1:
            ambiguous[setting] = {'value': wanted, 'candidates': [dict((k, item[k]) for k in ('resource', 'path', 'form')) for item in found]}
            continue
        if not found:
            missing[setting] = {'value': wanted, 'why': 'no field the node returned holds it'}
            continue
        item = found[0]
        spec = {'resource': item['resource'], 'path': item['path']}
        if item['resource'] != 'systems':
            spec['entity'] = item['entity']
        if setting == 'license_server':
            spec['form'] = item['form']
        spec['learned'] = {'form': item['form'], 'evidence': _evidence(item, node)}
        settings[setting] = spec
        learned[setting] = spec['learned']
    gateway = values.get('default_gateway')
    if gateway:
        routes, problems = find_route(_text(gateway), _text(values.get('default_route_lan') or 'LAN1'), lists)
        if len(routes) == 1:
            item = routes[0]
            spec = {'resource': item['resource'], 'entity': item['entity'], 'fields': item['fields'], 'form': item['form'],
                    'learned': {'form': item['form'], 'evidence': _evidence(item, node)}}
            settings['default_route'] = spec
            learned['default_route'] = spec['learned']
        elif len(routes) > 1 or problems:
            ambiguous['default_route'] = {'value': gateway, 'candidates': [
                dict((k, item[k]) for k in ('resource', 'fields')) for item in routes] + problems}
        else:
            missing['default_route'] = {'value': gateway, 'why': 'no record holds a route 0.0.0.0 (or blank) via this gateway'}
    if values.get('comadmin', True):
        users = find_comadmin(lists)
        if len(users) == 1:
            item = users[0]
            spec = {'resource': item['resource'], 'entity': item['entity'], 'fields': item['fields'],
                    'learned': {'form': 'text', 'evidence': _evidence(item, node),
                                'unmapped': 'Password and RightsGroups: a password reads back empty and the rights groups '
                                            'cannot be told from other fields; name them in the file to create COMAdmin'}}
            settings['comadmin'] = spec
            learned['comadmin'] = spec['learned']
        elif len(users) > 1:
            ambiguous['comadmin'] = {'value': BUILT_IN_USER, 'candidates': [dict((k, item[k]) for k in ('resource', 'fields')) for item in users]}
        else:
            missing['comadmin'] = {'value': BUILT_IN_USER, 'why': 'no record of a listed resource names COMAdmin with an account status'}
    # A profile file names only model field names it renames.
    for setting in ('default_route', 'comadmin'):
        if setting in settings:
            settings[setting]['fields'] = dict((model, device) for model, device in settings[setting]['fields'].items() if model != device)
    return settings, learned, ambiguous, missing


def compare(first, second):
    """How a second learning run agrees with an earlier one, over the settings both learned.

    Returns (disagreements [{setting, earlier, now}], settings only the earlier run learned, settings only this one did)."""
    keys = ('resource', 'entity', 'path', 'form', 'fields')
    disagreements = []
    for setting in sorted(set(first) & set(second)):
        one = dict((key, first[setting].get(key)) for key in keys if first[setting].get(key) not in (None, {}))
        other = dict((key, second[setting].get(key)) for key in keys if second[setting].get(key) not in (None, {}))
        if one != other:
            disagreements.append({'setting': setting, 'earlier': one, 'now': other})
    return disagreements, sorted(set(first) - set(second)), sorted(set(second) - set(first))
