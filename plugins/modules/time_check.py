#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: time_check
short_description: Check the time source and time zone an IP Office's subscriptions depend on
version_added: 0.1.0
description:
  - Sends one SNTP request (RFC 4330, NTP version 4, client mode) to the time source configured on the IP Office
    (O(server)), checks the answer as RFC 4330 asks (it must echo the request's timestamp, come from a server whose
    clock is synchronised, and not be a kiss-o'-death), and measures the offset between the time source and the clock
    of the host the check runs on.
  - Avaya's documents say subscriptions need an accurate time source (time.google.com is advised) and the right time
    zone. COM refuses a link from a system whose clock is too far off.
  - 'Results, each in the collection''s check format (RV(checks)): C(time.source_reachable) (a valid SNTP answer
    came), C(time.offset) (the offset against O(max_offset_seconds)) and C(time.time_zone) (O(time_zone) is set and
    is an IANA time zone name).'
  - The check runs where the task runs, the controller or a probe host it is delegated to, and does not talk to the
    IP Office itself. The offset compares the time source with that host's clock, so that host's clock must be
    right (synchronised by NTP) for the offset to say anything about the time source.
  - A failed check fails the task, with RV(msg) naming each failed check and its hint; RV(checks), RV(passed) and
    RV(failed_checks) are returned all the same. Use C(failed_when) or C(ignore_errors) to carry on.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.check_module
requirements:
  - Python 3.8 or later where the check runs, with nothing else installed.
  - For C(time.time_zone), the IANA time zone database of that host (Python's C(zoneinfo) reads the system's, or the
    C(tzdata) package); without it that check is V(not_measured), saying why.
options:
  server:
    description:
      - The time server configured on the IP Office, a host name or an IPv4 address (C(systems[].time.server) of
        M(ipoffice.subscription.system_info)).
      - A name is resolved through O(dns_server), then O(backup_dns_server), when they are given, as the IP Office
        would resolve it. Without either the resolver of the host the check runs on is used, which may answer
        differently from the IP Office's DNS servers.
    type: str
    required: true
  dns_server:
    description:
      - IPv4 address of the DNS server configured on the IP Office (port 53), to resolve O(server) when it is a name.
        The first IPv4 address it gives is used.
    type: str
  backup_dns_server:
    description:
      - IPv4 address of the backup DNS server configured on the IP Office (port 53), asked for O(server) when
        O(dns_server) gives no answer (no answer in time, or an error such as C(REFUSED) or C(SERVFAIL)), as the
        IP Office does. A name that O(dns_server) says does not exist (C(NXDOMAIN)) is not asked again.
      - Asked alone when O(dns_server) is not given.
    type: str
  port:
    description:
      - UDP port of the time source.
    type: int
    default: 123
  timeout:
    description:
      - Seconds to wait for the SNTP answer, and for each DNS server's answer when O(server) is resolved through
        O(dns_server) and O(backup_dns_server). No request is repeated.
    type: float
    default: 3
  max_offset_seconds:
    description:
      - The largest offset, either way, between the time source and the clock of the host the check runs on for
        C(time.offset) to pass.
    type: float
    default: 5
  time_zone:
    description:
      - The time zone configured on the IP Office (C(systems[].time.time_zone) of
        M(ipoffice.subscription.system_info)). C(time.time_zone) passes when it is a valid IANA time zone name such as
        V(Europe/London), and fails when it is empty or not such a name. Whether it is the site's zone cannot be
        checked here.
      - Required so that an unset zone is not mistaken for one nobody asked about; give V("") when the system has
        none.
    type: str
    required: true
notes:
  - This module sends its own SNTP packet rather than using the C(ntplib) library. C(ntplib)'s last release is 0.4.0
    (May 2021), its author wrote in 2023 that he no longer actively uses it, a fix merged since has not been released,
    and its client does not make the checks on the answer that RFC 4330 section 5 asks for, which this module would
    have to add anyway.
seealso:
  - module: ipoffice.subscription.system_info
  - module: ipoffice.subscription.time
