"""The entities the lab serves: their fields, wire types and how a write is applied.

docs/object-model.md is the contract. The System entity also carries a few more
fields from Avaya's guide (LAN NAT/RIP/DHCP settings, voicemail type, reserved
licences...) that the collection does not manage: under ``replace`` semantics a
client that forgets to send them back loses them, which is exactly what the
tests must be able to see.

Values are kept typed inside the lab (int, bool, str, dict for a section, list
for a keyed repeated child such as LAN) and converted to the wire only when an
answer is rendered: ``systems`` sends bare numbers and booleans, the other
resources quote every value.
"""

from __future__ import annotations

import copy
import ipaddress
import re

from .security import hash_password, split_names

STR = 'str'
INT = 'int'
BOOL = 'bool'
SECTION = 'section'
KEYED = 'keyed'

ERR_FIELD = '2'
ERR_NOT_FOUND = '6'
ERR_GUID_MISSING = '15'
ERR_NAME_EXISTS = '9020'
ERR_BUILT_IN = '9021'
ERR_IN_USE = '9023'


class Field:
    """One field of an entity.

    readonly: a PUT may repeat the current value, a different value is an error.
    writeonly: always reads back "" (passwords); kept when absent from a PUT.
    reboot: a change needs a reboot (on a section: any field inside it).
    """

    def __init__(self, kind, readonly=False, writeonly=False, reboot=False, children=None, key=None, keys=None):
        self.kind = kind
        self.readonly = readonly
        self.writeonly = writeonly
        self.reboot = reboot
        self.children = children or {}
        self.key = key
        self.keys = keys


def s(**kwargs):
    return Field(STR, **kwargs)


def n(**kwargs):
    return Field(INT, **kwargs)


def b(**kwargs):
    return Field(BOOL, **kwargs)


def section(children, **kwargs):
    return Field(SECTION, children=children, **kwargs)


DHCP_POOL_FIELDS = {
    '@id': s(readonly=True),
    'DHCPStartAddress': s(),
    'DHCPSubnetMask': s(),
    'DHCPDefaultRouter': s(),
    'DHCPPoolSize': n(),
}

# The guide's LAN (section 4.2), every field of its sample.
LAN_FIELDS = {
    '@id': s(readonly=True),
    'IPAddress': s(),
    'IPMask': s(),
    'PrimaryTranslationIPAddress': s(),
    'EnableNAT': b(),
    'RIPMode': n(),
    'dhcp_address_number': n(),
    'DHCPmode': n(),
    'NetworkTopologyDiscovery': section({
        'StunServerAddress': s(),
        'ConnectivityType': n(),
        'RefreshTime': n(),
        'PublicIPAddress': s(),
        'PublicPortUdp': n(),
        'PublicPortTcp': n(),
        'PublicPortTls': n(),
        'STUNPort': n(),
        'RunOnFailure': n(),
        'IsBehindFirewall': b(),
    }),
    'VoipGatekeeper': section({
        'H323GatekeeperEnable': b(),
        'H323RemoteExtnEnable': b(),
        'H323RemoteExtnCallSignalPort': n(),
        'H323SignalingOverTLS': n(),
        'SipTrunksEnable': b(),
        'SipRegistrarEnable': b(),
        'SipRemoteExtnEnable': b(),
        'DomainName': s(),
        'SipUdpEnable': b(),
        'UdpPort': n(),
        'RemoteUdpPort': n(),
        'SipTcpEnable': b(),
        'TcpPort': n(),
        'RemoteTcpPort': n(),
        'SipTlsEnable': b(),
        'TlsPort': n(),
        'RemoteTlsPort': n(),
        'ChallengeExpiryTime': n(),
        'RtpPortMin': n(),
        'RtpPortMax': n(),
        'RtpPortMinNat': n(),
        'RtpPortMaxNat': n(),
        'RtcpMonitorEnable': b(),
        'RTCPCollectorIpAddess': s(),
        'AutoCreateExtn': b(),
        'AutoCreateUser': b(),
        'RemoteCallSignallingPort': n(),
        'DHCPPrimarySSON': n(),
        'DHCPSecondarySSON': n(),
        'DHCPVlan': n(),
        'DHCPVlanSSON': n(),
        'DHCPVlanIDs': s(),
        'SIPRegistrarFQDN': s(),
        'SipRegistrarAutoCreateExtnOrUser': b(),
    }),
    'LanDHCPPools': section({
        'ApplyToAvayaIPPhonesOnly': b(),
        'DHCPPools': section({'DHCPPool': Field(KEYED, key='@id', children=DHCP_POOL_FIELDS)}),
    }),
    'Scope': n(),
    'InitialKeeplives': n(),
    'PeriodicTimeout': n(),
    'DiffServSettings': section({'DSCP': n(), 'VideoDSCP': n(), 'DSCPMask': n(), 'SigDSCP': n()}),
    'FirewallProfile': s(),
}

