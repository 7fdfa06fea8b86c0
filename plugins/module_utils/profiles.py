# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""API profiles: where each subscription setting lives on an IP Office release's
Management API, or that a person has to enter it in Web Manager.

Avaya's Management API guide documents none of the settings this collection
writes (docs/real-systems.md). A **setting** (the default route, the DNS server,
the customer ID, ...) therefore reaches a device through a **carrier** (a
resource, and a field path in it for a single value) or it is **manual**: the
collection then hands it to the installer as an exact step (Web Manager path,
label, value) and the checks confirm it later.

A **profile** names the carrier of each setting. Built in:

- ``model``: the collection's own resources (what the bundled lab serves).
- ``documented``: only what Avaya documents, so every setting is manual.
- ``pbxlicense``: like documented, but the customer ID and the licence server
  go to the guide's PBXLicense fields. That mapping is an inference (the
  guide's only example near subscription settings); on a system licensed
  another way those fields mean something else, so it is used only when a
  profile names it, never by ``auto``.
- ``auto`` (the default): the ``model`` carriers that the node actually serves,
  found by reading it (a resource that answers 404, 405 or an error, or a field
  missing from the answer, is absent); everything else is manual. It never
  writes a field it has not first seen the device return.

A user profile is a YAML or JSON file, or a dict, in the same format as the
built-in ones (docs/real-systems.md, "Writing a profile"):

    name: my-release
    resources:                      # optional: how the device applies a PUT
      systems: {entity: System, update: merge}
    settings:
      dns_server: {resource: systems, path: DNS.DNSServerIPAddress}
      license_server: {resource: systems, path: Subscription.ServerAddress, form: host}
      default_route: {resource: iproutes, entity: IPRoute}
      time_zone: manual