'''

EXAMPLES = r'''
- name: Check the time source and zone as the IP Office has them, resolving the name through its DNS servers
  ipoffice.subscription.time_check:
    server: "{{ ipo.systems[0].time.server }}"
    dns_server: "{{ ipo.systems[0].dns.server }}"
    backup_dns_server: "{{ ipo.systems[0].dns.backup_server | default(omit, true) }}"
    time_zone: "{{ ipo.systems[0].time.time_zone }}"

- name: Check a time server by address from a probe host, allowing 2 seconds of offset, and carry on
  ipoffice.subscription.time_check:
    server: 192.0.2.123
    time_zone: Europe/Berlin
    max_offset_seconds: 2
  delegate_to: probe1
  register: time_result
  failed_when: false

- name: Show the measured offset and what to fix
  ansible.builtin.debug:
    msg: "offset {{ time_result.offset_seconds }} s; {{ time_result.msg }}"
'''

RETURN = r'''
address:
  description: The IPv4 address the SNTP request went to; V(null) when O(server) could not be resolved.
  returned: unless O(validate_only=true)
  type: str
  sample: 192.0.2.123
resolved_through:
  description:
    - How O(server) became RV(address). V(address) when it is one, V(dns_server) when resolved through O(dns_server),
      V(backup_dns_server) when O(dns_server) gave no answer and O(backup_dns_server) resolved it (or was the only
      server given), V(local_resolver) when resolved by the host the check runs on.
  returned: unless O(validate_only=true)
  type: str
  sample: dns_server
offset_seconds:
  description:
    - The time source's clock minus the clock of the host the check runs on, in seconds; V(null) without a valid answer.
  returned: unless O(validate_only=true)
  type: float
  sample: 0.012
round_trip_ms:
  description: The SNTP round trip less the server's own processing time, in milliseconds; V(null) without an answer.
  returned: unless O(validate_only=true)
  type: float
stratum:
  description: The time source's stratum (1 for a reference clock, 2 and more for servers that follow one).
  returned: unless O(validate_only=true)
  type: int
  sample: 1
source_time:
  description: The time source's transmit time, ISO 8601 UTC; V(null) without an answer.
  returned: unless O(validate_only=true)
  type: str
  sample: '2026-11-24T14:18:46.126Z'
checks:
  description:
    - One result per check, in the collection's check format. C(time.source_reachable), C(time.offset),
      C(time.time_zone).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    check:
      description: Stable name of the check.
      type: str
      sample: time.offset
    status:
      description: V(pass), V(fail) or V(not_measured) (nothing could be measured, for example no answer came).
      type: str
    passed:
      description: V(true) for pass, V(false) for fail, V(null) when not measured.
      type: bool
    measured:
      description:
        - What was found. C(time.source_reachable) the round trip in milliseconds; C(time.offset) the offset in
          seconds (signed); C(time.time_zone) the zone given.
      type: raw
    limit:
      description: The bound the value is held to (O(max_offset_seconds) for C(time.offset)); V(null) when none.
      type: raw
    unit:
      description: Unit of RV(checks[].measured) and RV(checks[].limit).
      type: str
    summary:
      description: One line for people.
      type: str
    hint:
      description: What to fix; V(null) when the check passed.
      type: str
    details:
      description: Further facts, for example the address asked, the stratum, or why an answer was not usable.
      type: dict
passed:
  description: No check failed.
  returned: unless O(validate_only=true)
  type: bool
failed:
  description:
    - V(true) when a check failed, which makes Ansible count the task as failed (RV(msg) says why). Use
      C(failed_when) or C(ignore_errors) to carry on; everything else is returned all the same.
  returned: unless O(validate_only=true)
  type: bool
failed_checks:
  description: Names of the checks that failed.
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: [time.offset]
msg:
  description: One line naming each failed check with its hint, or saying that all passed.
  returned: always
  type: str
not_measured:
  description: Names of the checks that could not be measured.
  returned: unless O(validate_only=true)
  type: list
  elements: str
counts:
  description: How many checks passed, failed and were not measured.
  returned: unless O(validate_only=true)
  type: dict
  sample: {pass: 3, fail: 0, not_measured: 0}
duration_ms:
  description: How long the check took, resolution included, in milliseconds.
  returned: unless O(validate_only=true)
  type: float
