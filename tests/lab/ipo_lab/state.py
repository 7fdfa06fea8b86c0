"""The stored configuration of one emulated system, its defaults and its state file.

A system's state file, ``STATE/systems/<name>.json``, holds its System object,
IP routes, service users (password digests only), rights groups and licences,
plus whether it is registered on its Application Server and whether a reboot
is pending. It is rewritten atomically after every successful write, so a
crash never leaves half a file and a restart keeps what the tests configured.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import logging
import os
import tempfile

from . import model, releases
from .security import SecurityDB, hash_password
from .topology import IP500, WRITABLE_ENTITIES, TopologyError, guid_for

FORMAT = 1
LOG = logging.getLogger('ipo_lab.state')
COLLECTIONS = ('IPRoute', 'ServiceUser', 'RightsGroup', 'License')


def write_atomic(path, data):
    """Write bytes to path so that readers see the old file or the new one, never a mix."""
    directory = os.path.dirname(path)
    handle_fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(handle_fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def build_groups(specs, database):
    return [{'@GUID': guid_for(database, 'RightsGroup', spec.name), 'Name': spec.name, 'ExternalRights': '|'.join(spec.external_rights)}
            for spec in specs]


def build_users(specs, database):
    return [{'@GUID': guid_for(database, 'ServiceUser', spec.name), 'Name': spec.name, 'Password': hash_password(spec.password),
             'AccountStatus': spec.status, 'RightsGroups': '|'.join(spec.rights_groups)} for spec in specs]


def from_fields(fields, values, where):
    """Topology-given field values (numbers or strings) -> a typed object, checked like a POST body."""
    write = model.Write(where)
    obj = model.apply(fields, model.empty_object(fields), values, 'replace', write)
    if write.errors:
        raise TopologyError('%s: %s' % (where, '; '.join(error['error_desc'] for error in write.errors)))
    return obj


def default_lan(lan, index):
    obj = model.empty_object(model.LAN_FIELDS)
    obj.update({
        '@id': lan.lan_id, 'IPAddress': lan.address, 'IPMask': lan.mask, 'PrimaryTranslationIPAddress': '0.0.0.0',
        'dhcp_address_number': 200, 'DHCPmode': 4 if index == 0 else 2,
    })
    obj['NetworkTopologyDiscovery'].update({'ConnectivityType': 7, 'PublicIPAddress': '0.0.0.0', 'STUNPort': 3478})
    obj['VoipGatekeeper'].update({
        'H323GatekeeperEnable': True, 'H323RemoteExtnCallSignalPort': 1720, 'SipTrunksEnable': True,
        'UdpPort': 5060, 'TcpPort': 5060, 'TlsPort': 5061, 'RtpPortMin': 40750, 'RtpPortMax': 50750,
    })
    return obj


def default_system(spec):
    obj = model.empty_object(model.SYSTEM_FIELDS)
    major, minor, build = spec.version
    obj.update({
        '@GUID': spec.guid, 'Name': spec.name, 'SystemType': spec.system_type,
        'MajorVersion': major, 'MinorVersion': minor, 'BuildVersion': build,
        'Configuration': 0 if spec.system_type == IP500 else 11,
    })
    obj['Telephony']['Locale'] = 'eng'
    obj['Voicemail']['Type'] = 1
    obj['LANS']['LAN'] = [default_lan(lan, index) for index, lan in enumerate(spec.lans)]
    obj['PBXLicense'].update({
        'LicenseServerPort': 52233, 'LicenseMode': 4, 'LicenseGracePeriod': 30, 'LicensedVersion': '%d.%d' % (major, minor),
        'PLDSHostId': int(spec.guid[:10], 16), 'SelectLicensingStatus': -1,
    })
    obj['TimeSettings']['TimeSettingConfigSource'] = 'None'
    obj['Subscription']['SystemID'] = system_id(spec)
    # Fields no model knows, as every real release carries some: served and kept like the rest.
    obj.update(copy.deepcopy(spec.vendor_fields or {}))
    return obj


def system_id(spec):
    """Web Manager's read-only System ID: an IP500 V2's SD-card serial with 11 in front, else a hardware-derived value."""
    if spec.system_type == IP500:
        return '11%010d' % (int(spec.guid[:12], 16) % 10 ** 10)
    return spec.guid[:12]


def default_routes(spec):
    if spec.routes is not None:
        return [dict(from_fields(model.IPROUTE_FIELDS, values, '%s.routes[%d]' % (spec.name, index)),
                     **{'@GUID': guid_for(spec.name, 'IPRoute', str(index))}) for index, values in enumerate(spec.routes)]
    # One non-default static route, so tests can prove a client never touches routes it does not own.
    lan1 = spec.lans[0]
    network = ipaddress.IPv4Network('%s/%s' % (lan1.address, lan1.mask), strict=False)
    gateway = str(network.broadcast_address - 1)
    return [{'@GUID': guid_for(spec.name, 'IPRoute', '0'), 'IPAddress': '127.0.99.0', 'IPMask': '255.255.255.0',
             'GatewayIPAddress': gateway, 'Destination': 'LAN1', 'Metric': 0}]


def default_licenses(spec):
    """Licences stored on the system itself (topology ``licenses``); subscription licences come over the link."""
    licenses = []
    for index, values in enumerate(spec.licenses or []):
        values = dict(values)
        if 'ExpiresInDays' in values:
            days = int(values.pop('ExpiresInDays'))
            values['ExpiryDate'] = (datetime.date.today() + datetime.timedelta(days=days)).strftime('%Y/%m/%d')
        values.setdefault('PBXAddress', spec.lan1)
        obj = from_fields(model.LICENSE_FIELDS, values, '%s.licenses[%d]' % (spec.name, index))
        obj['@GUID'] = guid_for(spec.name, 'License', str(index))
        licenses.append(obj)
    return licenses


class SystemState:
    """One emulated IP Office system: its objects and runtime flags."""

    def __init__(self, spec):
        self.spec = spec
        self.system = None
        self.collections = {}
        self.registered = spec.registered
        self.reboot_pending = False
        # The configuration as the system last started with it: settings that need a reboot act from here.
        self.booted = None
        self.semantics = {}
        self.release = releases.release(spec.api_profile, spec.renamed)
        self.link = None    # the LinkAgent, attached by the Lab
        self.reset()

    def reset(self):
        """Back to the topology's defaults (what --fresh and the control reset do)."""
        spec = self.spec
        self.system = default_system(spec)
        self.collections = {
            'IPRoute': default_routes(spec),
            'ServiceUser': build_users(spec.users, spec.name),
            'RightsGroup': build_groups(spec.groups, spec.name),
            'License': default_licenses(spec),
        }
        self.registered = spec.registered
        self.reboot_pending = False
        self.booted = copy.deepcopy(self.system)
        self.reset_semantics()

    def reset_semantics(self):
        self.semantics = dict((name, 'merge') for name in WRITABLE_ENTITIES)
        self.semantics.update(self.spec.semantics)

    @property
    def name(self):
        return self.spec.name

    @property
    def address(self):
        """The node's LAN1 address: what ?ipaddress= and errorLocation use.

        Falls back to the topology's LAN1 when a replace-style write removed the
        LANs, so a test can still reach (and repair) the node.
        """
        lan = self.lan('LAN1')
        if lan and lan['IPAddress']:
            return lan['IPAddress']
        return self.spec.lan1

    def reboot(self):
        """Start again with the stored configuration: settings waiting for a reboot take effect."""
        was_pending = self.reboot_pending
        self.booted = copy.deepcopy(self.system)
        self.reboot_pending = False
        return was_pending

    def in_effect(self):
        """The System the system acts on: its stored configuration, except the settings that need a reboot
        (model.reboot_paths), which stay as they were at its last start until it reboots."""
        effective = copy.deepcopy(self.system)
        for path in model.reboot_paths():
            node, source = effective, self.booted
            for key in path[:-1]:
                node, source = node[key], source[key]
            node[path[-1]] = copy.deepcopy(source[path[-1]])
        return effective

    def lan(self, lan_id):
        for lan in self.system['LANS']['LAN']:
            if lan['@id'] == lan_id:
                return lan
        return None

    def objects(self, entity_name):
        if entity_name == 'System':
            return [self.system]
        if entity_name == 'SubscriptionStatus':
            return [self.link.status()] if self.link else []
        if entity_name == 'License':
            # Stored licences first, then what the subscription link delivered.
            return self.collections['License'] + (self.link.licenses() if self.link else [])
        return self.collections[entity_name]

    def security_db(self):
        return SecurityDB(self.name, lambda: self.collections['ServiceUser'], lambda: self.collections['RightsGroup'])

    # --- persistence -----------------------------------------------------

    def to_json(self):
        return {
            'format': FORMAT,
            'name': self.name,
            'system_type': self.spec.system_type,
            'registered': self.registered,
            'reboot_pending': self.reboot_pending,
            'config': dict([('System', self.system)] + [(name, self.collections[name]) for name in COLLECTIONS]),
        }

    def save(self, directory):
        data = json.dumps(self.to_json(), indent=1, sort_keys=False).encode('utf-8') + b'\n'
        write_atomic(os.path.join(directory, '%s.json' % self.name), data)

    def load(self, directory):
        """Load the state file if there is one for this system; returns True when loaded."""
        path = os.path.join(directory, '%s.json' % self.name)
        if not os.path.exists(path):
            return False
        try:
            with open(path, encoding='utf-8') as handle:
                data = json.load(handle)
            if data.get('format') != FORMAT or data.get('name') != self.name or data.get('system_type') != self.spec.system_type:
                LOG.warning('state file %s does not match the topology; using defaults', path)
                return False
            config = data['config']
            self.system = config['System']
            self.collections = dict((name, config[name]) for name in COLLECTIONS)
            self.registered = bool(data.get('registered'))
            # A lab restart is a restart of the system: what it stored is what it now runs with.
            self.reboot_pending = False
            self.booted = copy.deepcopy(self.system)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            LOG.warning('state file %s unreadable (%s); using defaults', path, type(exc).__name__)
            self.reset()
            return False
        return True

    def public(self):
        """The stored state for the control API, secrets masked."""
        config = {'System': model.public_copy(model.SYSTEM_FIELDS, self.system)}
        for name in COLLECTIONS:
            fields = model.ENTITY_BY_NAME[name].fields
            config[name] = [model.public_copy(fields, obj) for obj in self.collections[name]]
        return {
            'name': self.name,
            'type': self.spec.system_type,
            'deployment': self.spec.deployment,
            'guid': self.system['@GUID'],
            'lan1': self.address,
            'registered': self.registered,
            'reboot_pending': self.reboot_pending,
            'semantics': dict(self.semantics),
            'api_profile': self.release.name,
            'config': config,
        }