# The guide's reserved-licence counters (PBXLicense.ReservedLicenses).
RESERVED_LICENSES = (
    'VMProRecordingsAdmins', 'WaveUsers', 'VMProTtsPro', 'VMProTtsWindows', 'VMProTts3rdParty', 'CtiLinkPro',
    'EmbeddedVMPorts', 'VMProPorts', 'SipSessions', 'ACCS', 'BranchSystem', 'SMTrunks', 'UMSWebServices',
    'MacSoftphones', 'ThirdPartyRecorder', 'ServerEdition', 'AvayaIPEndpoints', 'ThirdPartyIPEndpoints',
    'Receptionist', 'BasicUser', 'OfficeWorker', 'Teleworker', 'MobileUser', 'PowerUser', 'AvayaSoftphone',
    'WebCollaboration', 'UniversalPRIAdditionalchannels', 'IPSecTunneling', 'CentralizedEndpoints',
    'EssentialEdition', 'PreferredEdition',
)

SYSTEM_FIELDS = {
    'Name': s(),
    'Password': s(writeonly=True),
    'SystemType': s(readonly=True),
    'MajorVersion': n(readonly=True),
    'MinorVersion': n(readonly=True),
    'BuildVersion': n(readonly=True),
    'Configuration': n(),
    'Telephony': section({'Locale': s(), 'ModemTxLevel': n(), 'ModemCDThreshold': n(), 'ModemNoActivityTimeout': n()}),
    'Voicemail': section({'Type': n()}),
    'LANS': section({'LAN': Field(KEYED, key='@id', keys=('LAN1', 'LAN2'), children=LAN_FIELDS)}),
    # Web Manager's Licenses > Remote Server: an offline change, in effect after a reboot.
    'PBXLicense': section({
        'EnableRemoteServer': b(reboot=True),
        'EnableProxyViaPrimaryIPOLine': b(),
        'LicenseServerIPAddress': s(reboot=True),
        'LicenseServerURL': s(reboot=True),
        'LicenseServerURLSecondary': s(),
        'LicenseServerURN': s(),
        'LicenseServerPort': n(reboot=True),
        'LicenseServerID': s(reboot=True),
        'LicenseMode': n(),
        'LicenseGracePeriod': n(),
        'ReservedLicenses': section(dict((name, n()) for name in RESERVED_LICENSES)),
        'LicensedVersion': s(readonly=True),
        'PLDSHostId': n(readonly=True),
        'PLDSFileStatus': n(readonly=True),
        'SelectLicensingStatus': n(),
        'GraceDongleSerialNumber': s(),
        'DongleSerialGraceDays': n(),
        'GracePLDSHostId': s(),
        'LicensingBasicUser': n(),
    }),
    'DNS': section({'DNSServerIPAddress': s(), 'BackupDNSServerIPAddress': s(), 'DNSDomain': s()}, reboot=True),
    'TimeSettings': section({'TimeSettingConfigSource': s(), 'TimeServerAddress': s(), 'TimeZone': s(), 'LocalTimeOffset': n()}),
    # Web Manager's System Settings > Subscription: System ID (read-only), Customer ID, Customer Name, License Server.
    'Subscription': section({'SystemID': s(readonly=True), 'CustomerID': s(), 'CustomerName': s(), 'ServerAddress': s()}),
}

