"""The lab as a whole: systems, listeners, sessions, lockouts, faults and the request log.

Kept free of HTTP so the rules (which listener serves which nodes, which
security database checks a login) are in one place.
"""

from __future__ import annotations

import logging
import os
import shutil

from . import topology
from .clock import LabClock
from .link import LinkAgent
from .reqlog import RequestLog
from .security import Lockouts, SecurityDB, Sessions
from .state import SystemState, build_groups, build_users

LOG = logging.getLogger('ipo_lab.lab')

ROLE_APP_SERVER = 'application-server'
ROLE_SE_PRIMARY = 'se-primary'
ROLE_SE_NODE = 'se-node'

# Fault switches: counters count down one per request; the others stay until changed.
# The *_write_count ones count only writes (PUT/POST/DELETE on a resource), so a test can aim a fault at
# the first write of a play whatever reads come before it.
COUNTERS = ('drop_count', 'http_500_count', 'http_503_count', 'refuse_login_count', 'drop_before_write_count',
            'drop_after_write_count', 'expire_before_write_count', 'http_500_write_count', 'slow_write_count')
DEFAULT_FAULTS = dict(dict.fromkeys(COUNTERS, 0), retry_after=1, delay_seconds=0, slow_write_seconds=5)


class Listener:
    """One address:7070 the lab serves: an Application Server or a Server Edition server."""

    def __init__(self, address, role, deployment, system=None):
        self.address = address
        self.role = role
        self.deployment = deployment
        self.system = system
        self.quirks = {}
        self.faults = {}
        self.reset()

    def reset(self):
        self.quirks = dict(self.deployment.quirks)
        self.faults = dict(DEFAULT_FAULTS)

    def take(self, counter):
        """Use up one count of a fault counter; True when the fault applies to this request."""
        if self.faults[counter] > 0:
            self.faults[counter] -= 1
            return True
        return False

    def describe(self, lab):
        return {
            'address': self.address,
            'role': self.role,
            'deployment': self.deployment.name,
            'database': lab.security_db(self).key,
            'locked_accounts': lab.lockouts.listing(lab.security_db(self).key),
            'systems': [system.name for system in lab.nodes(self)],
            'quirks': dict(self.quirks),
            'faults': dict(self.faults),
        }