This module is the one place that knows settings, carriers, profiles and the
manual steps built from them.
"""

from __future__ import annotations

import copy
import json
import os

from ansible_collections.ipoffice.subscription.plugins.module_utils import schema, validators

MANUAL = 'manual'
AUTO = 'auto'
DEFAULT = AUTO


class ProfileError(Exception):
    """A profile that cannot be used: unknown name, unreadable or malformed file, or a
    carrier the device does not serve. Nothing is written when it is raised."""


class Setting(object):
    """One subscription prerequisite, as an installer meets it in Web Manager.

    kind: how values compare and what form they take ('ipv4', 'host', 'server',
    'text', 'int', 'route', 'service_user').
    offline: Web Manager edits it offline (the change is sent with a reboot).
    reboot: the change takes effect only after the system reboots.
    confirmed_by: the checks that show it is in effect when the API cannot read it.
    """

    def __init__(self, name, where, label, kind, reboot=False, offline=False, confirmed_by=(), how=None):
        self.name = name
        self.where = where
        self.label = label
        self.kind = kind
        self.reboot = reboot
        self.offline = offline
        self.confirmed_by = tuple(confirmed_by)
        # What the link's being up proves about this setting, for the report.
        self.how = how


# The first connection to COM needs a default route, a DNS server that resolves the
# server, an accurate clock, the customer ID, the licence server and COMAdmin: a
# link that is up shows each of them in effect (not which value it holds).
LINK = 'link.first_connection'

SETTINGS = dict((setting.name, setting) for setting in (
    Setting('default_route', 'System Settings > IP Route (add an IP Route record)',
            'IP Address 0.0.0.0, IP Mask 0.0.0.0, Gateway IP Address, Destination', 'route',
            confirmed_by=(LINK,), how='the link to COM runs through it'),
    Setting('dns_server', 'System Settings > System > DNS', 'DNS Service IP Address', 'ipv4', reboot=True, offline=True,
            confirmed_by=(LINK,), how='the system resolved the licence server through its DNS'),
    Setting('backup_dns_server', 'System Settings > System > DNS', 'Backup DNS Server IP Address', 'ipv4', reboot=True,
            offline=True),
    Setting('dns_domain', 'System Settings > System > DNS', 'DNS Domain', 'host', reboot=True, offline=True),
    Setting('time_source', 'System Settings > System > System', 'Time Setting Config Source', 'text',
            confirmed_by=(LINK,), how='COM accepts the system only with an accurate clock'),
    Setting('time_server', 'System Settings > System > System', 'Time Server IP Address', 'host',
            confirmed_by=(LINK,), how='COM accepts the system only with an accurate clock'),
    Setting('time_zone', 'System Settings > System > System', 'Time Zone', 'text'),
    Setting('time_offset', 'System Settings > System > System', 'Local Time Offset', 'int'),
    Setting('customer_id', 'System Settings > Subscription', 'Customer ID', 'text',
            confirmed_by=(LINK,), how='COM accepted the system for this customer'),
    Setting('license_server', 'System Settings > Subscription', 'License Server', 'server',
            confirmed_by=(LINK,), how='the system reached COM at this address'),
    Setting('comadmin', 'Security Manager > Service Users', 'COMAdmin (Account Status: Enabled)', 'service_user',
            confirmed_by=(LINK,), how='the link uses its security settings'),
    # Not a setting but a step: an offline change (DNS, the remote licence server) acts only after the system
    # restarts, and the Management API documents no reboot. No check sees that a reboot happened.
    Setting('reboot', 'Web Manager: the system menu > Reboot (Manager: File > Advanced > Reboot)',
            'Reboot: immediately, when free, or at a time of day', 'action'),
))

# Read-only values a profile may name so system_info can show them.
READ_ONLY = ('system_id', 'customer_name')
ACTIONS = ('reboot',)
LIST_SETTINGS = ('default_route', 'comadmin')
LIST_ENTITIES = {'default_route': 'IPRoute', 'comadmin': 'ServiceUser'}
SCALAR_SETTINGS = tuple(name for name in SETTINGS if name not in LIST_SETTINGS + ACTIONS) + READ_ONLY
FORMS = {'server': ('host', 'url')}

_MODEL_PATHS = {
    'dns_server': 'DNS.DNSServerIPAddress',
    'backup_dns_server': 'DNS.BackupDNSServerIPAddress',
    'dns_domain': 'DNS.DNSDomain',
    'time_source': 'TimeSettings.TimeSettingConfigSource',
    'time_server': 'TimeSettings.TimeServerAddress',
    'time_zone': 'TimeSettings.TimeZone',
    'time_offset': 'TimeSettings.LocalTimeOffset',
    'customer_id': 'Subscription.CustomerID',
    'license_server': 'Subscription.ServerAddress',
    'system_id': 'Subscription.SystemID',
    'customer_name': 'Subscription.CustomerName',
}

BUILT_IN = {
    'model': {
        'name': 'model',
        'description': "the collection's model resources and fields (what the bundled lab serves)",
        'settings': dict(
            [(setting, {'resource': 'systems', 'path': path}) for setting, path in _MODEL_PATHS.items()]
            + [('default_route', {'resource': 'iproutes', 'entity': 'IPRoute'}),
               ('comadmin', {'resource': 'serviceusers', 'entity': 'ServiceUser'})]),
    },
    'documented': {
        'name': 'documented',
        'description': "only what Avaya's Management API guide documents: every setting is a manual step",
        'resources': {'systems': {'entity': 'System', 'update': 'merge'}},
        'settings': dict((setting, MANUAL) for setting in SETTINGS if setting not in ACTIONS),
    },
    'pbxlicense': {
        'name': 'pbxlicense',
        'description': ("documented, with the customer ID and the licence server in PBXLicense (an inference from the "
                        "guide's example; never chosen by auto)"),
        'resources': {'systems': {'entity': 'System', 'update': 'merge'}},
        'settings': dict(
            [(setting, MANUAL) for setting in SETTINGS if setting not in ('customer_id', 'license_server') + ACTIONS]
            + [('customer_id', {'resource': 'systems', 'path': 'PBXLicense.LicenseServerID',
                                'with': {'PBXLicense.EnableRemoteServer': True}}),
               ('license_server', {'resource': 'systems', 'path': 'PBXLicense.LicenseServerURL', 'form': 'url',
                                   'with': {'PBXLicense.EnableRemoteServer': True}})]),
    },
}
NAMES = (AUTO,) + tuple(sorted(BUILT_IN))


# -- carriers ------------------------------------------------------------------

class Manual(object):
    """No carrier: a person enters the setting in Web Manager."""

    kind = MANUAL

    def __init__(self, setting, why):
        self.setting = setting
        self.why = why

    def describe(self):
        return MANUAL


class Field(object):
    """A single value at a field path of a per-node resource (one object per node)."""

    kind = 'field'

    def __init__(self, setting, resource, entity, path, form=None, also=None):
        self.setting = setting
        self.resource = resource
        self.entity = entity
        self.path = path
        self.form = form
        # Fields written together with this one (PBXLicense.EnableRemoteServer with the licence server URL).
        self.also = also or {}

    def describe(self):
        return '%s: %s' % (self.resource, '.'.join(self.path))

    def present(self, obj):
        return _has_path(obj, self.path)

    def missing(self, obj):
        """Paths this carrier writes that the object does not have."""
        return ['.'.join(path) for path in [self.path] + list(self.also) if not _has_path(obj, path)]

    def wrong_form(self, obj):
        """What is wrong when the field holds a value that is not of this setting's form (the profile then
        describes another release), else None. An empty field fits any form."""
        value = _get(obj, self.path)
        if value in (None, ''):
            return None
        kind = SETTINGS[self.setting].kind if self.setting in SETTINGS else 'text'
        text = value if isinstance(value, str) else str(value)
        if kind == 'server' and self.form == 'url' and not text.lower().startswith('https://'):
            return 'holds %r, not the URL form https://host the profile says' % value
        if kind == 'server' and self.form != 'url' and '://' in text:
            return 'holds %r, not a bare host name as the profile says' % value
        if kind == 'ipv4' and not validators.is_ipv4_address(text):
            return 'holds %r, not an IPv4 address' % value
        if kind == 'int' and not (isinstance(value, int) or text.strip().lstrip('+-').isdigit()):
            return 'holds %r, not a number' % value
        return None

    def read(self, obj):
        """The setting's value in its canonical form, or None when the object does not have the field."""
        if not self.present(obj):
            return None
        return shown(self.setting, _get(obj, self.path))

    def changes(self, obj, value):
        """{path: device value} to make the setting hold value; {} when it already does."""
        current = self.read(obj)
        if same(self.setting, current, value):
            return {}
        result = {self.path: device_form(self.setting, value, self.form)}
        for path, extra in self.also.items():
            if _get(obj, path) != extra:
                result[path] = extra
        return result


