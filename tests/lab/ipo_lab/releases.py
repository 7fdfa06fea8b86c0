"""What each emulated system's Management API serves: the lab's stand-ins for IP Office releases.

Every system keeps the same configuration inside the lab (its System object
with DNS, time and subscription settings, its IP routes and service users):
that is what its link agent acts on, and what a person changes through the
front panel (control.py), as they would in Web Manager. A release decides only
what the API shows of it and accepts:

- ``model``: every resource and field of the collection's model (what the lab
  always served): ``iproutes``, ``serviceusers``, ``rightsgroups``,
  ``subscriptionstatus`` and the DNS, TimeSettings and Subscription sections
  of ``systems``.
- ``documented``: only what Avaya's Management API guide documents. ``systems``
  without the model's sections (and without the model's SystemType), and
  ``licenses``; every other resource answers 404. A System PUT may leave out
  the GUID, as the guide's PBXLicense example does.
- ``renamed``: a release nobody here has seen, defined in the topology's
  ``releases:``. Like ``documented``, plus each setting at a field path of its
  own (in ``systems`` or in a per-node resource of its own), the IP routes and
  service users under other resource, entity and field names, the licence
  server in the guide's URL form, and a default route shown with a blank
  address and mask where the release says so.
"""

from __future__ import annotations

import copy

MODEL = 'model'
DOCUMENTED = 'documented'
RENAMED = 'renamed'
NAMES = (MODEL, DOCUMENTED, RENAMED)

ALL_RESOURCES = ('systems', 'licenses', 'subscriptionstatus', 'iproutes', 'serviceusers', 'rightsgroups')
HIDDEN_MODEL_FIELDS = ('SystemType', 'DNS', 'TimeSettings', 'Subscription')

# Where each setting lives in the lab's own configuration (the model's System sections).
SYSTEM_SETTINGS = {
    'dns_server': ('DNS', 'DNSServerIPAddress'),
    'backup_dns_server': ('DNS', 'BackupDNSServerIPAddress'),
    'dns_domain': ('DNS', 'DNSDomain'),
    'time_source': ('TimeSettings', 'TimeSettingConfigSource'),
    'time_server': ('TimeSettings', 'TimeServerAddress'),
    'time_zone': ('TimeSettings', 'TimeZone'),
    'time_offset': ('TimeSettings', 'LocalTimeOffset'),
    'customer_id': ('Subscription', 'CustomerID'),
    'customer_name': ('Subscription', 'CustomerName'),
    'license_server': ('Subscription', 'ServerAddress'),
}
# The lists a release may rename, by the lab's own resource.
LISTS = {'iproutes': ('IPRoute', 'default_route'), 'serviceusers': ('ServiceUser', 'comadmin')}
LIST_FIELDS = {'iproutes': ('IPAddress', 'IPMask', 'GatewayIPAddress', 'Destination', 'Metric'),
               'serviceusers': ('Name', 'Password', 'AccountStatus', 'RightsGroups')}
SETTINGS_RESOURCE = '@settings'   # the lab's name for a per-node resource that holds only settings


class ReleaseError(ValueError):
    """A release definition in the topology that cannot work; the message names the place."""


class Release:
    def __init__(self, name, resources, hidden_system_fields=(), put_without_guid=False):
        self.name = name
        self.resources = frozenset(resources)
        # Top-level System fields this release's API neither shows nor accepts.
        self.hidden_system_fields = tuple(hidden_system_fields)
        self.put_without_guid = put_without_guid

    def serves(self, resource):
        return resource in self.resources

    def resolve(self, resource):
        """(the lab's own resource, a view or None) for a resource this release serves, else None."""
        return (resource, None) if self.serves(resource) else None

    def system_view(self, fields):
        """The System fields this release's API shows and accepts."""
        return dict((name, field) for name, field in fields.items() if name not in self.hidden_system_fields)

    def visible(self, system):
        """The stored System as this release's API shows it (hidden fields left out)."""
        return dict((name, value) for name, value in system.items() if name not in self.hidden_system_fields)

    def hidden(self, system):
        return dict((name, value) for name, value in system.items() if name in self.hidden_system_fields)

    def served_system(self, system):
        """The System as an answer shows it: the visible fields and, on a renamed release, its settings."""
        return self.visible(system)

    def take_settings(self, resource, body, write):
        """Pull this release's setting paths out of a body for resource: ({setting: value}, rest of the body)."""
        return {}, body


