"""Load and check the lab topology file (YAML).

The file is data only: which Application Servers and Server Edition solutions
exist, which systems they host, on which loopback addresses they listen, and
the service users and rights groups every security database starts with.
README.md documents the format. Every address must be on 127.0.0.0/8: the lab
never listens anywhere else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re

import yaml

from . import releases

APP_SERVER = 'application-server'
SERVER_EDITION = 'server-edition'

IP500 = 'IP500 V2'
SE_PRIMARY = 'Server Edition Primary'
SE_SECONDARY = 'Server Edition Secondary'
SE_EXPANSION = 'Server Edition Expansion'
SYSTEM_TYPES = (IP500, SE_PRIMARY, SE_SECONDARY, SE_EXPANSION)


def holds_link(system_type):
    """IP500 V2: every system has its own subscription link. Server Edition: only the Primary."""
    return system_type in (IP500, SE_PRIMARY)


DEFAULT_VERSION = {IP500: '12.1.45', SE_PRIMARY: '12.2.32', SE_SECONDARY: '12.2.32', SE_EXPANSION: '12.2.32'}

# Listener switches that may also be given in the topology (the control API changes them at run time).
QUIRK_CHOICES = {
    'session_timeout_http': (200, 461),
    'logout': ('405', '200'),
    'cert': ('lab', 'rogue'),
    'content_type_label': ('json', 'xml'),
}
DEFAULT_QUIRKS = {'session_timeout_http': 200, 'logout': '405', 'cert': 'lab', 'content_type_label': 'json'}

SEMANTICS = ('merge', 'replace')
NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
WRITABLE_ENTITIES = ('System', 'IPRoute', 'ServiceUser', 'RightsGroup')
# Names the lab's System model already uses at the top level: not available as vendor fields.
VENDOR_RESERVED = ('Name', 'Password', 'SystemType', 'MajorVersion', 'MinorVersion', 'BuildVersion', 'Configuration',
                   'Telephony', 'Voicemail', 'LANS', 'PBXLicense', 'DNS', 'TimeSettings', 'Subscription')
ACCOUNT_STATUSES = ('Enabled', 'Disabled', 'Locked')


class TopologyError(Exception):
    """The topology file is not valid; the message names the place."""


@dataclasses.dataclass
class UserSpec:
    name: str
    password: str
    rights_groups: list
    status: str = 'Enabled'

    def __repr__(self):
        # Never show the password, even in a traceback or a debug print.
        return 'UserSpec(name=%r, rights_groups=%r, status=%r)' % (self.name, self.rights_groups, self.status)


@dataclasses.dataclass
class GroupSpec:
    name: str
    external_rights: list


@dataclasses.dataclass
class LanSpec:
    lan_id: str
    address: str
    mask: str


@dataclasses.dataclass
class SystemSpec:
    name: str
    system_type: str
    deployment: str
    lans: list
    version: tuple
    guid: str
    registered: bool
    semantics: dict
    users: list
    groups: list
    routes: list = None
    licenses: list = None
    listen: str = None
    api_profile: str = 'model'
    vendor_fields: dict = None
    renamed: object = None          # the releases.Renamed a system with api_profile renamed plays
    alarm_syslog: tuple = None     # (address, port) its alarm settings send syslog to, or None

    @property
    def lan1(self):
        return self.lans[0].address


@dataclasses.dataclass
class DeploymentSpec:
    name: str
    kind: str
    address: str
    systems: list
    quirks: dict
    users: list
    groups: list


@dataclasses.dataclass
class LabSpec:
    api_port: int
    control_address: str
    control_port: int
    session_idle_timeout: float
    lockout_threshold: int
    lockout_seconds: float
    deployments: list
    world: object = None
    lockout_window: float = 600.0
    max_sessions_per_user: int = 5

    def systems(self):
        return [system for deployment in self.deployments for system in deployment.systems]


def guid_for(*parts):
    """A stable 32 upper-case hex GUID derived from names, so restarts and resets keep it."""
    return hashlib.md5('/'.join(parts).encode('utf-8'), usedforsecurity=False).hexdigest().upper()


def _need(mapping, key, where, kind=None):
    if not isinstance(mapping, dict) or key not in mapping:
        raise TopologyError('%s: missing key %r' % (where, key))
    value = mapping[key]
    if kind is not None and not isinstance(value, kind):
        raise TopologyError('%s.%s: expected %s, got %r' % (where, key, getattr(kind, '__name__', kind), value))
    return value


def _loopback(value, where):
    try:
        address = ipaddress.IPv4Address(str(value))
    except ValueError:
        raise TopologyError('%s: %r is not an IPv4 address' % (where, value))
    if not address.is_loopback:
        raise TopologyError('%s: %s is not on loopback (127.0.0.0/8); the lab listens nowhere else' % (where, address))
    return str(address)


def _lan(lan_id, value, where):
    text = str(value)
    if '/' not in text:
        raise TopologyError('%s: %r must be ADDRESS/MASK, e.g. 127.0.11.1/255.255.255.0 or 127.0.11.1/24' % (where, value))
    address, mask = text.split('/', 1)
    address = _loopback(address, where)
    try:
        network = ipaddress.IPv4Network('%s/%s' % (address, mask), strict=False)
    except ValueError:
        raise TopologyError('%s: %r has no valid mask' % (where, value))
    return LanSpec(lan_id, address, str(network.netmask))


def _version(value, where):
    parts = str(value).split('.')
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise TopologyError('%s: version %r must be MAJOR.MINOR.BUILD, e.g. "12.1.45"' % (where, value))
    return tuple(int(part) for part in parts)


def _groups(items, where):
    if not isinstance(items, list):
        raise TopologyError('%s: expected a list' % where)
    groups = []
    for index, item in enumerate(items):
        here = '%s[%d]' % (where, index)
        rights = item.get('external_rights', []) if isinstance(item, dict) else []
        if not isinstance(rights, list):
            raise TopologyError('%s.external_rights: expected a list' % here)
        groups.append(GroupSpec(str(_need(item, 'name', here)), [str(right) for right in rights]))
    _unique([group.name for group in groups], where)
    return groups


def _users(items, groups, where):
    if not isinstance(items, list):
        raise TopologyError('%s: expected a list' % where)
    known = set(group.name for group in groups)
    users = []
    for index, item in enumerate(items):
        here = '%s[%d]' % (where, index)
        member_of = item.get('rights_groups', []) if isinstance(item, dict) else []
        if not isinstance(member_of, list):
            raise TopologyError('%s.rights_groups: expected a list' % here)
        for group in member_of:
            if group not in known:
                raise TopologyError('%s.rights_groups: unknown rights group %r' % (here, group))
        status = str(item.get('status', 'Enabled'))
        if status not in ACCOUNT_STATUSES:
            raise TopologyError('%s.status: must be one of %s' % (here, ', '.join(ACCOUNT_STATUSES)))
        users.append(UserSpec(str(_need(item, 'name', here)), str(_need(item, 'password', here)), [str(g) for g in member_of], status))
    _unique([user.name for user in users], where)
    return users


def _unique(names, where):
    seen = set()
    for name in names:
        if name in seen:
            raise TopologyError('%s: %r appears twice' % (where, name))
        seen.add(name)


def check_semantics(value, where):
    """Check an {Entity: merge|replace} mapping; used for the topology and for the control API."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TopologyError('%s: expected a mapping Entity: merge|replace' % where)
    for entity, mode in value.items():
        if entity not in WRITABLE_ENTITIES:
            raise TopologyError('%s: unknown entity %r (one of %s)' % (where, entity, ', '.join(WRITABLE_ENTITIES)))
        if mode not in SEMANTICS:
            raise TopologyError('%s.%s: must be merge or replace' % (where, entity))
    return dict(value)