class Items(object):
    """A resource of records (IP routes, service users), in the model's field names
    unless the profile renames them (fields: {model name: device name}).

    entity: the device's entity name; model: the schema's entity the collection
    reasons in (IPRoute, ServiceUser). form 'blank': the release shows and takes
    a default route with a blank address and mask instead of 0.0.0.0."""

    kind = 'items'

    def __init__(self, setting, resource, entity, fields=None, probe=False, form=None):
        self.setting = setting
        self.resource = resource
        self.entity = entity
        self.model = LIST_ENTITIES[setting]
        self.fields = fields or {}
        self.back = dict((device, model) for model, device in self.fields.items())
        self.form = form
        # auto: a resource that is not served makes the setting manual instead of an error.
        self.probe = probe

    def describe(self):
        return self.resource

    @property
    def renamed(self):
        return bool(self.fields) or self.entity != self.model

    def to_model(self, obj):
        """A device object (device names, as received) -> the schema's canonical object of the model entity."""
        if not self.renamed:
            return obj
        return schema.normalise(self.model, dict((self.back.get(name, name), value) for name, value in obj.items()))

    def wrong_form(self, objects):
        """What is wrong when the node's default route is not written the way the profile's form says, else None."""
        if self.form not in ('zero', 'blank'):
            return None
        for obj in objects:
            address, mask = obj.get('IPAddress'), obj.get('IPMask')
            if self.form == 'zero' and address == '' and mask == '':
                return 'holds a default route with a blank address and mask, not 0.0.0.0 as the profile says'
            if self.form == 'blank' and address == '0.0.0.0' and mask == '0.0.0.0':
                return 'holds a default route as 0.0.0.0/0.0.0.0, not blank as the profile says'
        return None

    def to_device(self, obj):
        """The model entity's device form (schema.to_device) -> the device's names, and its form of a default route."""
        out = dict((self.fields.get(name, name), value) for name, value in obj.items())
        if self.form == 'blank':
            address, mask = self.fields.get('IPAddress', 'IPAddress'), self.fields.get('IPMask', 'IPMask')
            if out.get(address) in ('0.0.0.0', '') and out.get(mask) in ('0.0.0.0', ''):
                out[address] = out[mask] = ''
        return out