class ListView:
    """A list resource under another name: its entity and field names, and a blank default route."""

    def __init__(self, resource, entity, fields, blank_default=False):
        self.resource = resource
        self.entity = entity
        self.fields = fields            # the lab's field name -> this release's
        self.back = dict((alias, field) for field, alias in fields.items())
        self.blank_default = blank_default

    def render(self, obj):
        """One stored object as this release shows it."""
        out = {'@GUID': obj['@GUID']}
        blank = self.blank_default and obj.get('IPAddress') == '0.0.0.0' and obj.get('IPMask') == '0.0.0.0'
        for name, value in obj.items():
            if name == '@GUID':
                continue
            out[self.fields.get(name, name)] = '' if blank and name in ('IPAddress', 'IPMask') else value
        return out

    def to_lab(self, body):
        """A request body in this release's names -> the lab's names (unknown names kept, to be refused)."""
        if not isinstance(body, dict):
            return body
        out = dict((self.back.get(name, name), value) for name, value in body.items())
        if self.blank_default and out.get('IPAddress') == '' and out.get('IPMask') == '':
            out['IPAddress'] = out['IPMask'] = '0.0.0.0'
        return out


class SettingsView:
    """A per-node resource of a renamed release that holds some settings and nothing else."""

    def __init__(self, resource, entity):
        self.resource = resource
        self.entity = entity


class Renamed(Release):
    def __init__(self, name, settings, lists):
        self.settings = settings        # setting -> {'resource', 'entity', 'path' (tuple), 'form'}
        self.lists = lists              # the lab's resource -> ListView
        self.settings_views = dict((spec['resource'], SettingsView(spec['resource'], spec['entity']))
                                   for spec in settings.values() if spec['resource'] != 'systems')
        resources = {'systems', 'licenses'} | set(view.resource for view in lists.values()) | set(self.settings_views)
        super().__init__(name, resources, HIDDEN_MODEL_FIELDS, put_without_guid=False)

    def resolve(self, resource):
        if resource in ('systems', 'licenses'):
            return resource, None
        for own, view in self.lists.items():
            if view.resource == resource:
                return own, view
        if resource in self.settings_views:
            return SETTINGS_RESOURCE, self.settings_views[resource]
        return None

    def setting_value(self, system, setting):
        section, field = SYSTEM_SETTINGS[setting]
        value = system[section][field]
        if self.settings[setting].get('form') == 'url' and value and '://' not in value:
            value = 'https://' + value
        return value

    def settings_object(self, resource, system):
        """The settings a resource of this release shows, at their paths."""
        out = {}
        for setting, spec in self.settings.items():
            if spec['resource'] == resource:
                _set(out, spec['path'], self.setting_value(system, setting))
        return out

    def served_system(self, system):
        served = self.visible(system)
        served.update(copy.deepcopy(self.settings_object('systems', system)))
        return served

    def take_settings(self, resource, body, write):
        values = {}
        rest = copy.deepcopy(body) if isinstance(body, dict) else body
        for setting, spec in self.settings.items():
            if spec['resource'] != resource or not isinstance(rest, dict):
                continue
            found, value = _pop(rest, spec['path'])
            if found:
                values[setting] = value
        return values, _prune(rest)

    def settings_of(self, resource):
        return [setting for setting, spec in self.settings.items() if spec['resource'] == resource]


