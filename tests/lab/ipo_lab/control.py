"""The control API: plain HTTP on loopback, JSON in and out, for tests to steer and inspect the lab.

Routes are listed in README.md. Nothing here ever returns a password: stored
secrets show as "***" (set) or "" (empty).
"""

from __future__ import annotations

import json

from aiohttp import web

from . import alarms, panel
from .api import LAB_KEY
from .lab import ROLE_SE_NODE
from .topology import TopologyError, check_quirks, check_semantics

NUMERIC_FAULTS = {'drop_count': int, 'http_500_count': int, 'http_503_count': int, 'refuse_login_count': int,
                  'drop_before_write_count': int, 'drop_after_write_count': int, 'expire_before_write_count': int,
                  'http_500_write_count': int, 'slow_write_count': int,
                  'retry_after': int, 'delay_seconds': float, 'slow_write_seconds': float}


class BadRequest(Exception):
    pass


class NotFound(Exception):
    pass


def answer(data, status=200):
    return web.json_response(data, status=status, dumps=lambda value: json.dumps(value, indent=1))


async def body(request):
    text = await request.text()
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise BadRequest('body is not valid JSON')
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest('body must be a JSON object')
    return data


@web.middleware
async def errors(request, handler):
    try:
        return await handler(request)
    except BadRequest as exc:
        return answer({'ok': False, 'error': str(exc)}, 400)
    except NotFound as exc:
        return answer({'ok': False, 'error': 'not found: %s' % exc}, 404)


async def health(request):
    return answer({'ok': True})


def since_param(request):
    """The ?since=N of a log route (0 when absent); BadRequest when it is not a whole number."""
    text = request.query.get('since', '0')
    try:
        return int(text)
    except ValueError:
        raise BadRequest('since: %r is not an integer' % text)


async def requests(request):
    return answer(request.app[LAB_KEY].log.since(since_param(request)))


async def clear_requests(request):
    lab = request.app[LAB_KEY]
    lab.log.clear()
    return answer({'ok': True, 'last_seq': lab.log.seq})


async def systems(request):
    lab = request.app[LAB_KEY]
    return answer([{
        'name': state.name,
        'type': state.spec.system_type,
        'deployment': state.spec.deployment,
        'listen': lab.listen_address(state),
        'lan1': state.address,
        'registered': state.registered,
    } for state in lab.systems.values()])


def system_state(lab, name):
    if name not in lab.systems:
        raise NotFound(name)
    return lab.systems[name]


async def system(request):
    lab = request.app[LAB_KEY]
    state = system_state(lab, request.match_info['name'])
    data = state.public()
    data['locked_accounts'] = lab.lockouts.listing(state.name)
    data['link'] = state.link.describe() if state.link else None
    return answer(data)


async def link(request):
    state = system_state(request.app[LAB_KEY], request.match_info['name'])
    if state.link is None:
        raise NotFound('%s has no link agent' % state.name)
    return answer(state.link.describe())


async def links(request):
    """One line per system: link state, port, reason, grace days left, alarms."""
    lab = request.app[LAB_KEY]
    rows = []
    for state in lab.systems.values():
        status = state.link.status() if state.link else {}
        rows.append({'name': state.name, 'type': state.spec.system_type, 'state': status.get('LinkState'), 'port': status.get('Port'),
                     'reason': status.get('Reason'), 'grace_days_left': status.get('GraceDaysLeft'),
                     'alarms': len(status.get('Alarms', {}).get('Alarm', []))})
    return answer(rows)


async def clock(request):
    return answer(request.app[LAB_KEY].clock.describe())


async def move_clock(request):
    """Move the lab clock forward ({"advance_days": N} and/or {"advance_seconds": S}) or back to real time ({"reset": true})."""
    lab = request.app[LAB_KEY]
    data = await body(request)
    unknown = set(data) - {'advance_days', 'advance_seconds', 'reset'}
    if unknown:
        raise BadRequest('unknown keys: %s (use advance_days, advance_seconds or reset)' % ', '.join(sorted(unknown)))
    if data.get('reset'):
        lab.clock.reset()
        return answer(dict(lab.clock.describe(), ok=True))
    seconds = 0.0
    for key, scale in (('advance_days', 86400.0), ('advance_seconds', 1.0)):
        if key in data:
            try:
                value = float(data[key])
            except (TypeError, ValueError):
                raise BadRequest('%s must be a number, got %r' % (key, data[key]))
            if value < 0:
                raise BadRequest('%s must not be negative (the lab clock only moves forward), got %r' % (key, data[key]))
            seconds += value * scale
    lab.clock.advance(seconds)
    return answer(dict(lab.clock.describe(), ok=True))


