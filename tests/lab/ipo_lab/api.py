"""The Management API over HTTPS: login, sessions, node targeting and the resources.

One aiohttp application serves every listener; the local address a request
arrived on says which listener (Application Server or Server Edition server)
it is for. Order of checks for each request: listener faults (delay, drop,
503, 500), the path (404), the method (405), the session (401/461), the
rights (403), the target node (?ipaddress=), then the resource itself. A
write meets the write faults just before it (session expired, reset, 500) and
just after it is applied (reset, late answer).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
import uuid

from aiohttp import web

from . import envelope, model, releases
from .lab import ROLE_APP_SERVER
from .model import ENTITIES, ERR_BUILT_IN, ERR_FIELD, ERR_GUID_MISSING, ERR_IN_USE, ERR_NAME_EXISTS, ERR_NOT_FOUND, error_item
from .security import RIGHT_READ, RIGHT_WRITE, check_password, split_names
from .topology import guid_for

LOG = logging.getLogger('ipo_lab.api')
LAB_KEY = web.AppKey('lab', object)

BASE = '/WebManagement/ws/sdk'
AUTH_PATH = BASE + '/security/authenticate'
ADMIN_PREFIX = BASE + '/admin/v1/'
PROVISION = 'provisionIPAddress'
PROVISION_NAMES = ('ProvisionIPAddress', 'ProvisonIPAddress')  # the guide's JSON sample misspells it
RESOURCE_METHODS = dict((name, entity.methods) for name, entity in ENTITIES.items())
RESOURCE_METHODS[PROVISION] = ('GET', 'PUT')
WRITE_METHODS = ('PUT', 'POST', 'DELETE')
SERVER = 'Apache-Coyote/1.1'
COOKIE = '%s=%s; Path=/WebManagement/; Secure; HttpOnly'
REASONS = {461: 'Session Timeout'}


class Reply(Exception):
    """Answer at once with this envelope (HTTP 200 unless told otherwise)."""

    def __init__(self, body, http_status=200, headers=None):
        super().__init__(http_status)
        self.body = body
        self.http_status = http_status
        self.headers = headers or {}


class Call:
    """One API request on one listener, and its request-log entry."""

    def __init__(self, lab, listener, request):
        self.lab = lab
        self.listener = listener
        self.request = request
        self.address = listener.address
        self.method = request.method
        self.generation = lab.generation
        self.entry = {
            'listener': listener.address, 'system': None, 'systems': [], 'method': request.method, 'path': request.path,
            'resource': None, 'query': dict(request.query), 'entities': [], 'user': None, 'http_status': None,
            'app_status': None, 'write': False, 'applied': False, 'changed': False, 'fault': None,
        }

    # --- answers ------------------------------------------------------------

    def reply(self, body, http_status=200, headers=None):
        self.entry['app_status'] = body['response']['@status']
        label = 'application/xml' if self.listener.quirks['content_type_label'] == 'xml' else 'application/json'
        all_headers = {'Content-Type': label + ';charset=UTF-8', 'Server': SERVER}
        all_headers.update(headers or {})
        return web.Response(body=json.dumps(body).encode('utf-8'), status=http_status, reason=REASONS.get(http_status), headers=all_headers)

    def sma(self, code, desc, http_status=200, cause_data='', headers=None, location=None):
        return Reply(envelope.sma_error(code, desc, location or self.address, cause_data), http_status, headers)

    # --- the request --------------------------------------------------------

    async def run(self):
        faults = self.listener.faults
        if faults['delay_seconds'] > 0:
            await asyncio.sleep(faults['delay_seconds'])
            if self.generation != self.lab.generation:
                # The lab was reset while this request waited: it belongs to a lab that no longer exists.
                # (Its client has usually given up already, and then there is no transport left to abort.)
                if self.request.transport is not None:
                    self.request.transport.abort()
                raise asyncio.CancelledError()
        if self.listener.take('drop_count'):
            # Close the connection without a word, before anything is applied.
            self.entry['fault'] = 'drop'
            self.lab.log.add(self.entry)
            self.request.transport.abort()
            raise asyncio.CancelledError()
        if self.listener.take('http_503_count'):
            self.entry['fault'] = 'http_503'
            return html(503, envelope.HTML_503, {'Retry-After': str(faults['retry_after'])})
        if self.listener.take('http_500_count'):
            self.entry['fault'] = 'http_500'
            return html(500, envelope.HTML_500)
        try:
            return await self.dispatch()
        except Reply as answer:
            return self.reply(answer.body, answer.http_status, answer.headers)

    def finish(self, response):
        self.entry['http_status'] = response.status
        self.lab.log.add(self.entry)

    async def dispatch(self):
        path = self.request.path
        if path == AUTH_PATH:
            self.entry['resource'] = 'authenticate'
            return self.authenticate()
        resource = path[len(ADMIN_PREFIX):] if path.startswith(ADMIN_PREFIX) else None
        self.entry['resource'] = resource
        found = self.resolve(resource)
        if found is None:
            raise self.sma('404:NotFound', 'No such resource', 404, cause_data=path)
        own, view = found
        methods = RESOURCE_METHODS.get(own, ('GET', 'PUT'))
        if self.method not in methods:
            raise self.sma('405:MethodNotAllowed', 'Method not allowed', 405, headers={'Allow': ', '.join(methods)})
        self.entry['write'] = self.method in WRITE_METHODS
        if own != PROVISION:
            self.entry['entities'] = [view.entity if view else ENTITIES[own].name]
        if not self.entry['write']:
            return await self.resource(resource, own, view)
        refused = self.before_write()
        if refused is not None:
            return refused
        try:
            response = await self.resource(resource, own, view)
        except Reply as answer:
            response = self.reply(answer.body, answer.http_status, answer.headers)
        return await self.after_write(response)

    def resolve(self, resource):
        """(the lab's resource, the release's view or None) for a resource a release behind this listener serves."""
        if resource == PROVISION:
            return PROVISION, None
        nodes = self.lab.nodes(self.listener)
        if not nodes:
            return (resource, None) if resource in RESOURCE_METHODS else None
        for node in nodes:
            found = node.release.resolve(resource)
            if found is not None and (found[0] in RESOURCE_METHODS or found[0] == releases.SETTINGS_RESOURCE):
                return found
        return None

    async def resource(self, resource, own, view):
        session = self.session()
        if own == PROVISION:
            return await self.provision()
        nodes = [node for node in self.targets() if node.release.resolve(resource) is not None]
        if not nodes:
            # The node named by ?ipaddress= runs a release without this resource.
            raise self.sma('404:NotFound', 'No such resource', 404, cause_data=self.request.path)
        self.check_nodes(session, nodes)
        if own == releases.SETTINGS_RESOURCE:
            return await self.settings_resource(resource, view, nodes)
        entity = ENTITIES[own]
        if self.method == 'GET':
            return self.reply(envelope.records([render(entity, node, obj, view) for node in nodes for obj in node.objects(entity.name)]))
        if self.method == 'DELETE':
            return self.delete(entity, nodes[0], view)
        items = await self.body_items()
        if view is not None:
            # The release's names back to the lab's; an entity of another name stays as sent, to be refused.
            items = [(entity.name if name == view.entity else name, view.to_lab(obj)) for name, obj in items]
        return self.write(entity, nodes[0], items, view)

    async def settings_resource(self, resource, view, nodes):
        """A renamed release's per-node resource that holds some settings and nothing else."""
        release = nodes[0].release
        if self.method == 'GET':
            found = []
            for node in nodes:
                obj = dict([('@GUID', settings_guid(node, view))] + list(release.settings_object(resource, node.system).items()))
                found.append({view.entity: obj})
            return self.reply(envelope.records(found))
        node = nodes[0]
        items = await self.body_items()
        result = model.Write(node.address)
        system = None
        for name, body in items:
            if name != view.entity or not isinstance(body, dict):
                result.errors.append(error_item(ERR_FIELD, 'Unexpected entity %s for %s' % (name, resource), name, node.address))
                continue
            body = dict(body)
            guid = body.pop('@GUID', None)
            if not guid:
                result.errors.append(error_item(ERR_GUID_MISSING, 'GUID missing in body', '', node.address))
                continue
            if guid != settings_guid(node, view):
                result.errors.append(error_item(ERR_NOT_FOUND, 'Object not found', guid, node.address))
                continue
            system = dict(node.system)
            system.update(apply_settings(release, resource, node.system, body, node.semantics['System'], result))
            model.validate_system(system, result, node)
        if result.errors or system is None:
            raise Reply(envelope.entity_errors([(view.entity.upper(), result.errors)], node.address))
        node.system = system
        if result.reboot:
            node.reboot_pending = True
        self.lab.save(node)
        self.entry['applied'] = True
        self.entry['changed'] = result.changed
        return self.reply(envelope.written([{view.entity: {'@GUID': settings_guid(node, view)}}], result.reboot))

    # --- write faults -----------------------------------------------------------

    def drop(self, fault):
        """Close the connection without a word (logged first: the handler never finishes)."""
        self.entry['fault'] = fault
        self.lab.log.add(self.entry)
        self.request.transport.abort()
        raise asyncio.CancelledError()

    def before_write(self):
        """Write faults that strike before anything is applied; a response to send instead, or None."""
        if self.listener.take('expire_before_write_count'):
            # Between the caller's read and this write the session runs out: the write answers 461.
            self.entry['fault'] = 'expire_before_write'
            self.lab.sessions.expire(self.address)
        if self.listener.take('drop_before_write_count'):
            self.drop('drop_before_write')
        if self.listener.take('http_500_write_count'):
            self.entry['fault'] = 'http_500_write'
            return html(500, envelope.HTML_500)
        return None

    async def after_write(self, response):
        """Write faults that strike once the write is applied and saved: no answer, or one too late."""
        if not self.entry['applied']:
            return response
        if self.listener.take('drop_after_write_count'):
            self.drop('drop_after_write')
        if self.listener.take('slow_write_count'):
            self.entry['fault'] = 'slow_write'
            await asyncio.sleep(self.listener.faults['slow_write_seconds'])
            if self.generation != self.lab.generation and self.request.transport is not None:
                self.request.transport.abort()  # no late answer into a lab that was reset meanwhile
        return response

    # --- login and session ----------------------------------------------------

    def authenticate(self):
        logout = self.listener.quirks['logout']
        if self.method == 'DELETE':
            if logout == '405':
                # Logout is not documented; some builds refuse it and let the session expire.
                raise self.sma('405:MethodNotAllowed', 'Method not allowed', 405, headers={'Allow': 'GET'})
            state, session = self.lab.sessions.lookup(self.address, *self.cookies())
            if session is not None and state in ('ok', 'expired'):
                self.entry['user'] = session.user
                self.lab.sessions.remove(session.sid)
            return self.reply(envelope.response('1', {'ws_object': ''}))
        if self.method != 'GET':
            raise self.sma('405:MethodNotAllowed', 'Method not allowed', 405, headers={'Allow': 'GET' if logout == '405' else 'GET, DELETE'})
        challenge = {'WWW-Authenticate': 'Basic realm="WebManagement"'}
        headers = self.request.headers
        if headers.get('X-User-Client') != 'Avaya-WebAdmin' or headers.get('X-User-Agent') != 'Avaya-SDKUser':
            raise self.sma('401:Unauthorized', 'X-User-Client: Avaya-WebAdmin and X-User-Agent: Avaya-SDKUser are required', 401)
        name, password = basic_credentials(headers.get('Authorization', ''))
        if name is None:
            raise self.sma('401:Unauthorized', 'Basic authentication required', 401, headers=challenge)
        self.entry['user'] = name
        if self.listener.take('refuse_login_count'):
            self.entry['fault'] = 'refuse_login'
            raise self.sma('401:Unauthorized', 'Invalid credentials', 401, headers=challenge)
        database = self.lab.security_db(self.listener)
        lockouts = self.lab.lockouts
        if lockouts.locked(database.key, name):
            raise self.sma('403:AccountLocked', 'Account locked after repeated failed logins', 403, cause_data=name)
        user = database.user(name)
        if user is None or not check_password(user['Password'], password):
            if user is not None:
                lockouts.failure(database.key, name)
            raise self.sma('401:Unauthorized', 'Invalid credentials', 401, headers=challenge)
        lockouts.success(database.key, name)
        if user['AccountStatus'] == 'Locked':
            raise self.sma('403:AccountLocked', 'Account locked', 403, cause_data=name)
        if user['AccountStatus'] != 'Enabled':
            raise self.sma('403:AccountDisabled', 'Account disabled', 403, cause_data=name)
        if RIGHT_READ not in database.rights(user):
            raise self.sma('403:Forbidden', 'Management API rights missing', 403, cause_data=name)
        account = (database.key, name)
        if self.lab.sessions.open_count(account) >= self.lab.max_sessions_per_user:
            self.entry['open_sessions'] = self.lab.sessions.open_count(account)
            raise self.sma('403:SessionLimit', 'Limit of concurrent sessions per user exceeded', 403, cause_data=name)
        session = self.lab.sessions.create(self.address, name, password, account)
        self.entry['open_sessions'] = self.lab.sessions.open_count(account)
        response = self.reply(envelope.response('1', {'ws_object': ''}))
        response.headers.add('Set-Cookie', COOKIE % ('JSESSIONID', session.sid))
        response.headers.add('Set-Cookie', COOKIE % ('SDK-Token', session.token))
        return response

    def cookies(self):
        cookies = self.request.cookies
        return cookies.get('JSESSIONID'), cookies.get('SDK-Token')

    def session(self):
        """The caller's session, with the rights this request needs; raises 401, 461 or 403."""
        state, session = self.lab.sessions.lookup(self.address, *self.cookies())
        if state in ('missing', 'unknown'):
            raise self.sma('401:Unauthorized', 'No valid session: send both JSESSIONID and SDK-Token from the login', 401)
        self.entry['user'] = session.user
        if state == 'expired':
            raise Reply(envelope.session_timeout(self.address), self.listener.quirks['session_timeout_http'])
        database = self.lab.security_db(self.listener)
        user = database.user(session.user)
        if user is None or user['AccountStatus'] != 'Enabled':
            self.lab.sessions.remove(session.sid)
            raise self.sma('401:Unauthorized', 'Service user no longer valid', 401)
        rights = database.rights(user)
        if RIGHT_READ not in rights:
            raise self.sma('403:Forbidden', 'Management API Read right missing', 403, cause_data=session.user)
        if self.method in WRITE_METHODS and RIGHT_WRITE not in rights:
            raise self.sma('403:Forbidden', 'Management API Write right missing', 403, cause_data=session.user)
        return session

    # --- targeting ------------------------------------------------------------

    def targets(self):
        """?ipaddress=<LAN1> picks one node; without it GET covers all, writes go to the first (the Primary)."""
        nodes = self.lab.nodes(self.listener)
        wanted = self.request.query.get('ipaddress', '').strip()
        if wanted:
            nodes = [node for node in nodes if node.address == wanted]
            if not nodes:
                raise self.sma('404:NotFound', 'No node with LAN1 address %s is served here' % wanted, cause_data=wanted)
        elif self.method != 'GET':
            if not nodes:
                raise self.sma('404:NotFound', 'No IP500 V2 is registered on this Application Server')
            nodes = nodes[:1]
        self.note_systems(nodes)
        return nodes

    def note_systems(self, nodes):
        self.entry['systems'] = [node.name for node in nodes]
        self.entry['system'] = nodes[0].name if len(nodes) == 1 else None

    def check_nodes(self, session, nodes):
        """The listener reaches other nodes with the caller's credentials: they must be valid there too (guide 2.1, 2.2)."""
        own = self.lab.security_db(self.listener).key
        refused = [node for node in nodes if node.name != own and not node.security_db().accepts(session.user, session.password)]
        if refused:
            raise Reply(envelope.failed([
                envelope.error_node('SMAError', [error_item('401:Unauthorized', 'Service user credentials not valid on this node',
                                                            node.address, node.address)])
                for node in refused]))

    # --- bodies and writes ------------------------------------------------------

    async def body_items(self):
        """Request body -> [(entity name, object)]; accepts the guide's variants, parses JSON whatever the Content-Type."""
        raw = await self.request.read()
        try:
            document = json.loads(raw.decode('utf-8'))
        except ValueError:
            raise self.sma('400:BadRequest', 'Body is not valid JSON', 400)
        document = model.normalise_keys(document)
        if isinstance(document, dict) and isinstance(document.get('response'), dict):
            document = document['response']  # the guide's User templates wrap the body in <response>
        if isinstance(document, dict) and isinstance(document.get('data'), dict):
            document = document['data']
        if not isinstance(document, dict) or 'ws_object' not in document:
            raise self.sma('400:BadRequest', 'Body has no ws_object', 400)
        items = []
        for ws_object in model.as_list(document['ws_object']):
            if not isinstance(ws_object, dict):
                raise self.sma('400:BadRequest', 'ws_object must hold objects', 400)
            for name, value in ws_object.items():
                if not name.startswith('@'):
                    items.extend((name, obj) for obj in model.as_list(value))
        if not items:
            raise self.sma('400:BadRequest', 'Body has no object', 400)
        self.entry['entities'] = [name for name, _obj in items]
        return items

    def write(self, entity, node, items, view=None):
        """PUT or POST of one or more objects: all are applied, or none."""
        working = copy.deepcopy(node.objects(entity.name))
        failures, results = [], []
        changed = reboot = False
        for name, body in items:
            result = self.write_one(entity, node, working, name, body)
            if result.errors:
                failures.append((entity.upper, result.errors))
                continue
            results.append(result.obj)
            changed = changed or result.changed
            reboot = reboot or result.reboot
        if failures:
            raise Reply(envelope.entity_errors(failures, node.address))
        if entity.name == 'System':
            node.system = working[0]
        else:
            node.collections[entity.name] = working
        if reboot:
            node.reboot_pending = True
        self.lab.save(node)
        self.entry['applied'] = True
        self.entry['changed'] = changed
        return self.reply(envelope.written([created(entity, obj, view) for obj in results], reboot))

    def write_one(self, entity, node, working, name, body):
        result = model.Write(node.address)
        if name != entity.name:
            result.errors.append(error_item(ERR_FIELD, 'Unexpected entity %s for %s' % (name, entity.resource), name, node.address))
            return result
        if not isinstance(body, dict):
            result.fail(name, 'expected an object')
            return result
        body = dict(body)
        guid = body.pop('@GUID', None)
        if self.method == 'PUT':
            if not guid and entity.name == 'System' and node.release.put_without_guid:
                guid = working[0]['@GUID']  # the guide's PBXLicense example updates the targeted system without one
            if not guid:
                result.errors.append(error_item(ERR_GUID_MISSING, 'GUID missing in body', '', node.address))
                return result
            index = next((i for i, obj in enumerate(working) if obj['@GUID'] == guid), None)
            if index is None:
                result.errors.append(error_item(ERR_NOT_FOUND, 'Object not found', guid, node.address))
                return result
            if entity.name == 'System':
                # The release's view: fields it does not show are neither accepted nor touched; a renamed
                # release's setting paths land in the lab's own sections.
                release = node.release
                mode = node.semantics[entity.name]
                new = model.apply(release.system_view(entity.fields), release.visible(working[index]),
                                  release.take_settings('systems', body, result)[1], mode, result)
                new.update(apply_settings(release, 'systems', working[index], body, mode, result))
                new = dict((name, new[name]) for name in working[index] if name in new)
            else:
                new = model.apply(entity.fields, working[index], body, node.semantics[entity.name], result)
        else:
            # POST creates: a GUID in the body is ignored, absent fields take their empty (or creation) default.
            index = None
            guid = uuid.uuid4().hex.upper()
            base = model.empty_object(entity.fields)
            base.update(entity.create_defaults)
            new = model.apply(entity.fields, base, body, 'merge', result)
            result.changed = True
        new = dict([('@GUID', guid)] + list(new.items()))
        if not result.errors:
            model.VALIDATORS[entity.name](new, result, node)
        if 'Name' in entity.fields and entity.name != 'System' and new['Name']:
            if any(obj['Name'] == new['Name'] and obj['@GUID'] != guid for obj in working):
                result.errors.append(error_item(ERR_NAME_EXISTS, 'name already exists', new['Name'], node.address))
        if not result.errors:
            if index is None:
                working.append(new)
            else:
                working[index] = new
        result.obj = new
        return result

    def delete(self, entity, node, view=None):
        guid = self.request.query.get('guid', '').strip()
        if not guid:
            raise self.sma('400:BadRequest', 'guid query parameter missing', location=node.address)
        objects = node.objects(entity.name)
        target = next((obj for obj in objects if obj['@GUID'] == guid), None)
        if target is None:
            raise self.sma('404:NotFound', 'Object not found', cause_data=guid, location=node.address)
        if entity.name == 'ServiceUser' and target['Name'] == 'COMAdmin':
            raise Reply(envelope.entity_errors([(entity.upper, [error_item(ERR_BUILT_IN, 'built-in user', 'COMAdmin', node.address)])],
                                               node.address))
        if entity.name == 'RightsGroup':
            users = [user['Name'] for user in node.objects('ServiceUser') if target['Name'] in split_names(user['RightsGroups'])]
            if users:
                raise Reply(envelope.entity_errors([(entity.upper, [error_item(ERR_IN_USE, 'rights group in use', '|'.join(users),
                                                                               node.address)])], node.address))
        node.collections[entity.name] = [obj for obj in objects if obj is not target]
        self.lab.save(node)
        self.entry['applied'] = True
        self.entry['changed'] = True
        return self.reply(envelope.written([created(entity, target, view)], False))

    # --- provisionIPAddress ---------------------------------------------------

    async def provision(self):
        if self.listener.role != ROLE_APP_SERVER:
            raise self.sma('404:NotFound', 'provisionIPAddress is served by an Application Server only')
        if self.method == 'GET':
            nodes = self.lab.nodes(self.listener)
            self.note_systems(nodes)
            self.entry['entities'] = ['ProvisionIPAddress']
            return self.reply(envelope.records([{'ProvisionIPAddress': {'IPAddress': node.address}} for node in nodes]))
        items = await self.body_items()
        candidates = self.lab.provisionable(self.listener)
        failures, chosen = [], []
        for name, body in items:
            address = str(body.get('IPAddress', '')).strip() if isinstance(body, dict) else ''
            if name not in PROVISION_NAMES:
                failures.append(('PROVISIONIPADDRESS', [error_item(ERR_FIELD, 'Unexpected entity %s' % name, name, self.address)]))
                continue
            match = [node for node in candidates if node.address == address]
            if not match:
                failures.append(('PROVISIONIPADDRESS', [error_item(ERR_NOT_FOUND, 'No IP500 V2 with this LAN1 address', address, self.address)]))
                continue
            chosen.append(match[0])
        if failures:
            raise Reply(envelope.entity_errors(failures, self.address))
        self.note_systems(chosen)
        self.entry['changed'] = any(not node.registered for node in chosen)
        for node in chosen:
            node.registered = True
            self.lab.save(node)
        self.entry['applied'] = True
        return self.reply(envelope.written([{'ProvisionIPAddress': {'IPAddress': node.address}} for node in chosen], False))