def _set(obj, path, value):
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _pop(obj, path):
    node = obj
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return False, None
        node = node[key]
    if not isinstance(node, dict) or path[-1] not in node:
        return False, None
    return True, node.pop(path[-1])


def _prune(obj):
    """Drop the elements a body is left with once its setting paths were taken out."""
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = _prune(value)
            if not value:
                continue
        out[key] = value
    return out


RELEASES = {
    MODEL: Release(MODEL, ALL_RESOURCES),
    DOCUMENTED: Release(DOCUMENTED, ('systems', 'licenses'), hidden_system_fields=HIDDEN_MODEL_FIELDS, put_without_guid=True),
}


def release(name, renamed=None):
    """The release a system plays; renamed releases are built from the topology's releases: by renamed()."""
    if name in RELEASES:
        return RELEASES[name]
    return renamed


def renamed(name, spec, where):
    """A renamed release from its topology entry; raises ReleaseError naming the place."""
    if not isinstance(spec, dict):
        raise ReleaseError('%s: expected a mapping with settings and lists' % where)
    unknown = sorted(set(spec) - {'settings', 'lists', 'description'})
    if unknown:
        raise ReleaseError('%s: unknown key %s' % (where, unknown[0]))
    settings = {}
    for setting, item in (spec.get('settings') or {}).items():
        here = '%s.settings.%s' % (where, setting)
        if setting not in SYSTEM_SETTINGS:
            raise ReleaseError('%s: unknown setting (one of %s)' % (here, ', '.join(sorted(SYSTEM_SETTINGS))))
        if not isinstance(item, dict) or not isinstance(item.get('path'), str) or not item['path']:
            raise ReleaseError('%s: give {resource, path} with a dotted path' % here)
        resource = str(item.get('resource', 'systems'))
        if resource in ALL_RESOURCES and resource != 'systems':
            raise ReleaseError('%s.resource: %s is a resource of the model' % (here, resource))
        entity = item.get('entity')
        if resource != 'systems' and not entity:
            raise ReleaseError('%s.entity: name the entity resource %s serves' % (here, resource))
        form = item.get('form')
        if form not in (None, 'host', 'url') or (form == 'url' and setting != 'license_server'):
            raise ReleaseError('%s.form: only the licence server has a form, host or url' % here)
        settings[setting] = {'resource': resource, 'entity': entity, 'path': tuple(item['path'].split('.')), 'form': form}
    paths = [(spec_['resource'], spec_['path']) for spec_ in settings.values()]
    for index, (resource, path) in enumerate(paths):
        for other_resource, other in paths[index + 1:]:
            if resource == other_resource and (path[:len(other)] == other or other[:len(path)] == path):
                raise ReleaseError('%s.settings: %s and %s overlap' % (where, '.'.join(path), '.'.join(other)))
        if resource == 'systems' and path[0] in HIDDEN_MODEL_FIELDS + ('LANS', 'PBXLicense', 'Name', 'Telephony', 'Voicemail'):
            raise ReleaseError('%s.settings: %s would clash with a field the release shows' % (where, '.'.join(path)))
    lists = {}
    for own, item in (spec.get('lists') or {}).items():
        here = '%s.lists.%s' % (where, own)
        if own not in LISTS:
            raise ReleaseError('%s: only %s can be renamed' % (here, ', '.join(sorted(LISTS))))
        if not isinstance(item, dict) or not item.get('resource') or not item.get('entity'):
            raise ReleaseError('%s: give {resource, entity, fields}' % here)
        fields = dict(item.get('fields') or {})
        if set(fields) - set(LIST_FIELDS[own]):
            raise ReleaseError('%s.fields: only %s' % (here, ', '.join(LIST_FIELDS[own])))
        lists[own] = ListView(str(item['resource']), str(item['entity']), fields, bool(item.get('blank_default')))
    return Renamed(name, settings, lists)