'''

# The SNTP client is the collection's own (module_utils/sntp.py says why no library); DNS names are resolved by the
# one resolver policy of every check (module_utils/dnsquery.py: the primary server, then the backup).

import datetime
import socket
import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module, checks, dnsquery, validators
from ansible_collections.ipoffice.subscription.plugins.module_utils.sntp import SntpError, sntp_query

DNS_PORT = 53


# --- resolving the time server ---------------------------------------------------------------------------------------

def _dns_problem(attempt, name):
    if attempt['rcode'] == 'NOERROR':
        return 'the DNS server %s has no IPv4 address for %s' % (attempt['server'], name)
    return 'the DNS server %s%s' % (dnsquery.attempt_text(attempt), '' if attempt['error'] else ' for %s' % name)


def resolve_through(servers, name, timeout, asker=None):
    """The IPv4 addresses of name from the DNS servers (port 53), primary then backup (dnsquery.lookup)
    -> (addresses, the server that gave them or None, problem)."""
    item = dnsquery.lookup(name, servers, DNS_PORT, timeout, asker)
    answer = item['answer']
    if answer is not None and answer['addresses']:
        return answer['addresses'], answer['server'], None
    return [], None, '; '.join(_dns_problem(attempt, name) for attempt in item['attempts'])


def resolve_locally(name, port):
    """The IPv4 addresses of name from the resolver of the host this runs on -> (addresses, problem)."""
    try:
        infos = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_DGRAM)
    except (socket.gaierror, OSError) as exc:
        return [], 'this host\'s resolver cannot resolve %s: %s' % (name, exc.strerror or exc)
    addresses = []
    for info in infos:
        if info[4][0] not in addresses:
            addresses.append(info[4][0])
    return addresses, None


def resolve(params, asker=None):
    """-> (address or None, how: address|dns_server|backup_dns_server|local_resolver, all addresses, problem or None)."""
    server = params['server'].strip()
    if validators.is_ipv4_address(server):
        return server, 'address', [server], None
    servers = dnsquery.servers_in_order(params['dns_server'], params['backup_dns_server'])
    if servers:
        addresses, answered_by, problem = resolve_through(servers, server, params['timeout'], asker)
        how = 'dns_server' if (answered_by or servers[0]) == params['dns_server'] else 'backup_dns_server'
    else:
        addresses, problem = resolve_locally(server, params['port'])
        how = 'local_resolver'
    if not addresses and not problem:
        problem = 'no IPv4 address for %s' % server
    return (addresses[0] if addresses else None), how, addresses, problem


# --- the results ---------------------------------------------------------------------------------------------------

def _iso(unix_seconds):
    moment = datetime.datetime.fromtimestamp(unix_seconds, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def judge_reachable(server, address, answer=None, error=None, resolve_problem=None, port=123, **details):
    """time.source_reachable: a valid SNTP answer came."""
    check = 'time.source_reachable'
    details = dict(details, server=server, port=port)
    if resolve_problem:
        return checks.result(
            check, checks.FAIL, unit='ms', summary='%s could not be resolved' % server,
            hint=('the time server name %s does not resolve (%s): the IP Office\'s DNS must resolve it, or configure '
                  'the time server by address' % (server, resolve_problem)), **details)
    if error is not None:
        if error.kind == 'unreachable':
            hint = ('the time source %s (%s) did not answer (%s): the installer checks the time server setting and the '
                    'default route (its gateway on the route\'s LAN); the customer\'s firewall administrator lets SNTP '
                    '(UDP port %d) out through the default route; Avaya advises time.google.com' % (server, address, error, port))
        else:
            hint = ('the time source %s (%s) answered, but the answer must not be used: %s; use another time source '
                    'such as time.google.com' % (server, address, error))
        return checks.result(check, checks.FAIL, unit='ms', summary='no usable answer from %s' % server, hint=hint,
                             address=address, problem=str(error), **details)
    round_trip = round(max(answer['delay'], 0.0) * 1000.0, 1)
    return checks.result(check, checks.PASS, measured=round_trip, unit='ms',
                         summary='%s (%s) answered, stratum %d' % (server, address, answer['stratum']),
                         address=address, stratum=answer['stratum'], reference_id=answer['reference_id'], **details)


def judge_offset(offset, max_offset_seconds, server):
    """time.offset: the time source and this host's clock agree within max_offset_seconds."""
    if offset is None:
        return checks.result('time.offset', checks.NOT_MEASURED, limit=max_offset_seconds, unit='s',
                             summary='not measured: no usable answer from the time source')
    measured = round(offset, 3)
    return checks.passed_if(
        'time.offset', abs(offset) <= max_offset_seconds, measured=measured, limit=max_offset_seconds, unit='s',
        summary='the time source is %+.3f s from this host\'s clock' % offset,
        hint=('the time source %s and the clock of the host running this check differ by %.3f s (more than %g s): '
              'either the time source is wrong, and the IP Office would take its wrong time (COM refuses a clock too '
              'far off), or this host\'s clock is; compare both with a trusted source and fix the wrong one'
              % (server, offset, max_offset_seconds)))


def judge_time_zone(value, names=None):
    """time.time_zone: set, and an IANA time zone name."""
    check = 'time.time_zone'
    names = validators.time_zone_names() if names is None else names
    if value is None or str(value).strip() == '':
        return checks.result(check, checks.FAIL, measured=value,
                             summary='no time zone is set on the IP Office',
                             hint=('set the IP Office\'s time zone to the site\'s zone (System > System: Time Zone; '
                                   'the ipoffice.subscription.time module, option time_zone)'))
    if not names:
        return checks.result(check, checks.NOT_MEASURED, measured=value,
                             summary='not measured: this Python has no IANA time zone database (install tzdata)')
    problem = validators.check_time_zone('time_zone', value, names=names)
    if problem:
        return checks.result(check, checks.FAIL, measured=value, summary='%r is not an IANA time zone name' % value,
                             hint=('set the IP Office\'s time zone to the site\'s IANA zone (the '
                                   'ipoffice.subscription.time module, option time_zone): %s' % problem))
    return checks.result(check, checks.PASS, measured=value,
                         summary='%s is a valid time zone (whether it is the site\'s is not checked)' % value)


def check_input(params, name=check_module.own_names):
    """Problems with the options, each naming the option (as name gives it) and the value; empty when all are good."""
    found = [validators.check_host_or_ipv4(name('server'), params['server'])]
    for option in ('dns_server', 'backup_dns_server'):
        if params[option] not in (None, ''):
            found.append(validators.check_ipv4(name(option), params[option]))
    found.append(validators.check_port(name('port'), params['port']))
    found.append(validators.check_timeout(name('timeout'), params['timeout']))
    found.append(validators.check_positive(name('max_offset_seconds'), params['max_offset_seconds']))
    return check_module.problems(*found)


def run_checks(params, query=sntp_query, asker=None):
    started = time.monotonic()
    server = params['server'].strip()
    address, how, addresses, problem = resolve(params, asker)
    details = dict(resolved_through=how, addresses=addresses)
    answer = error = None
    if address is not None:
        try:
            answer = query(address, params['port'], params['timeout'])
        except SntpError as exc:
            error = exc
    results = [
        judge_reachable(server, address, answer, error, problem, params['port'], **details),
        judge_offset(answer['offset'] if answer else None, params['max_offset_seconds'], server),
        judge_time_zone(params['time_zone']),
    ]
    return check_module.run_result(
        results, 'time', check_module.elapsed_ms(started), address=address, resolved_through=how,
        offset_seconds=round(answer['offset'], 3) if answer else None,
        round_trip_ms=round(max(answer['delay'], 0.0) * 1000.0, 1) if answer else None,
        stratum=answer['stratum'] if answer else None,
        source_time=_iso(answer['transmit']) if answer else None)


def main():
    check_module.run(
        dict(
            server=dict(type='str', required=True),
            dns_server=dict(type='str'),
            backup_dns_server=dict(type='str'),
            port=dict(type='int', default=123),
            timeout=check_module.timeout_option(),
            max_offset_seconds=dict(type='float', default=5),
            time_zone=dict(type='str', required=True),
        ),
        check_input, run_checks)


if __name__ == '__main__':
    main()