IPROUTE_FIELDS = {'IPAddress': s(), 'IPMask': s(), 'GatewayIPAddress': s(), 'Destination': s(), 'Metric': n()}

SERVICEUSER_FIELDS = {'Name': s(), 'Password': s(writeonly=True), 'AccountStatus': s(), 'RightsGroups': s()}

RIGHTSGROUP_FIELDS = {'Name': s(), 'ExternalRights': s()}

LICENSE_FIELDS = {
    'LicenseKey': s(), 'Source': n(), 'Type': n(), 'Status': n(), 'Quantity': n(), 'FreeInstances': n(),
    'ExpiryDate': s(), 'Mode': n(), 'DisplayName': s(), 'IsGrace': b(), 'PBXAddress': s(),
}

# Not in Avaya's guide: the lab's model of what a system knows about its subscription link (docs/object-model.md).
ALARM_FIELDS = {'Day': n(), 'Raised': s(), 'Text': s()}
SUBSCRIPTIONSTATUS_FIELDS = {
    'PBXAddress': s(), 'LinkState': s(), 'Reason': s(), 'ReasonText': s(), 'MissingPrerequisites': s(),
    'ServerAddress': s(), 'ResolvedAddress': s(), 'Port': n(), 'ConnectedSince': s(), 'LastHeartbeat': s(),
    'LastAttempt': s(), 'Attempts': n(), 'RoundTripMs': n(), 'ErrorModeSince': s(), 'GracePeriodDays': n(),
    'GraceDaysLeft': n(), 'Alarms': section({'Alarm': Field(KEYED, key='Day', children=ALARM_FIELDS)}),
    'Telephony': s(), 'SubscriptionFeatures': s(), 'TimeSynchronised': b(), 'TimeOffsetMs': n(), 'LastLicenseUpdate': s(),
}


class Entity:
    """One resource of the API and the entity it serves."""

    def __init__(self, name, resource, fields, quoted, methods, collection=True, create_defaults=None):
        self.name = name
        self.upper = name.upper()
        self.resource = resource
        self.fields = fields
        self.quoted = quoted
        self.methods = methods
        self.collection = collection
        self.create_defaults = create_defaults or {}


ENTITIES = {
    'systems': Entity('System', 'systems', SYSTEM_FIELDS, quoted=False, methods=('GET', 'PUT'), collection=False),
    'licenses': Entity('License', 'licenses', LICENSE_FIELDS, quoted=True, methods=('GET',)),
    'subscriptionstatus': Entity('SubscriptionStatus', 'subscriptionstatus', SUBSCRIPTIONSTATUS_FIELDS, quoted=True, methods=('GET',)),
    'iproutes': Entity('IPRoute', 'iproutes', IPROUTE_FIELDS, quoted=True, methods=('GET', 'POST', 'PUT', 'DELETE')),
    'serviceusers': Entity('ServiceUser', 'serviceusers', SERVICEUSER_FIELDS, quoted=True, methods=('GET', 'POST', 'PUT', 'DELETE'),
                           create_defaults={'AccountStatus': 'Enabled'}),
    'rightsgroups': Entity('RightsGroup', 'rightsgroups', RIGHTSGROUP_FIELDS, quoted=True, methods=('GET', 'POST', 'PUT', 'DELETE')),
}
ENTITY_BY_NAME = dict((entity.name, entity) for entity in ENTITIES.values())


# ----------------------------------------------------------------------------
# empty values, coercion, rendering