class Lab:
    def __init__(self, spec, state_dir, fresh=False):
        self.spec = spec
        self.state_dir = state_dir
        self.systems_dir = os.path.join(state_dir, 'systems')
        if fresh and os.path.isdir(self.systems_dir):
            shutil.rmtree(self.systems_dir)
        os.makedirs(self.systems_dir, exist_ok=True)
        self.systems = dict((system.name, SystemState(system)) for system in spec.systems())
        loaded = sum(1 for state in self.systems.values() if state.load(self.systems_dir))
        LOG.info('%d systems, %d loaded from state files', len(self.systems), loaded)
        self.deployment_systems = dict((deployment.name, [self.systems[system.name] for system in deployment.systems])
                                       for deployment in spec.deployments)
        self.deployments = dict((deployment.name, deployment) for deployment in spec.deployments)
        self.shell_dbs = {}
        self.listeners = {}
        for deployment in spec.deployments:
            if deployment.kind == topology.APP_SERVER:
                self.listeners[deployment.address] = Listener(deployment.address, ROLE_APP_SERVER, deployment)
                self.shell_dbs[deployment.address] = self._shell_db(deployment)
            else:
                for system in deployment.systems:
                    role = ROLE_SE_PRIMARY if system.system_type == topology.SE_PRIMARY else ROLE_SE_NODE
                    self.listeners[system.listen] = Listener(system.listen, role, deployment, self.systems[system.name])
        self.clock = LabClock()
        self.generation = 0   # counts resets; a delayed request from before a reset is dropped
        self.world = None   # World: DNS, SNTP, COM, shaper; made by attach_world() in the server
        self.alarms = None  # AlarmSender: each system's alarms to its syslog server; made by attach_world()
        self.link_defaults = None
        self.sessions = Sessions(spec.session_idle_timeout)
        self.lockouts = Lockouts(spec.lockout_threshold, spec.lockout_seconds, spec.lockout_window)
        self.max_sessions_per_user = spec.max_sessions_per_user
        self.log = RequestLog(os.path.join(state_dir, 'requests.jsonl'))

    @staticmethod
    def _shell_db(deployment):
        key = 'shell@%s' % deployment.address
        users = build_users(deployment.users, key)
        groups = build_groups(deployment.groups, key)
        return SecurityDB(key, lambda: users, lambda: groups)

    def security_db(self, listener):
        """The database that checks logins on this listener."""
        if listener.role == ROLE_APP_SERVER:
            return self.shell_dbs[listener.address]
        return listener.system.security_db()

    def nodes(self, listener):
        """The systems a listener serves, in topology order (Primary first)."""
        if listener.role == ROLE_APP_SERVER:
            return [system for system in self.deployment_systems[listener.deployment.name] if system.registered]
        if listener.role == ROLE_SE_PRIMARY:
            return list(self.deployment_systems[listener.deployment.name])
        return [listener.system]

    def listen_address(self, system):
        """Where a system's API is served: its own LAN1 (Server Edition) or its Application Server."""
        return system.spec.listen or self.deployments[system.spec.deployment].address

    def provisionable(self, listener):
        """IP500 V2 systems an Application Server may register (registered or not)."""
        return list(self.deployment_systems[listener.deployment.name])

    def attach_world(self, authority):
        """Build the world services and one link agent per system (started by start_world())."""
        # Imported here so the API part of the lab stays importable without the world's dependencies.
        from .alarms import AlarmSender
        from .worldservices import World
        self.world = World(self.spec.world, self.clock, authority)
        self.link_defaults = dict(vars(self.spec.world.link))
        self.alarms = AlarmSender(self.systems, self.clock, self.spec.world.link)
        for state in self.systems.values():
            state.link = LinkAgent(state, self.spec.world, self.clock, authority, on_event=self.alarms.link_event)

    async def start_world(self):
        await self.world.start()
        for state in self.systems.values():
            state.link.start()
        await self.alarms.start()

    async def stop_world(self):
        await self.alarms.stop()
        for state in self.systems.values():
            await state.link.stop()
        await self.world.stop()

    def save(self, system):
        system.save(self.systems_dir)
        if system.link is not None:
            system.link.config_changed()

    def settings(self):
        data = {
            'session_idle_timeout': self.sessions.idle_timeout,
            'lockout_threshold': self.lockouts.threshold,
            'lockout_seconds': self.lockouts.seconds,
            'lockout_window': self.lockouts.window,
            'max_sessions_per_user': self.max_sessions_per_user,
        }
        for key, value in vars(self.spec.world.link).items():
            data['link_' + key] = value
        return data

    def reset(self):
        """Everything back to the topology: configuration, faults, sessions, lockouts, request log."""
        self.generation += 1
        for system in self.systems.values():
            system.reset()
        # Removing the state files is the same as writing the defaults: a restart then starts fresh too.
        for name in os.listdir(self.systems_dir):
            if name.endswith('.json'):
                os.unlink(os.path.join(self.systems_dir, name))
        for listener in self.listeners.values():
            listener.reset()
        self.sessions.clear()
        self.sessions.idle_timeout = self.spec.session_idle_timeout
        self.lockouts.clear()
        self.lockouts.threshold = self.spec.lockout_threshold
        self.lockouts.seconds = self.spec.lockout_seconds
        self.lockouts.window = self.spec.lockout_window
        self.max_sessions_per_user = self.spec.max_sessions_per_user
        self.log.clear()
        if self.link_defaults is not None:
            for key, value in self.link_defaults.items():
                setattr(self.spec.world.link, key, value)
        self.clock.reset()
        if self.world is not None:
            self.world.reset()
        for system in self.systems.values():
            if system.link is not None:
                system.link.reset()
        # After the links: a link reset must not read as a reconnection that clears an alarm.
        if self.alarms is not None:
            self.alarms.reset()
        LOG.info('lab reset to the topology defaults')