def check_vendor_fields(value, where):
    """Vendor fields: names and values (text, numbers, booleans, or elements of those) a System carries that no model knows."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TopologyError('%s: expected a mapping of field names to values' % where)
    for name, item in value.items():
        here = '%s.%s' % (where, name)
        if not isinstance(name, str) or not NAME_RE.match(name) or name in VENDOR_RESERVED:
            raise TopologyError('%s: %r cannot be a vendor field name' % (where, name))
        if isinstance(item, dict):
            check_vendor_fields(item, here)
        elif not isinstance(item, (str, int, float, bool)):
            raise TopologyError('%s: expected text, a number, a boolean or a mapping' % here)
    return dict(value)


def _releases(value):
    """The topology's releases: name -> releases.Renamed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TopologyError('releases: expected a mapping of release names to their renaming')
    found = {}
    for name, spec in value.items():
        if not NAME_RE.match(str(name)):
            raise TopologyError('releases: %r may use letters, digits, ".", "_" and "-" only' % name)
        try:
            found[str(name)] = releases.renamed(str(name), spec, 'releases.%s' % name)
        except releases.ReleaseError as exc:
            raise TopologyError(str(exc))
    return found


def check_quirks(value, where):
    """Check listener switches; used for the topology and for the control API."""
    if not isinstance(value, dict):
        raise TopologyError('%s: expected a mapping' % where)
    checked = {}
    for key, setting in value.items():
        if key not in QUIRK_CHOICES:
            raise TopologyError('%s: unknown switch %r (one of %s)' % (where, key, ', '.join(QUIRK_CHOICES)))
        choices = QUIRK_CHOICES[key]
        # Accept 461 and "461", 200 and "200": YAML and JSON writers differ.
        match = [choice for choice in choices if str(choice) == str(setting)]
        if not match:
            raise TopologyError('%s.%s: must be one of %s' % (where, key, ', '.join(str(c) for c in choices)))
        checked[key] = match[0]
    return checked