def empty(field):
    """The value a field is reset to under replace semantics."""
    if field.kind == STR:
        return ''
    if field.kind == INT:
        return 0
    if field.kind == BOOL:
        return False
    if field.kind == SECTION:
        return dict((name, empty(child)) for name, child in field.children.items())
    return []


def empty_object(fields):
    return dict((name, empty(field)) for name, field in fields.items())


_INT_RE = re.compile(r'^[+-]?\d+$')


def coerce(field, value):
    """Convert a request value to the field's type; returns (ok, value)."""
    if field.kind == STR:
        if value is None:
            return True, ''
        if isinstance(value, bool):
            return True, 'true' if value else 'false'
        if isinstance(value, (int, float, str)):
            return True, str(value)
        return False, None
    if field.kind == INT:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            return True, value
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return True, int(value.strip())
        return False, None
    if field.kind == BOOL:
        if isinstance(value, bool):
            return True, value
        if isinstance(value, int) and value in (0, 1):
            return True, bool(value)
        if isinstance(value, str) and value.strip().lower() in ('true', 'false', '1', '0'):
            return True, value.strip().lower() in ('true', '1')
        return False, None
    return False, None


def wire(field, value, quoted):
    if field.writeonly:
        return ''
    if field.kind == BOOL:
        return ('true' if value else 'false') if quoted else bool(value)
    if field.kind == INT:
        return str(value) if quoted else value
    return value


def render_fields(fields, obj, quoted):
    """Typed object -> JSON as the device sends it (one repeated child as an object, several as an array).

    Fields the lab's model does not know (a system's vendor fields) are served as stored."""
    out = {}
    for name, field in fields.items():
        value = obj.get(name, empty(field))
        if field.kind == SECTION:
            rendered = render_fields(field.children, value, quoted)
            # A container of repeated children with none left is an empty XML element: "".
            only_keyed = all(child.kind == KEYED for child in field.children.values())
            out[name] = '' if only_keyed and all(v == '' for v in rendered.values()) else rendered
        elif field.kind == KEYED:
            items = [render_fields(field.children, item, quoted) for item in value]
            out[name] = '' if not items else items[0] if len(items) == 1 else items
        else:
            out[name] = wire(field, value, quoted)
    for name, value in obj.items():
        if name not in fields and name != '@GUID':
            out[name] = copy.deepcopy(value)
    return out


def render(entity, obj):
    """One stored object -> its ws_object entry {"<Entity>": {...}}."""
    return render_view(entity, entity.fields, obj)


def render_view(entity, fields, obj):
    """render() with the fields a release shows."""
    body = {'@GUID': obj['@GUID']}
    body.update(render_fields(fields, obj, entity.quoted))
    return {entity.name: body}


def public_copy(fields, obj):
    """Stored object for the control API: write-only values become "***" when set, "" when empty."""
    out = {}
    for name, value in obj.items():
        field = fields.get(name)
        if field is None:
            out[name] = copy.deepcopy(value)
        elif field.writeonly:
            out[name] = '***' if value else ''
        elif field.kind == SECTION:
            out[name] = public_copy(field.children, value)
        elif field.kind == KEYED:
            out[name] = [public_copy(field.children, item) for item in value]
        else:
            out[name] = value
    return out


def normalise_keys(value):
    """Turn the "-attr" spelling of XML attributes (seen in the guide) into "@attr"."""
    if isinstance(value, dict):
        return dict(('@' + key[1:] if key.startswith('-') else key, normalise_keys(item)) for key, item in value.items())
    if isinstance(value, list):
        return [normalise_keys(item) for item in value]
    return value


def as_list(value):
    """One item, several items or none ("") -> a list, as the XML-to-JSON conversion demands."""
    if value in ('', None):
        return []
    if isinstance(value, list):
        return value
    return [value]


# ----------------------------------------------------------------------------
# applying a write

def field_error(path, message, location):
    return error_item(ERR_FIELD, '%s: %s' % (path, message), path, location)


def error_item(code, desc, cause_data, location):
    return {'error_code': code, 'error_desc': desc, 'cause': '0', 'cause_data': cause_data, 'errorLocation': location}