# -- the settings' values --------------------------------------------------------

def canonical(setting, value):
    """A value read from a device or given by a user, in the one form the collection compares."""
    kind = SETTINGS[setting].kind if setting in SETTINGS else 'text'
    if value is None:
        return None
    if kind == 'int':
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    text = value if isinstance(value, str) else str(value)
    if kind == 'ipv4' and text.strip() == '0.0.0.0':
        return ''  # Web Manager's "0.0.0.0" is its way of saying none
    if kind == 'server':
        normal, problem = validators.normalise_license_server(text)
        return (normal if problem is None else text.strip()).lower()
    if kind == 'host':
        return text.strip().lower()
    return text


def shown(setting, value):
    """A value read from a device as the collection reports it: as the device holds it, except where the
    device's form differs only in spelling (Web Manager's 0.0.0.0 for no DNS server; the licence
    server's URL form, reported as the host name the system resolves)."""
    kind = SETTINGS[setting].kind if setting in SETTINGS else 'text'
    if value is None or kind not in ('ipv4', 'server', 'int'):
        return value
    if kind == 'server':
        return _server(value)
    return canonical(setting, value)


def _server(value):
    """The licence server as host[:port], its case kept; a value that is not one is left as it is."""
    normal, problem = validators.normalise_license_server(value if isinstance(value, str) else str(value))
    return value if problem else normal


def same(setting, left, right):
    return canonical(setting, left) == canonical(setting, right)


def device_form(setting, value, form=None):
    """The value as the device holds it: the licence server as a bare host or as the guide's URL."""
    if SETTINGS[setting].kind == 'server' and value:
        return 'https://' + _server(value) if form == 'url' else _server(value)
    return value


# -- profiles ----------------------------------------------------------------------

