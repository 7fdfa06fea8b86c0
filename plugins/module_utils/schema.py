# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The object schema: every entity the collection reads or writes, as data.

This is the ONE place that knows device field names. Each field says its type,
whether it can be written, whether it is write-only (passwords read back
empty), whether changing it needs a reboot, where it comes from ("guide" =
Avaya's Management API guide, "model" = this collection's model), and the name
the collection uses for it in facts and options. docs/object-model.md renders
the same facts for people; a test keeps the two in step.
"""

from __future__ import annotations

import copy

GUID_KEY = '@GUID'


class Field:
    """A scalar field: kind is 'str', 'int', 'bool' or 'list' ('|'-separated)."""

    def __init__(self, kind='str', fact=None, writable=True, write_only=False, reboot=False, source='guide',
                 case_insensitive=False, empty_equals=None):
        self.kind = kind
        # A value the device may show as "" for the same setting (a default route's 0.0.0.0).
        self.empty_equals = empty_equals
        # Host names: 'Time.Google.com' and 'time.google.com' are the same setting.
        self.case_insensitive = case_insensitive
        self.fact = fact
        self.writable = writable
        self.write_only = write_only
        self.reboot = reboot
        self.source = source


class Section:
    """A nested element holding fields. fact=None flattens it into its parent."""

    kind = 'section'

    def __init__(self, fields, fact=None, source='guide'):
        self.fields = fields
        self.fact = fact
        self.source = source


class Items:
    """A repeated element (one item may arrive as an object), keyed by an attribute."""

    kind = 'items'

    def __init__(self, fields, key, fact=None, source='guide'):
        self.fields = fields
        self.key = key
        self.fact = fact
        self.source = source


class Entity:
    """An entity served under /admin/v1/<resource>.

    quoting: how the resource writes scalars in JSON: 'bare' (numbers and
    booleans as JSON numbers/booleans) or 'quoted' (every value a string).
    update: how the device applies a PUT, and so how the collection writes:
    'merge' (fields left out are kept) gets a small write, the GUID and the
    touched sections only, as Avaya's examples send; 'replace' (fields left
    out are cleared) gets the whole writable object back. An API profile may
    say otherwise for a release (profiles.py, resources.<name>.update).
    clears_write_only: whether a replace on the device clears a write-only
    field (a password) that the PUT leaves out; if so, a module must not
    update such an object without being given that field.
    """

    def __init__(self, name, resource, fields, methods, quoting, update='replace', source='guide', error_node=None,
                 clears_write_only=False):
        self.clears_write_only = clears_write_only
        self.name = name
        self.resource = resource
        self.fields = fields
        self.methods = methods
        self.quoting = quoting
        self.update = update
        self.source = source
        # The name of the element that carries this entity's errors (guide: USER, EXTENSION, ...).
        self.error_node = error_node or name.upper()


_LAN_FIELDS = {
    '@id': Field(fact='name', writable=False),
    'IPAddress': Field(fact='ip_address'),
    'IPMask': Field(fact='ip_mask'),
    'PrimaryTranslationIPAddress': Field(fact='primary_translation_ip_address'),
    'EnableNAT': Field('bool', fact='enable_nat'),
    'RIPMode': Field('int', fact='rip_mode'),
    'DHCPmode': Field('int', fact='dhcp_mode'),
}

# Avaya's System example (guide 2.8.2.2) sends three fields and succeeds: the device merges.
SYSTEM = Entity('System', 'systems', methods=('GET', 'PUT'), quoting='bare', update='merge', fields={
    GUID_KEY: Field(fact='guid', writable=False),
    'Name': Field(fact='name'),
    'Password': Field(write_only=True),
    'MajorVersion': Field('int', fact='major_version', writable=False),
    'MinorVersion': Field('int', fact='minor_version', writable=False),
    'BuildVersion': Field('int', fact='build_version', writable=False),
    'Configuration': Field('int', fact='configuration'),
    'SystemType': Field(fact='system_type', writable=False, source='model'),
    'Telephony': Section({'Locale': Field(fact='locale')}, fact='telephony'),
    'LANS': Section({'LAN': Items(_LAN_FIELDS, key='@id', fact='lans')}),
    # Web Manager's Licenses > Server Menu > Remote Server: an offline change with a reboot.
    'PBXLicense': Section({
        'LicenseServerURL': Field(fact='server_url', reboot=True),
        'LicenseServerIPAddress': Field(fact='server_ip_address', reboot=True),
        'LicenseServerID': Field(fact='server_id', reboot=True),
        'LicenseServerPort': Field('int', fact='server_port', reboot=True),
        'LicenseMode': Field('int', fact='mode'),
        'LicenseGracePeriod': Field('int', fact='grace_period'),
        'EnableRemoteServer': Field('bool', fact='enable_remote_server', reboot=True),
        'PLDSHostId': Field(fact='plds_host_id', writable=False),
        # Computed by the system: a write must not carry them.
        'LicensedVersion': Field(fact='licensed_version', writable=False),
        'PLDSFileStatus': Field('int', fact='plds_file_status', writable=False),
    }, fact='licence_server'),
    'DNS': Section({
        'DNSServerIPAddress': Field(fact='server', reboot=True, source='model'),
        'BackupDNSServerIPAddress': Field(fact='backup_server', reboot=True, source='model'),
        'DNSDomain': Field(fact='domain', reboot=True, source='model', case_insensitive=True),
    }, fact='dns', source='model'),
    'TimeSettings': Section({
        'TimeSettingConfigSource': Field(fact='source', source='model'),
        'TimeServerAddress': Field(fact='server', source='model', case_insensitive=True),
        'TimeZone': Field(fact='time_zone', source='model'),
        'LocalTimeOffset': Field('int', fact='local_offset_minutes', source='model'),
    }, fact='time', source='model'),
    'Subscription': Section({
        'SystemID': Field(fact='system_id', writable=False, source='model'),
        'CustomerID': Field(fact='customer_id', source='model'),
        'CustomerName': Field(fact='customer_name', source='model'),
        'ServerAddress': Field(fact='server_address', source='model', case_insensitive=True),
    }, fact='subscription', source='model'),
})

IP_ROUTE = Entity('IPRoute', 'iproutes', methods=('GET', 'POST', 'PUT', 'DELETE'), quoting='quoted', source='model', update='merge', fields={
    GUID_KEY: Field(fact='guid', writable=False, source='model'),
    'IPAddress': Field(fact='ip_address', source='model', empty_equals='0.0.0.0'),
    'IPMask': Field(fact='ip_mask', source='model', empty_equals='0.0.0.0'),
    'GatewayIPAddress': Field(fact='gateway', source='model'),
    'Destination': Field(fact='destination', source='model'),
    'Metric': Field('int', fact='metric', source='model'),
})

# A public client of the API warns that a user PUT clears what it leaves out: assume passwords too.
SERVICE_USER = Entity('ServiceUser', 'serviceusers', methods=('GET', 'POST', 'PUT', 'DELETE'), quoting='quoted', source='model',
                      clears_write_only=True, fields={
    GUID_KEY: Field(fact='guid', writable=False, source='model'),
    'Name': Field(fact='name', source='model'),
    'Password': Field(write_only=True, source='model'),
    'AccountStatus': Field(fact='account_status', source='model'),
    'RightsGroups': Field('list', fact='rights_groups', source='model'),
})

RIGHTS_GROUP = Entity('RightsGroup', 'rightsgroups', methods=('GET', 'POST', 'PUT', 'DELETE'), quoting='quoted', source='model', update='merge', fields={
    GUID_KEY: Field(fact='guid', writable=False, source='model'),
    'Name': Field(fact='name', source='model'),
    'ExternalRights': Field('list', fact='external_rights', source='model'),
})

LICENSE = Entity('License', 'licenses', methods=('GET',), quoting='quoted', fields={
    GUID_KEY: Field(fact='guid', writable=False),
    'LicenseKey': Field(fact='key', writable=False),
    'DisplayName': Field(fact='display_name', writable=False),
    'Source': Field('int', fact='source', writable=False),
    'Type': Field('int', fact='type', writable=False),
    'Status': Field('int', fact='status', writable=False),
    'Mode': Field('int', fact='mode', writable=False),
    'Quantity': Field('int', fact='quantity', writable=False),
    'FreeInstances': Field('int', fact='free_instances', writable=False),
    'ExpiryDate': Field(fact='expiry_date', writable=False),
    'IsGrace': Field('bool', fact='is_grace', writable=False),
    'PBXAddress': Field(fact='pbx_address', writable=False),
})


def _status_field(kind='str', fact=None):
    return Field(kind, fact=fact, writable=False, source='model')


# What a system knows about its subscription link. The guide has nothing for it: this is the collection's model.
SUBSCRIPTION_STATUS = Entity('SubscriptionStatus', 'subscriptionstatus', methods=('GET',), quoting='quoted', source='model', fields={
    GUID_KEY: _status_field(fact='guid'),
    'PBXAddress': _status_field(fact='node_address'),
    'LinkState': _status_field(fact='link_state'),
    'Reason': _status_field(fact='reason'),
    'ReasonText': _status_field(fact='reason_text'),
    'MissingPrerequisites': _status_field('list', fact='missing_prerequisites'),
    'ServerAddress': _status_field(fact='server_address'),
    'ResolvedAddress': _status_field(fact='resolved_address'),
    'Port': _status_field('int', fact='port'),
    'ConnectedSince': _status_field(fact='connected_since'),
    'LastHeartbeat': _status_field(fact='last_heartbeat'),
    'LastAttempt': _status_field(fact='last_attempt'),
    'Attempts': _status_field('int', fact='attempts'),
    'RoundTripMs': _status_field('int', fact='round_trip_ms'),
    'ErrorModeSince': _status_field(fact='error_mode_since'),
    'GracePeriodDays': _status_field('int', fact='grace_period_days'),
    'GraceDaysLeft': _status_field('int', fact='grace_days_left'),
    'Alarms': Section({'Alarm': Items({
        'Day': _status_field('int', fact='day'),
        'Raised': _status_field(fact='raised'),
        'Text': _status_field(fact='text'),
    }, key='Day', fact='alarms', source='model')}, source='model'),
    'Telephony': _status_field(fact='telephony'),
    'SubscriptionFeatures': _status_field(fact='subscription_features'),
    'TimeSynchronised': _status_field('bool', fact='time_synchronised'),
    'TimeOffsetMs': _status_field('int', fact='time_offset_ms'),
    'LastLicenseUpdate': _status_field(fact='last_license_update'),
})

# LinkState values of the model, and the names the collection returns for them.
LINK_STATES = {
    'NotApplicable': 'not_applicable',
    'NotConfigured': 'not_configured',
    'Connecting': 'connecting',
    'Connected': 'connected',
    'ErrorMode': 'error_mode',
    'Expired': 'expired',
}

PROVISION_IP_ADDRESS = Entity('ProvisionIPAddress', 'provisionIPAddress', methods=('GET', 'PUT'), quoting='quoted', fields={
    'IPAddress': Field(fact='ip_address'),
})

ENTITIES = dict((e.name, e) for e in (SYSTEM, IP_ROUTE, SERVICE_USER, RIGHTS_GROUP, LICENSE, SUBSCRIPTION_STATUS, PROVISION_IP_ADDRESS))

# The guide's JSON samples spell some names differently; these are the same things.
ENTITY_ALIASES = {'ProvisonIPAddress': 'ProvisionIPAddress'}

# Licence Status values (guide §4.3): link_status.LICENCE_STATUS, the collection's one table of them.


def declare(name, resource):
    """An entity an API profile names that the schema does not know (a release nobody here has seen).

    It has no declared fields, so its objects are kept exactly as received, and
    it is written back whole (update 'replace'): right whether the device
    merges or replaces."""
    if name not in ENTITIES:
        ENTITIES[name] = Entity(name, resource, fields={GUID_KEY: Field(fact='guid', writable=False, source='profile')},
                                methods=('GET', 'PUT'), quoting='quoted', source='profile')
    return ENTITIES[name]


def changes_only_when_written(resource):
    """Whether what a resource serves is configuration, which changes only when written (a PUT, POST or DELETE,
    through this API or Web Manager), unlike the link's status and the licences, which the device changes on its
    own: only such reads may be shared between the tasks of a play (docs/connection.md)."""
    return any(ent.resource == resource and set(ent.methods) - {'GET'} for ent in ENTITIES.values())


def write_only_paths(fields, prefix=()):
    """The paths of the write-only fields (passwords) under fields."""
    for key, spec in fields.items():
        if spec.kind == 'section':
            yield from write_only_paths(spec.fields, prefix + (key,))
        elif spec.kind != 'items' and spec.write_only:
            yield prefix + (key,)


def drop_path(obj, path):
    node = obj
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def without_write_only(entity_name, obj):
    """A copy of a device object of entity_name without its write-only fields (as is for an entity the schema
    does not know)."""
    ent = ENTITIES.get(ENTITY_ALIASES.get(entity_name, entity_name))
    if ent is None or not isinstance(obj, dict):
        return obj
    result = copy.deepcopy(obj)
    for path in write_only_paths(ent.fields):
        drop_path(result, path)
    return result


def entity(name):
    """The Entity for a device entity name (aliases accepted)."""
    name = ENTITY_ALIASES.get(name, name)
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError('the schema has no entity %r' % name)


def as_list(value):
    """One item as an object, several as an array, none as "" or absent: always a list."""
    if value is None or value == '':
        return []
    if isinstance(value, list):
        return value
    return [value]


def _normalise_key(key):
    # Some guide examples write attributes as -GUID instead of @GUID.
    if key.startswith('-') and len(key) > 1:
        return '@' + key[1:]
    return key


class SchemaValueError(ValueError):
    """A value that cannot be read as its declared type."""


def _to_bool(value, path):
    if isinstance(value, bool):
        return value
    if value is None or value == '':
        return None
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off'):
        return False
    raise SchemaValueError('%s: %r is not a boolean' % (path, value))


def _to_int(value, path):
    if isinstance(value, bool):
        raise SchemaValueError('%s: %r is not a number' % (path, value))
    if isinstance(value, int):
        return value
    if value is None or value == '':
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise SchemaValueError('%s: %r is not a number' % (path, value))


def _to_scalar(field, value, path):
    if field.kind == 'int':
        return _to_int(value, path)
    if field.kind == 'bool':
        return _to_bool(value, path)
    if field.kind == 'list':
        if isinstance(value, list):
            return [str(v) for v in value]
        if value is None or value == '':
            return []
        return [part for part in str(value).split('|') if part != '']
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _normalise_node(fields, node, path):
    if node is None or node == '':
        return {}
    if not isinstance(node, dict):
        raise SchemaValueError('%s: expected an element, got %r' % (path, node))
    result = {}
    for raw_key, value in node.items():
        key = _normalise_key(raw_key)
        spec = fields.get(key)
        sub = '%s.%s' % (path, key)
        if spec is None:
            result[key] = value  # unknown to the schema: kept exactly as received
        elif spec.kind == 'section':
            result[key] = _normalise_node(spec.fields, value, sub)
        elif spec.kind == 'items':
            result[key] = [_normalise_node(spec.fields, item, sub) for item in as_list(value)]
        else:
            result[key] = _to_scalar(spec, value, sub)
    return result


def normalise(entity_name, obj):
    """Device JSON of one entity -> canonical Python values (types per schema, lists as lists)."""
    ent = entity(entity_name)
    return _normalise_node(ent.fields, obj, ent.name)


def _device_scalar(field, value, quoting):
    if field.kind == 'list':
        return '|'.join(value or [])
    if value is None:
        return ''
    if quoting == 'quoted':
        if isinstance(value, bool):
            return 'true' if value else 'false'
        return str(value)
    return value


def _device_node(fields, node, quoting):
    result = {}
    for key, value in node.items():
        spec = fields.get(key)
        if spec is None:
            result[key] = value
        elif spec.kind == 'section':
            result[key] = _device_node(spec.fields, value, quoting) if value else ''
        elif spec.kind == 'items':
            items = [_device_node(spec.fields, item, quoting) for item in value]
            # The device writes one item as an object, several as an array.
            result[key] = items[0] if len(items) == 1 else items
        else:
            result[key] = _device_scalar(spec, value, quoting)
    return result


def to_device(entity_name, obj):
    """Canonical values -> the JSON form the device itself uses for this resource."""
    ent = entity(entity_name)
    return _device_node(ent.fields, obj, ent.quoting)


def _facts_node(fields, node):
    facts = {}
    for key, spec in fields.items():
        if key not in node or spec.kind not in ('section', 'items') and (spec.fact is None or spec.write_only):
            continue
        value = node[key]
        if spec.kind == 'section':
            sub = _facts_node(spec.fields, value)
            if spec.fact is None:
                facts.update(sub)
            else:
                facts[spec.fact] = sub
        elif spec.kind == 'items':
            facts[spec.fact] = [_facts_node(spec.fields, item) for item in value]
        else:
            facts[spec.fact] = value
    return facts


def to_facts(entity_name, obj):
    """Canonical values -> the collection's names. Write-only fields never appear."""
    ent = entity(entity_name)
    return _facts_node(ent.fields, obj)


def iter_fields(entity_name):
    """(dotted path, spec) for every scalar field of an entity, for docs and tests."""
    ent = entity(entity_name)
    stack = [('', ent.fields)]
    while stack:
        prefix, fields = stack.pop(0)
        for key, spec in fields.items():
            path = prefix + key
            if spec.kind in ('section', 'items'):
                stack.append((path + '.', spec.fields))
            else:
                yield path, spec


def section_fact_paths(entity_name, section_key):
    """{fact name: path} for the fields of one section, e.g. System DNS -> {'server': ('DNS', 'DNSServerIPAddress')}."""
    section = entity(entity_name).fields[section_key]
    return dict((spec.fact, (section_key, key)) for key, spec in section.fields.items() if spec.fact)