def render(entity, node, obj, view=None):
    """One stored object as the node's release shows it."""
    if entity.name == 'System':
        return model.render_view(entity, node.release.system_view(entity.fields), node.release.served_system(obj))
    rendered = model.render(entity, obj)
    if view is not None:
        return {view.entity: view.render(rendered[entity.name])}
    return rendered


def created(entity, obj, view=None):
    """The entity item of a write answer: its GUID, and its Name where it has one (as the guide's User answers)."""
    item = {'@GUID': obj['@GUID']}
    if entity.name in ('ServiceUser', 'RightsGroup'):
        item[view.fields.get('Name', 'Name') if view else 'Name'] = obj['Name']
    return {view.entity if view else entity.name: item}


def settings_guid(node, view):
    return guid_for(node.name, view.entity)


def apply_settings(release, resource, system, body, mode, write):
    """The lab's hidden System sections after a write of the setting paths a release serves in resource.

    Under replace, a setting of the resource that the body leaves out is emptied, as any field is."""
    values, rest = release.take_settings(resource, body, write)
    hidden = release.hidden(system)
    if resource != 'systems':
        for name in rest:
            write.fail(name, 'unknown field')
    if not values and mode != 'replace':
        return copy.deepcopy(hidden)
    sections = {}
    for setting in getattr(release, 'settings_of', lambda _resource: [])(resource):
        section, field = releases.SYSTEM_SETTINGS[setting]
        if setting in values:
            sections.setdefault(section, {})[field] = values[setting]
        elif mode == 'replace':
            sections.setdefault(section, {})[field] = model.empty(model.SYSTEM_FIELDS[section].children[field])
    fields = dict((name, model.SYSTEM_FIELDS[name]) for name in hidden)
    return model.apply(fields, hidden, sections, 'merge', write)