async def semantics(request):
    lab = request.app[LAB_KEY]
    state = system_state(lab, request.match_info['name'])
    try:
        state.semantics.update(check_semantics(await body(request), 'semantics'))
    except TopologyError as exc:
        raise BadRequest(str(exc))
    return answer({'ok': True, 'semantics': state.semantics})


async def front_panel(request):
    """A person changes settings in Web Manager: {setting: value}; see panel.py for the settings."""
    lab = request.app[LAB_KEY]
    state = system_state(lab, request.match_info['name'])
    values = await body(request)
    try:
        outcome = panel.apply(state, values)
    except panel.PanelError as exc:
        raise BadRequest('%s: %s' % (state.name, exc))
    lab.save(state)
    lab.log.add({'system': state.name, 'systems': [state.name], 'method': 'PANEL', 'panel': sorted(values),
                 'changed': bool(outcome['changed']), 'applied': True, 'write': False})
    return answer(dict(outcome, ok=True))


async def reboot(request):
    """Reboot a system (as Web Manager's reboot does): settings waiting for one take effect."""
    lab = request.app[LAB_KEY]
    state = system_state(lab, request.match_info['name'])
    was_pending = state.reboot()
    lab.save(state)
    lab.log.add({'system': state.name, 'systems': [state.name], 'method': 'REBOOT', 'applied': True, 'write': False,
                 'changed': was_pending})
    return answer({'ok': True, 'was_pending': was_pending})


async def reboot_all(request):
    """Reboot every system that waits for a reboot (a maintenance window for the whole lab)."""
    lab = request.app[LAB_KEY]
    rebooted = []
    for state in lab.systems.values():
        if state.reboot_pending:
            state.reboot()
            lab.save(state)
            lab.log.add({'system': state.name, 'systems': [state.name], 'method': 'REBOOT', 'applied': True, 'write': False,
                         'changed': True})
            rebooted.append(state.name)
    return answer({'ok': True, 'rebooted': rebooted})


async def listeners(request):
    lab = request.app[LAB_KEY]
    return answer([listener.describe(lab) for listener in lab.listeners.values()])


async def faults(request):
    """Set fault switches and quirks on one listener, or on every listener with the address "all"."""
    lab = request.app[LAB_KEY]
    address = request.match_info['address']
    if address == 'all':
        chosen = list(lab.listeners.values())
    elif address in lab.listeners:
        chosen = [lab.listeners[address]]
    else:
        raise NotFound(address)
    return answer(await set_faults(request, lab, chosen))


async def system_faults(request):
    """Set fault switches on the listener that serves a system's API (its own, or its Application Server's).

    Faults belong to listeners: an SCN node shares its Application Server's with
    the other nodes, and a Server Edition Secondary or Expansion reached through
    the Primary (?ipaddress=) is served by the Primary's listener, not its own.
    The answer says which listener was changed and which systems it serves."""
    lab = request.app[LAB_KEY]
    state = system_state(lab, request.match_info['name'])
    listener = lab.listeners[lab.listen_address(state)]
    result = await set_faults(request, lab, [listener])
    result['listener'] = listener.address
    result['shared_with'] = [system.name for system in lab.nodes(listener) if system.name != state.name]
    if listener.role == ROLE_SE_NODE:
        result['note'] = 'calls through the Primary (?ipaddress=%s) are served by the Primary\'s listener' % state.address
    return answer(result)