def _system(item, deployment, kind, defaults, where):
    name = str(_need(item, 'name', where))
    if not NAME_RE.match(name):
        # The name becomes a file name (STATE/systems/<name>.json) and a URL segment of the control API.
        raise TopologyError('%s.name: %r may use letters, digits, ".", "_" and "-" only' % (where, name))
    system_type = str(item.get('type', IP500 if kind == APP_SERVER else ''))
    if system_type not in SYSTEM_TYPES:
        raise TopologyError('%s.type: %r is not one of %s' % (where, system_type, ', '.join(SYSTEM_TYPES)))
    if kind == APP_SERVER and system_type != IP500:
        raise TopologyError('%s.type: an Application Server hosts IP500 V2 systems only' % where)
    if kind == SERVER_EDITION and system_type == IP500:
        raise TopologyError('%s.type: a Server Edition solution has Primary, Secondary and Expansion servers' % where)
    lans = [_lan('LAN1', _need(item, 'lan1', where), where + '.lan1')]
    if item.get('lan2') is not None:
        lans.append(_lan('LAN2', item['lan2'], where + '.lan2'))
    groups = _groups(item['rights_groups'], where + '.rights_groups') if 'rights_groups' in item else defaults['groups']
    users = _users(item['service_users'], groups, where + '.service_users') if 'service_users' in item else defaults['users']
    routes = item.get('routes')
    if routes is not None and not isinstance(routes, list):
        raise TopologyError('%s.routes: expected a list of IPRoute field mappings' % where)
    licenses = item.get('licenses')
    if licenses is not None and not isinstance(licenses, list):
        raise TopologyError('%s.licenses: expected a list of License field mappings' % where)
    guid = str(item.get('guid') or guid_for('system', name))
    if len(guid) != 32 or any(c not in '0123456789ABCDEF' for c in guid):
        raise TopologyError('%s.guid: must be 32 upper-case hex digits' % where)
    semantics = dict(defaults['semantics'])
    semantics.update(check_semantics(item.get('semantics'), where + '.semantics'))
    api_profile = str(item.get('api_profile', 'model'))
    if api_profile not in releases.NAMES:
        raise TopologyError('%s.api_profile: %r is not one of %s' % (where, api_profile, ', '.join(releases.NAMES)))
    renamed = None
    if api_profile == releases.RENAMED:
        renamed = defaults['releases'].get(item.get('release'))
        if renamed is None:
            raise TopologyError('%s.release: a renamed system names one of the topology\'s releases (%s)'
                                % (where, ', '.join(sorted(defaults['releases'])) or 'none defined'))
    elif item.get('release') is not None:
        raise TopologyError('%s.release: only a system with api_profile renamed plays a named release' % where)
    vendor_fields = dict(defaults['vendor_fields'])
    vendor_fields.update(check_vendor_fields(item.get('vendor_fields'), where + '.vendor_fields'))
    alarm_syslog = _alarm_syslog(item['alarm_syslog'], where + '.alarm_syslog') if 'alarm_syslog' in item else defaults['alarm_syslog']
    return SystemSpec(
        name=name,
        system_type=system_type,
        deployment=deployment,
        lans=lans,
        version=_version(item.get('version', DEFAULT_VERSION[system_type]), where + '.version'),
        guid=guid,
        registered=bool(item.get('registered', True)),
        semantics=semantics,
        users=users,
        groups=groups,
        routes=routes,
        licenses=licenses,
        listen=lans[0].address if kind == SERVER_EDITION else None,
        api_profile=api_profile,
        vendor_fields=vendor_fields,
        renamed=renamed,
        alarm_syslog=alarm_syslog,
    )


def _alarm_syslog(value, where):
    # Imported here: alarms.py uses world.py, which uses this module.
    from .alarms import parse_target
    try:
        return parse_target(value, where)
    except ValueError as exc:
        raise TopologyError(str(exc))