class Write:
    """The result of applying one object of a request body: new value, errors, what changed."""

    def __init__(self, location):
        self.location = location
        self.errors = []
        self.reboot = False
        self.changed = False
        self.obj = None

    def fail(self, path, message):
        self.errors.append(field_error(path, message, self.location))


def vendor_empty(value):
    """What a replace leaves in a vendor field it was not sent: the empty value of the stored type."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, dict):
        return dict((key, vendor_empty(item)) for key, item in value.items())
    if isinstance(value, list):
        return []
    return ''


def apply(fields, current, body, mode, write, path='', reboot=False):
    """Apply a request body to a stored object under merge or replace semantics.

    merge: fields present in the body are set, everything else is kept.
    replace: every field absent from the body is reset to its empty value,
    write-only fields (passwords) included, and a write-only field sent as ""
    is set to "" (the traps a client must avoid).
    Read-only and computed fields keep their value; a body that carries one is
    refused (an item's key attribute, such as a LAN's @id, excepted).
    Vendor fields (stored on the object but unknown to the lab's model, as a
    real release carries fields nobody here modelled) follow the same rule:
    set when sent, kept by a merge, emptied by a replace that leaves them out.
    A field the object does not have at all is refused.
    """
    if not isinstance(body, dict):
        write.fail(path or '.', 'expected an object')
        return copy.deepcopy(current)
    vendor = [name for name in current if name not in fields and name != '@GUID']
    for name in body:
        if name not in fields and name not in vendor:
            write.fail(join(path, name), 'unknown field')
    result = {}
    for name, field in fields.items():
        here = join(path, name)
        present = name in body
        old = current.get(name, empty(field))
        needs_reboot = reboot or field.reboot
        if field.kind == SECTION:
            if present or mode == 'replace':
                sub = body.get(name) if present else {}
                result[name] = apply(field.children, old, {} if sub == '' else sub, mode, write, here, needs_reboot)
            else:
                result[name] = copy.deepcopy(old)
        elif field.kind == KEYED:
            if present:
                result[name] = apply_keyed(field, old, body[name], mode, write, here, needs_reboot)
            elif mode == 'replace':
                result[name] = []
                note_change(write, old, [], needs_reboot)
            else:
                result[name] = copy.deepcopy(old)
        elif present:
            result[name] = apply_scalar(field, old, body[name], write, here, needs_reboot)
        elif mode == 'replace' and not field.readonly:
            # Under replace a field left out is emptied: a password too (a client must send it with the object).
            result[name] = empty(field)
            note_change(write, old, result[name], needs_reboot)
        else:
            result[name] = old
    for name in vendor:
        old = current[name]
        if name in body:
            new = apply_vendor(old, body[name], write, join(path, name))
        elif mode == 'replace':
            new = vendor_empty(old)
        else:
            new = copy.deepcopy(old)
        note_change(write, old, new, reboot)
        result[name] = new
    return result


def apply_vendor(old, value, write, path):
    """A vendor field takes the value sent in the shape it has (an element stays an element)."""
    if isinstance(old, dict):
        if value == '':
            value = {}
        if not isinstance(value, dict):
            write.fail(path, 'expected an element')
            return copy.deepcopy(old)
        unknown = sorted(set(value) - set(old))
        if unknown:
            write.fail(join(path, unknown[0]), 'unknown field')
            return copy.deepcopy(old)
        merged = copy.deepcopy(old)
        merged.update(dict((key, apply_vendor(old[key], item, write, join(path, key))) for key, item in value.items()))
        return merged
    if isinstance(value, (dict, list)):
        write.fail(path, 'expected a value')
        return old
    if isinstance(old, bool) or isinstance(old, (int, float)):
        kind = BOOL if isinstance(old, bool) else INT
        ok, typed = coerce(Field(kind), value)
        if not ok:
            write.fail(path, 'value is not a valid %s' % ('boolean' if kind == BOOL else 'integer'))
            return old
        return typed
    return '' if value is None else str(value)


def apply_scalar(field, old, value, write, path, reboot):
    ok, value = coerce(field, value)
    if not ok:
        write.fail(path, 'value is not a valid %s' % {STR: 'string', INT: 'integer', BOOL: 'boolean'}[field.kind])
        return old
    if field.readonly:
        # An item's key attribute (a LAN's @id) names the item and may be repeated; any other read-only or
        # computed field does not belong in a PUT at all, as a strict device refuses it.
        if not path.rsplit('.', 1)[-1].startswith('@'):
            write.fail(path, 'read-only field: a write must not carry it')
        elif value != old:
            write.fail(path, 'read-only field')
        return old
    if field.writeonly:
        # Secrets are stored hashed; any value sent counts as a change (the device cannot tell otherwise).
        write.changed = write.changed or bool(value) or bool(old)
        return hash_password(value) if value else ''
    note_change(write, old, value, reboot)
    return value


def apply_keyed(field, old_items, value, mode, write, path, reboot):
    """Repeated children keyed by an attribute (LAN by @id): merged by key, or replaced as a whole list."""
    items = as_list(value)
    by_key = dict((item.get(field.key), item) for item in old_items)
    result = [] if mode == 'replace' else copy.deepcopy(old_items)
    for item in items:
        key = item.get(field.key) if isinstance(item, dict) else None
        here = '%s[%s]' % (path, key)
        if field.keys is not None and key not in field.keys:
            write.fail(here, '%s must be one of %s' % (field.key, ', '.join(field.keys)))
            continue
        if field.keys is None and (key is None or str(key).strip() == ''):
            write.fail(here, '%s is required' % field.key)
            continue
        base = by_key.get(key)
        if base is None:
            base = empty_object(field.children)
            base[field.key] = key
            note_change(write, None, key, reboot)
        new = apply(field.children, base, item, mode, write, here, reboot)
        result = [entry for entry in result if entry.get(field.key) != key] + [new]
    if field.keys is not None:
        result.sort(key=lambda entry: field.keys.index(entry[field.key]) if entry.get(field.key) in field.keys else 99)
    if mode == 'replace':
        note_change(write, [entry.get(field.key) for entry in old_items], [entry.get(field.key) for entry in result], reboot)
    return result


def reboot_paths(fields=None, prefix=()):
    """The System paths whose changes act only after a reboot (a section marked reboot: the whole section)."""
    for name, field in (SYSTEM_FIELDS if fields is None else fields).items():
        if field.reboot:
            yield prefix + (name,)
        elif field.kind == SECTION:
            yield from reboot_paths(field.children, prefix + (name,))


def note_change(write, old, new, reboot):
    if old != new:
        write.changed = True
        if reboot:
            write.reboot = True


def join(path, name):
    return '%s.%s' % (path, name) if path else name


# ----------------------------------------------------------------------------
# validation of a written object (checked on the result, before anything is stored)

def is_quad(value):
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return value.count('.') == 3


_HOST = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')
_CUSTOMER_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9-]{0,31}$')


def is_host(value):
    return bool(_HOST.match(value)) and not is_quad(value)


def time_zones():
    """The zones a system can use: the IANA database's names (Python's zoneinfo)."""
    import zoneinfo  # pylint: disable=import-outside-toplevel
    return zoneinfo.available_timezones()


def validate_system(obj, write, node):
    """What a device checks in a System it is given, as Web Manager would refuse it."""
    for lan in obj['LANS']['LAN']:
        for name in ('IPAddress', 'IPMask'):
            if not is_quad(lan[name]):
                write.fail('LANS.LAN[%s].%s' % (lan['@id'], name), 'must be a dotted-quad IPv4 address')
    for name in ('DNSServerIPAddress', 'BackupDNSServerIPAddress'):
        if obj['DNS'][name] and not is_quad(obj['DNS'][name]):
            write.fail('DNS.' + name, 'must be a dotted-quad IPv4 address or ""')
    if obj['DNS']['DNSDomain'] and not is_host(obj['DNS']['DNSDomain']):
        write.fail('DNS.DNSDomain', 'must be a domain name or ""')
    times = obj['TimeSettings']
    if times['TimeSettingConfigSource'] not in ('None', 'SNTP', 'Voicemail', ''):
        write.fail('TimeSettings.TimeSettingConfigSource', 'must be None, SNTP or Voicemail')
    if times['TimeServerAddress'] and not (is_quad(times['TimeServerAddress']) or is_host(times['TimeServerAddress'])):
        write.fail('TimeSettings.TimeServerAddress', 'must be a host name or a dotted-quad IPv4 address or ""')
    if times['TimeZone'] and times['TimeZone'] not in time_zones():
        write.fail('TimeSettings.TimeZone', 'must be a time zone the system knows (IANA name) or ""')
    if not -720 <= times['LocalTimeOffset'] <= 840:
        write.fail('TimeSettings.LocalTimeOffset', 'must be minutes from UTC, -720 to 840')
    subscription = obj['Subscription']
    if subscription['CustomerID'] and not _CUSTOMER_ID.match(subscription['CustomerID']):
        write.fail('Subscription.CustomerID', 'must be 1 to 32 letters, digits and hyphens')
    server = subscription['ServerAddress']
    host = server[len('https://'):].rstrip('/') if server.lower().startswith('https://') else server
    if server and not is_host(host):
        write.fail('Subscription.ServerAddress', 'must be a host name or https://host')
    if not 0 <= obj['PBXLicense']['LicenseServerPort'] <= 65535:
        write.fail('PBXLicense.LicenseServerPort', 'must be 0 to 65535')


def validate_iproute(obj, write, node):
    for name in ('IPAddress', 'IPMask'):
        if obj[name] != '' and not is_quad(obj[name]):
            write.fail(name, 'must be a dotted-quad IPv4 address or ""')
    if not is_quad(obj['GatewayIPAddress']):
        write.fail('GatewayIPAddress', 'must be a dotted-quad IPv4 address')
    if not 0 <= obj['Metric'] <= 255:
        write.fail('Metric', 'must be 0 to 255')
    if obj['Destination'] not in ('LAN1', 'LAN2'):
        write.fail('Destination', 'must be LAN1 or LAN2')
        return
    lan = node.lan(obj['Destination'])
    if lan is None:
        write.fail('Destination', 'this system has no %s' % obj['Destination'])
    elif is_quad(obj['GatewayIPAddress']) and is_quad(lan['IPAddress']) and is_quad(lan['IPMask']):
        network = ipaddress.IPv4Network('%s/%s' % (lan['IPAddress'], lan['IPMask']), strict=False)
        if ipaddress.IPv4Address(obj['GatewayIPAddress']) not in network:
            write.fail('GatewayIPAddress', 'not in the %s subnet %s' % (obj['Destination'], network))


def validate_serviceuser(obj, write, node):
    if not obj['Name']:
        write.fail('Name', 'must not be empty')
    elif len(obj['Name']) > 31:
        write.fail('Name', 'at most 31 characters')
    if obj['AccountStatus'] not in ('Enabled', 'Disabled', 'Locked'):
        write.fail('AccountStatus', 'must be Enabled, Disabled or Locked')
    known = set(group['Name'] for group in node.objects('RightsGroup'))
    for group in split_names(obj['RightsGroups']):
        if group not in known:
            write.fail('RightsGroups', 'no rights group named %r' % group)


def validate_rightsgroup(obj, write, node):
    if not obj['Name']:
        write.fail('Name', 'must not be empty')


VALIDATORS = {
    'System': validate_system,
    'IPRoute': validate_iproute,
    'ServiceUser': validate_serviceuser,
    'RightsGroup': validate_rightsgroup,
}