def basic_credentials(header):
    """Authorization: Basic base64(user:password) -> (user, password), or (None, None)."""
    scheme, _sep, value = header.partition(' ')
    if scheme.lower() != 'basic' or not value:
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode('utf-8')
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    name, sep, password = decoded.partition(':')
    if not sep or not name:
        return None, None
    return name, password


def html(status, text, headers=None):
    all_headers = {'Content-Type': 'text/html;charset=utf-8', 'Server': SERVER}
    all_headers.update(headers or {})
    return web.Response(text=text, status=status, headers=all_headers)


async def handle(request):
    lab = request.app[LAB_KEY]
    sockname = request.transport.get_extra_info('sockname') if request.transport else None
    listener = lab.listeners.get(sockname[0] if sockname else None)
    if listener is None:
        return html(404, 'unknown listener')
    call = Call(lab, listener, request)
    try:
        response = await call.run()
    except asyncio.CancelledError:
        raise
    except Exception:
        # Our own bug: log it (no bodies, no headers) and answer like Tomcat would.
        LOG.exception('%s %s on %s failed', request.method, request.path, listener.address)
        response = html(500, envelope.HTML_500)
    call.finish(response)
    return response


def make_app(lab):
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[LAB_KEY] = lab
    app.router.add_route('*', '/{tail:.*}', handle)
    return app