def _deployment(item, defaults, where):
    name = str(_need(item, 'name', where))
    kind = str(_need(item, 'kind', where))
    if kind not in (APP_SERVER, SERVER_EDITION):
        raise TopologyError('%s.kind: must be %s or %s' % (where, APP_SERVER, SERVER_EDITION))
    quirks = dict(DEFAULT_QUIRKS)
    quirks.update(check_quirks(item.get('quirks') or {}, where + '.quirks'))
    groups = _groups(item['rights_groups'], where + '.rights_groups') if 'rights_groups' in item else defaults['groups']
    users = _users(item['service_users'], groups, where + '.service_users') if 'service_users' in item else defaults['users']
    address = _loopback(_need(item, 'address', where), where + '.address') if kind == APP_SERVER else None
    raw_systems = _need(item, 'systems', where, list)
    systems = [_system(entry, name, kind, defaults, '%s.systems[%d]' % (where, index)) for index, entry in enumerate(raw_systems)]
    if not systems:
        raise TopologyError('%s.systems: at least one system is needed' % where)
    if kind == SERVER_EDITION:
        primaries = [system for system in systems if system.system_type == SE_PRIMARY]
        if len(primaries) != 1 or systems[0].system_type != SE_PRIMARY:
            raise TopologyError('%s.systems: a Server Edition solution lists exactly one Primary, first' % where)
    return DeploymentSpec(name, kind, address, systems, quirks, users, groups)


def parse(data):
    """Build a LabSpec from the parsed YAML document; raises TopologyError."""
    if not isinstance(data, dict):
        raise TopologyError('topology: expected a mapping at the top')
    lab = data.get('lab') or {}
    groups = _groups(_need(data, 'rights_groups', 'topology'), 'rights_groups')
    users = _users(_need(data, 'service_users', 'topology'), groups, 'service_users')
    defaults = {'groups': groups, 'users': users, 'semantics': check_semantics(lab.get('semantics'), 'lab.semantics'),
                'vendor_fields': check_vendor_fields(lab.get('vendor_fields'), 'lab.vendor_fields'),
                'releases': _releases(data.get('releases')),
                'alarm_syslog': _alarm_syslog(lab.get('alarm_syslog'), 'lab.alarm_syslog')}
    raw = _need(data, 'deployments', 'topology', list)
    deployments = [_deployment(item, defaults, 'deployments[%d]' % index) for index, item in enumerate(raw)]
    spec = LabSpec(
        api_port=int(lab.get('api_port', 7070)),
        control_address=_loopback(lab.get('control_address', '127.0.0.1'), 'lab.control_address'),
        control_port=int(lab.get('control_port', 7099)),
        session_idle_timeout=float(lab.get('session_idle_timeout', 600)),
        lockout_threshold=int(lab.get('lockout_threshold', 3)),
        lockout_seconds=float(lab.get('lockout_seconds', 60)),
        lockout_window=float(lab.get('lockout_window', 600)),
        max_sessions_per_user=int(lab.get('max_sessions_per_user', 5)),
        deployments=deployments,
    )
    if spec.max_sessions_per_user < 1:
        raise TopologyError('lab.max_sessions_per_user: must be 1 or more')
    # Imported here: world.py uses this module's helpers.
    from . import world
    spec.world = world.parse(data.get('world'))
    _check_registrations(spec)
    _unique([deployment.name for deployment in deployments], 'deployments')
    _unique([system.name for system in spec.systems()], 'system names')
    _unique([system.lan1 for system in spec.systems()], 'LAN1 addresses')
    _unique(listen_addresses(spec), 'listening addresses')
    return spec


def _check_registrations(spec):
    """world.com.customers.<id>.systems: each names a system of the topology that holds a link, registered to one customer.

    COM accepts a client certificate only for a registered system, and a hello only for that system's customer."""
    systems = dict((system.name, system) for system in spec.systems())
    owner = {}
    for customer in spec.world.com.customers.values():
        where = 'world.com.customers.%s.systems' % customer.customer_id
        for name in customer.systems:
            system = systems.get(name)
            if system is None:
                raise TopologyError('%s: %r is not a system of this topology' % (where, name))
            if not holds_link(system.system_type):
                raise TopologyError('%s: %r is a %s, which holds no subscription link (its Primary holds the solution\'s); '
                                    'register the Primary' % (where, name, system.system_type))
            if name in owner:
                raise TopologyError('%s: %r is already registered to customer %s; a system belongs to one customer'
                                    % (where, name, owner[name]))
            owner[name] = customer.customer_id


def listen_addresses(spec):
    """Every address the lab listens on for the API, in topology order."""
    addresses = []
    for deployment in spec.deployments:
        if deployment.kind == APP_SERVER:
            addresses.append(deployment.address)
        else:
            addresses.extend(system.listen for system in deployment.systems)
    return addresses


def load(path):
    """Read and check a topology file."""
    with open(path, encoding='utf-8') as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise TopologyError('%s: not valid YAML: %s' % (path, exc))
    return parse(data)