async def set_faults(request, lab, chosen):
    data = dict(await body(request))
    expire = data.pop('expire_sessions', False)
    numbers = {}
    for key in [key for key in data if key in NUMERIC_FAULTS]:
        try:
            numbers[key] = NUMERIC_FAULTS[key](data.pop(key))
        except (TypeError, ValueError):
            raise BadRequest('%s must be a number' % key)
        if numbers[key] < 0:
            raise BadRequest('%s must not be negative' % key)
    try:
        quirks = check_quirks(data, 'faults')
    except TopologyError as exc:
        raise BadRequest(str(exc))
    expired = 0
    for listener in chosen:
        listener.faults.update(numbers)
        listener.quirks.update(quirks)
        if expire:
            expired += lab.sessions.expire(listener.address)
    result = [listener.describe(lab) for listener in chosen]
    return {'ok': True, 'expired_sessions': expired, 'listeners': result}


async def reset(request):
    request.app[LAB_KEY].reset()
    return answer({'ok': True})


async def unlock(request):
    """Unlock accounts: all, or those of one database ("database") and/or user ("user")."""
    data = await body(request)
    count = request.app[LAB_KEY].lockouts.unlock(data.get('database'), data.get('user'))
    return answer({'ok': True, 'unlocked': count})


async def settings(request):
    lab = request.app[LAB_KEY]
    data = await body(request)
    changes = {}
    link_keys = tuple(('link_' + key, float) for key in ('heartbeat_seconds', 'retry_seconds', 'connect_timeout'))
    for key, kind in (('session_idle_timeout', float), ('lockout_threshold', int), ('lockout_seconds', float),
                      ('lockout_window', float), ('max_sessions_per_user', int)) + link_keys:
        if key in data:
            try:
                changes[key] = kind(data[key])
            except (TypeError, ValueError):
                raise BadRequest('%s must be a number' % key)
    unknown = set(data) - set(changes)
    if unknown:
        raise BadRequest('unknown settings: %s' % ', '.join(sorted(unknown)))
    for key, value in changes.items():
        if key.startswith('link_') and value <= 0:
            raise BadRequest('%s must be greater than 0, got %r' % (key, data[key]))
    if 'session_idle_timeout' in changes:
        lab.sessions.idle_timeout = changes['session_idle_timeout']
    if 'lockout_threshold' in changes:
        lab.lockouts.threshold = max(1, changes['lockout_threshold'])
    if 'lockout_seconds' in changes:
        lab.lockouts.seconds = changes['lockout_seconds']
    if 'lockout_window' in changes:
        lab.lockouts.window = changes['lockout_window']
    if 'max_sessions_per_user' in changes:
        lab.max_sessions_per_user = max(1, changes['max_sessions_per_user'])
    for key, value in changes.items():
        if key.startswith('link_'):
            setattr(lab.spec.world.link, key[len('link_'):], value)
    return answer({'ok': True, 'settings': lab.settings()})


async def get_settings(request):
    return answer(request.app[LAB_KEY].settings())


def make_app(lab):
    app = web.Application(middlewares=[errors])
    app[LAB_KEY] = lab
    app.router.add_get('/lab/health', health)
    app.router.add_get('/lab/requests', requests)
    app.router.add_post('/lab/requests/clear', clear_requests)
    app.router.add_get('/lab/systems', systems)
    app.router.add_get('/lab/systems/{name}', system)
    app.router.add_post('/lab/systems/{name}/semantics', semantics)
    app.router.add_post('/lab/systems/{name}/faults', system_faults)
    app.router.add_post('/lab/systems/{name}/panel', front_panel)
    app.router.add_post('/lab/systems/{name}/reboot', reboot)
    app.router.add_post('/lab/reboot', reboot_all)
    app.router.add_get('/lab/listeners', listeners)
    app.router.add_post('/lab/listeners/{address}/faults', faults)
    app.router.add_post('/lab/reset', reset)
    app.router.add_post('/lab/accounts/unlock', unlock)
    app.router.add_get('/lab/settings', get_settings)
    app.router.add_post('/lab/settings', settings)
    app.router.add_get('/lab/systems/{name}/link', link)
    app.router.add_get('/lab/links', links)
    app.router.add_get('/lab/clock', clock)
    app.router.add_post('/lab/clock', move_clock)
    if lab.world is not None:
        for method, path, handler in lab.world.control_routes() + alarms.control_routes(lab.alarms):
            app.router.add_route(method, path, handler)
    return app
