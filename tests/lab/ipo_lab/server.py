"""Run the lab in the foreground: every API listener (HTTPS), the world (DNS, SNTP, COM, shaper), the links, the control API.

One process, one event loop; each listener is a TLS site on its own loopback
address, so 200 systems cost 200 sockets and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal

from aiohttp import web

from . import api, control, topology
from .ca import LabCA
from .lab import Lab
from .state import write_atomic

LOG = logging.getLogger('ipo_lab.server')


def _cert_mode(listener):
    return lambda: listener.quirks['cert']


async def serve(topology_path, state_dir, fresh):
    spec = topology.load(topology_path)
    lab = Lab(spec, state_dir, fresh)
    authority = LabCA(state_dir)
    lab.attach_world(authority)
    # One client identity per emulated system, made up front so the checks can present a system's own before its link ever runs.
    for system in spec.systems():
        authority.identity(system.name)
    api_runner = web.AppRunner(api.make_app(lab), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    control_runner = web.AppRunner(control.make_app(lab), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await api_runner.setup()
    await control_runner.setup()
    try:
        for listener in lab.listeners.values():
            context = authority.server_context(listener.address, _cert_mode(listener))
            await web.TCPSite(api_runner, listener.address, spec.api_port, ssl_context=context, reuse_address=True).start()
        # The world first: once the control API answers, labctl start reports the lab ready.
        await lab.start_world()
        await web.TCPSite(control_runner, spec.control_address, spec.control_port, reuse_address=True).start()
        control_url = 'http://%s:%d/lab/' % (spec.control_address, spec.control_port)
        info = {
            'pid': os.getpid(),
            'control_url': control_url,
            'ca_file': authority.ca_file,
            'rogue_ca_file': authority.rogue_ca_file,
            'api_port': spec.api_port,
            'identities': authority.identities_dir,
            'dns_servers': [server.address for server in spec.world.dns.servers],
            'dns_port': spec.world.dns.port,
            'sntp': '%s:%d' % (spec.world.sntp.address, spec.world.sntp.port),
            'com': {'address': spec.world.com.address, 'ports': spec.world.com.ports},
            'shaper': spec.world.shaper.address,
            'listeners': [listener.describe(lab) for listener in lab.listeners.values()],
        }
        info_path = os.path.join(state_dir, 'lab.json')
        write_atomic(info_path, json.dumps(info, indent=1).encode('utf-8'))
        os.chmod(info_path, 0o644)  # no secrets in it; tests may read it as any user
        LOG.info('serving %d listeners on port %d; control %s', len(lab.listeners), spec.api_port, control_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        LOG.info('stopping')
    finally:
        await lab.stop_world()
        await control_runner.cleanup()
        await api_runner.cleanup()
        lab.log.close()


def main(state_dir, topology_path, fresh=False):
    """Entry point of ``labctl.py run``; returns the exit code."""
    os.makedirs(state_dir, exist_ok=True)
    logging.basicConfig(filename=os.path.join(state_dir, 'lab.log'), level=logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    # aiohttp's own loggers would repeat client errors at length; keep warnings and worse.
    logging.getLogger('aiohttp').setLevel(logging.WARNING)
    try:
        asyncio.run(serve(topology_path, state_dir, fresh))
    except topology.TopologyError as exc:
        LOG.error('topology: %s', exc)
        return 2
    except OSError as exc:
        LOG.error('cannot start: %s', exc)
        return 1
    return 0
