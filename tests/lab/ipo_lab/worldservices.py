"""The services around the emulated systems, started and reset together: DNS, SNTP, COM, the shaping proxy."""

from __future__ import annotations

import logging

from . import com, dns_server, shaper, sntp_server

LOG = logging.getLogger('ipo_lab.world')


class World:
    def __init__(self, spec, clock, authority):
        self.spec = spec
        self.clock = clock
        self.dns = dns_server.LabDNS(spec.dns, clock)
        self.sntp = sntp_server.LabSNTP(spec.sntp, clock)
        self.com = com.ComSimulator(spec.com, clock, authority, heartbeat_seconds=spec.link.heartbeat_seconds)
        self.shaper = shaper.ShapingProxy(spec.shaper)
        self.services = [self.dns, self.sntp, self.com, self.shaper]

    async def start(self):
        for service in self.services:
            await service.start()
        LOG.info('world up: DNS %s port %d, SNTP %s:%d, COM %s ports %s, shaper %s',
                 ', '.join(server.address for server in self.spec.dns.servers), self.spec.dns.port,
                 self.spec.sntp.address, self.spec.sntp.port, self.spec.com.address, self.spec.com.ports, self.spec.shaper.address)

    async def stop(self):
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:  # stopping the rest matters more than one service's error
                LOG.exception('stopping %s', type(service).__name__)

    def reset(self):
        for service in self.services:
            service.reset()

    def control_routes(self):
        routes = []
        for module, service in ((dns_server, self.dns), (sntp_server, self.sntp), (com, self.com), (shaper, self.shaper)):
            routes.extend(module.control_routes(service))
        return routes

    def describe(self):
        return {'dns': self.dns.describe(), 'sntp': self.sntp.describe(), 'com': self.com.describe(), 'shaper': self.shaper.describe()}