class Profile(object):
    def __init__(self, name, settings, resources=None, source=None, probe=False, description=None):
        self.name = name
        self.settings = settings
        self.resources = resources or {}
        self.source = source or name
        self.probe = probe
        self.description = description or ''

    def update_of(self, resource, entity):
        """How the device applies a PUT to this resource: the profile's word, else the schema's."""
        declared = self.resources.get(resource, {}).get('update')
        return declared or schema.entity(entity).update

    def carrier(self, setting):
        spec = self.settings.get(setting, MANUAL)
        if spec == MANUAL:
            return Manual(setting, 'the API profile %s has no carrier for it' % self.name)
        if setting in LIST_SETTINGS:
            return Items(setting, spec['resource'], spec['entity'], spec.get('fields'), probe=self.probe, form=spec.get('form'))
        entity = spec.get('entity') or self.resources.get(spec['resource'], {}).get('entity') or 'System'
        return Field(setting, spec['resource'], entity, _split(spec['path']), spec.get('form'),
                     dict((_split(path), value) for path, value in (spec.get('with') or {}).items()))

    def field_carrier(self, setting, obj):
        """The carrier of a scalar setting on a node whose object was read.

        auto: a field the node did not return makes the setting manual. Any other
        profile: a field the node did not return is an error, before any write.
        """
        carrier = self.carrier(setting)
        if isinstance(carrier, Manual):
            return carrier
        missing = carrier.missing(obj)
        if not missing:
            wrong = None if self.probe else carrier.wrong_form(obj)
            if wrong:
                raise ProfileError('API profile %s: setting %s at %s %s; nothing was changed. The profile may describe '
                                   'another release' % (self.source, setting, carrier.describe(), wrong))
            return carrier
        if self.probe:
            return Manual(setting, 'the node does not serve %s' % ', '.join('%s: %s' % (carrier.resource, path) for path in missing))
        raise ProfileError('API profile %s: setting %s is carried by %s, which this node does not return; '
                           'nothing was changed. Check the profile against the node (system_info shows what it serves)'
                           % (self.source, setting, ', '.join('%s: %s' % (carrier.resource, path) for path in missing)))

    def describe(self):
        return {'name': self.name, 'source': self.source,
                'carriers': dict((setting, self.carrier(setting).describe()) for setting in SETTINGS if setting not in ACTIONS)}


def load(value):
    """A Profile from a name, a YAML or JSON file path, or a dict; raises ProfileError."""
    if value is None or value == '':
        value = DEFAULT
    if isinstance(value, dict):
        return _from_dict(value, 'the api_profile dict')
    if not isinstance(value, str):
        raise ProfileError('api_profile must be a profile name (%s), a file path or a dict: got %r' % (', '.join(NAMES), value))
    if value == AUTO:
        data = copy.deepcopy(BUILT_IN['model'])
        data['name'] = AUTO
        profile = _from_dict(data, AUTO)
        profile.probe = True
        profile.description = 'the model carriers the node serves, found by reading it; the rest manual'
        return profile
    if value in BUILT_IN:
        return _from_dict(copy.deepcopy(BUILT_IN[value]), value)
    if os.sep not in value and not value.endswith(('.yml', '.yaml', '.json')):
        raise ProfileError('api_profile %r is not a known profile (%s) and does not look like a file path' % (value, ', '.join(NAMES)))
    return _from_dict(_read_file(value), value)


def _read_file(path):
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except OSError as exc:
        raise ProfileError('API profile file %s cannot be read: %s' % (path, exc.strerror or exc))
    if path.endswith('.json'):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ProfileError('API profile file %s is not valid JSON: %s' % (path, exc))
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ProfileError('API profile file %s is YAML, which needs PyYAML on the controller; give it as JSON instead' % path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError('API profile file %s is not valid YAML: %s' % (path, exc))


def _from_dict(data, source):
    where = 'API profile %s' % source
    if not isinstance(data, dict):
        raise ProfileError('%s: expected a mapping with "settings", got %s' % (where, type(data).__name__))
    unknown = sorted(set(data) - {'name', 'description', 'extends', 'resources', 'settings', 'learned'})
    if unknown:
        raise ProfileError('%s: unknown key %s (known: name, description, extends, resources, settings)' % (where, unknown[0]))
    if data.get('extends') is not None:
        return _extended(data, where)
    settings = data.get('settings')
    if not isinstance(settings, dict) or not settings:
        raise ProfileError('%s: "settings" must map each setting (%s) to a carrier or "manual"'
                           % (where, ', '.join(sorted(SETTINGS))))
    resources = data.get('resources') or {}
    if not isinstance(resources, dict):
        raise ProfileError('%s: "resources" must map a resource name to {entity, update}' % where)
    for resource, spec in resources.items():
        if not isinstance(spec, dict) or not isinstance(spec.get('entity', 'System'), str):
            raise ProfileError('%s: resources.%s must be {entity: <name>, update: merge|replace}' % (where, resource))
        if spec.get('update', 'replace') not in ('merge', 'replace'):
            raise ProfileError('%s: resources.%s.update must be merge or replace, got %r' % (where, resource, spec.get('update')))
        _declare(resource, spec.get('entity'), where)
    checked = {}
    for setting, spec in settings.items():
        if setting not in SETTINGS and setting not in READ_ONLY or setting in ACTIONS:
            raise ProfileError('%s: unknown setting %r (known: %s)' % (where, setting, ', '.join(sorted(SETTINGS) + list(READ_ONLY))))
        checked[setting] = _carrier_spec(setting, spec, resources, '%s: settings.%s' % (where, setting))
    return Profile(str(data.get('name') or source), checked, resources, source, description=data.get('description'))


def _extended(data, where):
    """A profile on top of a built-in one: its settings and resources override the base's."""
    base_name = data['extends']
    if base_name not in NAMES:
        raise ProfileError('%s: extends must name a built-in profile (%s): got %r' % (where, ', '.join(NAMES), base_name))
    base = load(base_name)
    merged = {'name': data.get('name') or '%s (extended)' % base.name, 'description': data.get('description'),
              'resources': dict(base.resources, **(data.get('resources') or {})),
              'settings': dict(base.settings, **(data.get('settings') or {}))}
    if not isinstance(data.get('resources') or {}, dict) or not isinstance(data.get('settings') or {}, dict):
        raise ProfileError('%s: resources and settings must be mappings' % where)
    profile = _from_dict(merged, where[len('API profile '):])
    profile.probe = base.probe
    return profile


def _carrier_spec(setting, spec, resources, where):
    if spec == MANUAL or spec is None:
        return MANUAL
    if not isinstance(spec, dict):
        raise ProfileError('%s must be "manual" or a mapping with resource and %s' % (where, 'entity' if setting in LIST_SETTINGS else 'path'))
    resource = spec.get('resource')
    if not isinstance(resource, str) or not resource or '/' in resource or '?' in resource:
        raise ProfileError('%s.resource must be a resource name under admin/v1, such as systems: got %r' % (where, resource))
    if setting in LIST_SETTINGS:
        allowed = {'resource', 'entity', 'fields', 'form', 'learned'}
        if spec.get('form') not in (None, 'zero', 'blank') or (spec.get('form') and setting != 'default_route'):
            raise ProfileError('%s.form must be zero or blank (how the release writes a default route\'s address), '
                               'for default_route only' % where)
        entity = spec.get('entity')
        if not isinstance(entity, str) or not entity:
            raise ProfileError('%s.entity must name the entity the resource serves, such as IPRoute' % where)
        fields = spec.get('fields') or {}
        if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
            raise ProfileError('%s.fields must map model field names to the device\'s names' % where)
        known = sorted(key for key in schema.entity(LIST_ENTITIES[setting]).fields if not key.startswith('@'))
        wrong = sorted(set(fields) - set(known))
        if wrong:
            raise ProfileError('%s.fields: %s is not a field of the model\'s %s (%s)'
                               % (where, wrong[0], LIST_ENTITIES[setting], ', '.join(known)))
        _declare(resource, entity, where)
    else:
        allowed = {'resource', 'entity', 'path', 'form', 'with', 'learned'}
        path = spec.get('path')
        if not isinstance(path, str) or not path or any(part == '' for part in path.split('.')):
            raise ProfileError('%s.path must be a dotted field path such as DNS.DNSServerIPAddress: got %r' % (where, path))
        form = spec.get('form')
        if form is not None and form not in FORMS.get(SETTINGS.get(setting, Setting(setting, '', '', 'text')).kind, ()):
            raise ProfileError('%s.form %r is not a form of this setting (%s)' % (
                where, form, ', '.join(FORMS.get(SETTINGS.get(setting, Setting(setting, '', '', 'text')).kind, ())) or 'none'))
        also = spec.get('with') or {}
        if not isinstance(also, dict):
            raise ProfileError('%s.with must map field paths to the values written alongside' % where)
        entity = spec.get('entity') or resources.get(resource, {}).get('entity') or ('System' if resource == 'systems' else None)
        if entity is None:
            raise ProfileError('%s: name the entity of resource %s (entity: ..., or resources.%s.entity)' % (where, resource, resource))
        _declare(resource, entity, where)
    extra = sorted(set(spec) - allowed)
    if extra:
        raise ProfileError('%s: unknown key %s (known: %s)' % (where, extra[0], ', '.join(sorted(allowed))))
    return dict(spec)


def _declare(resource, entity, where):
    """An entity the schema does not know becomes a schema-less one: its objects are kept as received."""
    try:
        schema.entity(entity)
    except KeyError:
        schema.declare(entity, resource)


def _split(path):
    return tuple(path.split('.')) if isinstance(path, str) else tuple(path)


def _has_path(obj, path):
    node = obj
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _get(obj, path):
    node = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


# -- manual steps --------------------------------------------------------------------

def manual_step(setting, node, value, why, system=None):
    """One step for a person in Web Manager, with the check that will confirm it."""
    spec = SETTINGS[setting]
    return {
        'node': node,
        'system': system,
        'setting': setting,
        'where': spec.where,
        'label': spec.label,
        'value': value,
        'offline': spec.offline,
        'reboot': spec.reboot,
        'confirmed_by': list(spec.confirmed_by),
        'why': why,
    }


def describe_step(step):
    """One line for people: where, the label and the value to enter."""
    value = step['value']
    if isinstance(value, dict):
        what = ', '.join('%s %s' % (key, item) for key, item in value.items())
    else:
        what = '%s = %s' % (step['label'], value)
    extra = []
    if step['offline']:
        extra.append('offline edit')
    if step['reboot']:
        extra.append('reboot needed')
    if step.get('note'):
        extra.append(step['note'])
    return '%s: %s > %s%s' % (step.get('system') or step['node'], step['where'], what, (' (%s)' % ', '.join(extra)) if extra else '')


# What confirmed a manual step.
CONFIRMED = 'confirmed'   # a check shows it in effect
ENTERED = 'entered'       # the installer reports it done; nothing measured it
OPEN = 'open'             # nothing confirms it yet


def confirm_steps(steps, statuses, entered=()):
    """The steps with 'status' and 'evidence': confirmed by the link, entered (the installer's word), or open.

    statuses: subscription_status's systems (node_address, ready, link.evidence).
    entered: the settings the installer reports having entered (never a measurement).
    """
    by_node = dict((status.get('node_address'), status) for status in statuses or [])
    result = []
    for step in steps or []:
        step = dict(step)
        status = by_node.get(step.get('node')) or {}
        link_up = status.get('ready') is True
        setting = SETTINGS.get(step.get('setting'))
        if link_up and LINK in step.get('confirmed_by', []):
            evidence = (status.get('link') or {}).get('evidence') or 'link_status'
            step['status'] = CONFIRMED
            step['evidence'] = 'confirmed by %s: %s (%s)' % (
                LINK, setting.how if setting and setting.how else 'the link is up',
                'read from the link status' if evidence == 'link_status' else 'judged from the licences COM delivered')
        elif step.get('setting') in (entered or ()):
            step['status'] = ENTERED
            step['evidence'] = 'entered, as the installer reports; no check measures it'
        else:
            step['status'] = OPEN
            if step.get('confirmed_by'):
                step['evidence'] = 'not confirmed: %s confirms it once the link to COM is up' % ', '.join(step['confirmed_by'])
            else:
                step['evidence'] = ('not confirmed: no check can see it through the API or the network; confirm it in '
                                    'Web Manager')
        result.append(step)
    return result


def step_lines(steps):
    """Per system, the steps as lines for the play's output."""
    lines = []
    for step in steps or []:
        line = describe_step(step)
        if step.get('status'):
            line += ' [%s: %s]' % (step['status'], step['evidence'])
        lines.append(line)
    return lines
