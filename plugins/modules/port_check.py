#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: port_check
short_description: Check that the subscription server's address answers on TCP 443 and 8443
version_added: 0.1.0
description:
  - Connects to O(address), the one address DNS gives for the subscription server, on each port in O(ports) (TCP 443
    and 8443 by default, the order in which the IP Office tries them) and reports which are open, refused or silent.
  - 'With O(tls_probe) (the default) a port counts as open only when it accepts the TCP connection B(and) answers a TLS
    ClientHello with a TLS record. A firewall or proxy that accepts TCP and then says nothing, cuts the connection or
    answers with something other than TLS would stop the IP Office''s link just as surely as a refused port, and a
    plain TCP connect cannot tell. The probe offers TLS up to 1.2 without a client certificate and stops at the
    server''s first record: it does not judge the certificate (M(ipoffice.subscription.tls_check) does).'
  - The ports are tried at the same time, so an open port never waits for another port's timeout. Each attempt
    (connect and, with O(tls_probe), the first TLS answer) takes at most O(timeout) seconds; a port is tried up to
    O(attempts) times, one attempt after the other, until it is open. The task takes at most O(attempts) times
    O(timeout) seconds.
  - 'Results, each in the collection''s check format (RV(checks)): one C(ports.<port>) per port and C(ports.any_open).
    The link needs one open port: the IP Office alternates between 443 and 8443 until one works. So C(ports.any_open)
    passes when at least one port is open, and a closed port passes with a note while another port is open (for
    example 443 refused and 8443 open: the system uses 8443 after 443 fails). Closed ports fail only when no port is
    open.'
  - The check runs where the task runs, the controller or a probe host it is delegated to; it does not talk to the
    IP Office. What counts is what the IP Office's own network can reach, so delegate it to a host in that network.
  - A failed check fails the task, with RV(msg) naming it; RV(checks) and RV(passed) are returned all the same.
    Use C(failed_when) or C(ignore_errors) to carry on.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.check_module
requirements:
  - Python 3.8 or later where the check runs, with nothing else installed.
options:
  address:
    description:
      - IPv4 address of the subscription server, as DNS resolves its name (RV(ipoffice.subscription.dns_check#module:resolved_address)).
    type: str
    required: true
  ports:
    description:
      - TCP ports to try, in the order the IP Office tries them.
    type: list
    elements: int
    default: [443, 8443]
  attempts:
    description:
      - How many times a port that is not open is tried (1 to 10). A port stops being tried once it is open.
    type: int
    default: 1
  timeout:
    description:
      - Seconds each attempt may take (TCP connect and, with O(tls_probe), the first TLS answer together); more
        than 0, at most 60.
    type: float
    default: 3
  tls_probe:
    description:
      - Send a TLS ClientHello on each connection and count the port as open only when the server answers with a
        TLS record.
      - V(false) checks the TCP connect only.
    type: bool
    default: true
  server_name:
    description:
      - Host name sent as SNI in the TLS probe, for example V(admin.uk1.avaya-sub.com). Without it no SNI is sent;
        a server that needs it still answers, with an alert, which counts as a TLS answer.
    type: str
notes:
  - Loopback and private addresses are accepted; the module aims only at O(address).
seealso:
  - module: ipoffice.subscription.dns_check
  - module: ipoffice.subscription.tls_check
  - module: ipoffice.subscription.link_quality_check
'''

EXAMPLES = r'''
- name: Check TCP 443 and 8443 to the address DNS gave for the subscription server
  ipoffice.subscription.port_check:
    address: "{{ dns_result.resolved_address }}"
    server_name: admin.uk1.avaya-sub.com
  register: ports_result
  failed_when: false

- name: Show which port the IP Office will use
  ansible.builtin.debug:
    msg: "open: {{ ports_result.open_ports }}; the link will use {{ ports_result.first_open_port }}"

- name: Three attempts per port, 5 s each, from a probe host inside the customer's network
  ipoffice.subscription.port_check:
    address: 192.0.2.44
    attempts: 3
    timeout: 5
  delegate_to: probe1
'''

RETURN = r'''
open_ports:
  description: The ports that are open, in the order of O(ports).
  returned: unless O(validate_only=true)
  type: list
  elements: int
  sample: [443, 8443]
closed_ports:
  description: The ports that are not open, in the order of O(ports).
  returned: unless O(validate_only=true)
  type: list
  elements: int
  sample: []
first_open_port:
  description: The first open port in the order of O(ports), the one the IP Office's link will use; V(null) when none.
  returned: unless O(validate_only=true)
  type: int
  sample: 443
port_results:
  description: One entry per port, in the order of O(ports).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    port:
      description: The TCP port.
      type: int
    state:
      description:
        - V(open) (TCP accepted and, with O(tls_probe), a TLS answer), V(refused) (TCP refused), V(timeout) (no TCP
          answer), V(unreachable) (no route), V(silent) (TCP accepted, no TLS answer in time), V(reset) (TCP
          accepted, then closed without a TLS answer), V(not_tls) (answered with something that is not TLS) or
          V(error).
        - The state of the attempt that opened the port, or of the last attempt.
      type: str
      sample: open
    open:
      description: Whether the port is open.
      type: bool
    attempts:
      description: Every attempt, with C(state), C(ms) (how long it took), C(error) and, with O(tls_probe), C(tls_answer).
      type: list
      elements: dict
checks:
  description:
    - One result per check, in the collection's check format, C(ports.<port>) for each port then C(ports.any_open).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    check:
      description: Stable name of the check.
      type: str
      sample: ports.any_open
    status:
      description: V(pass), V(fail) or V(not_measured).
      type: str
      sample: pass
    passed:
      description: V(true) for pass, V(false) for fail, V(null) when not measured.
      type: bool
    measured:
      description: The port's state (C(ports.<port>)), or the list of open ports (C(ports.any_open)).
      type: raw
    limit:
      description: What the check holds the value to.
      type: raw
    unit:
      description: Unit of RV(checks[].measured); V(null) here.
      type: str
    summary:
      description: One line for people, with the note when a closed port is carried by another.
      type: str
    hint:
      description: What to fix; V(null) when the check passed.
      type: str
    details:
      description: Further facts, for example the attempts of a port.
      type: dict
passed:
  description: No check failed.
  returned: unless O(validate_only=true)
  type: bool
failed:
  description:
    - Names of the checks that failed, as the module returns them. A non-empty list makes Ansible count the task as
      failed, and Ansible then keeps only V(true) in the registered result; read RV(failed_checks) there.
  returned: unless O(validate_only=true)
  type: raw
failed_checks:
  description: Names of the checks that failed (the same list as RV(failed), kept as a list in the registered result).
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: []
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
msg:
  description: One line saying what passed or failed.
  returned: always
  type: str
duration_ms:
  description: How long the whole check took, in milliseconds.
  returned: unless O(validate_only=true)
  type: float
'''

import concurrent.futures
import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module, checks, netprobe, validators

OPEN = 'open'

STATE_TEXT = {
    'open': 'open',
    'refused': 'refused',
    'timeout': 'no answer to the TCP connect',
    'unreachable': 'unreachable (no route)',
    'silent': 'accepted by TCP but no TLS answer',
    'reset': 'accepted by TCP, then cut without a TLS answer',
    'not_tls': 'answered with something that is not TLS',
    'error': 'failed',
}


def probe(address, port, timeout, tls_probe, server_name, context):
    """One attempt: {'state', 'ms', 'error', 'tls_answer'}."""
    if not tls_probe:
        return netprobe.tcp_connect_outcome(address, port, timeout)
    shake = netprobe.tls_handshake(address, port, context, server_name=server_name, timeout=timeout,
                                   first_record_only=True, shared_timeout=True)
    total = round((shake.connect_ms or 0) + (shake.handshake_ms or 0), 1)
    if shake.tcp_state != OPEN:
        return {'state': shake.tcp_state, 'ms': total, 'error': shake.tcp_error, 'tls_answer': None}
    if shake.answered:
        if shake.server.handshake_types:
            answer = shake.server.handshake_names[0]
        elif shake.server.alerts:
            answer = 'alert %s' % shake.server.alert_names[0]
        else:
            answer = 'record'
        return {'state': OPEN, 'ms': total, 'error': None, 'tls_answer': answer}
    state = {'not_tls': 'not_tls', netprobe.TIMEOUT: 'silent', netprobe.CLOSED: 'reset', netprobe.RESET: 'reset'}.get(
        shake.error_kind, 'error')
    return {'state': state, 'ms': total, 'error': shake.error, 'tls_answer': None}


def try_port(address, port, attempts, timeout, tls_probe, server_name, context):
    tried = []
    for number in range(attempts):
        outcome = probe(address, port, timeout, tls_probe, server_name, context)
        outcome['attempt'] = number + 1
        tried.append(outcome)
        if outcome['state'] == OPEN:
            break
    return {'port': port, 'state': tried[-1]['state'], 'open': tried[-1]['state'] == OPEN, 'attempts': tried}


def _ports_text(ports):
    ports = [str(port) for port in ports]
    return ports[0] if len(ports) == 1 else '%s and %s' % (', '.join(ports[:-1]), ports[-1])


def closed_hint(address, result, timeout):
    port = result['port']
    state = result['state']
    if state == 'refused':
        return ('TCP %d to %s is refused: the customer\'s firewall administrator must allow outbound TCP %d (HTTPS) to the '
                'subscription server, or the address is not the subscription server' % (port, address, port))
    if state == 'timeout':
        return ('TCP %d to %s gets no answer within %g s: a firewall drops it (the customer\'s firewall administrator '
                'must allow outbound TCP %d), or the route to the Internet is wrong (the IP Office needs a default route '
                'to the customer\'s router, a gateway on the route\'s LAN)' % (port, address, timeout, port))
    if state == 'unreachable':
        return ('%s is unreachable on TCP %d: there is no route to it from here; the installer checks the default route '
                '(its gateway must be on the route\'s LAN), the customer\'s network administrator the firewall and '
                'router' % (address, port))
    if state in ('silent', 'reset', 'not_tls'):
        return ('TCP %d to %s is %s: a firewall or proxy on the path intercepts the connection; the customer\'s firewall '
                'administrator lets outbound HTTPS to *.avaya-sub.com through without inspection (the link '
                'authenticates with client certificates, which TLS inspection breaks)' % (port, address, STATE_TEXT[state]))
    return 'TCP %d to %s failed (%s): check the firewall and the route' % (port, address, result['attempts'][-1]['error'])


def judge(address, results, timeout):
    open_ports = [item['port'] for item in results if item['open']]
    closed = [item for item in results if not item['open']]
    found = []
    for item in results:
        port = item['port']
        details = {'attempts': item['attempts']}
        last = item['attempts'][-1]
        if item['open']:
            retries = len(item['attempts']) - 1
            summary = 'TCP %d to %s is open (%s ms%s%s)' % (
                port, address, last['ms'], ', TLS answered: %s' % last['tls_answer'] if last.get('tls_answer') else '',
                ', after %d failed attempt%s' % (retries, '' if retries == 1 else 's') if retries else '')
            found.append(checks.result('ports.%d' % port, checks.PASS, measured=item['state'], limit=OPEN,
                                       summary=summary, **details))
        elif open_ports:
            summary = ('TCP %d to %s is %s; not needed while %s %s open: the IP Office uses %s after %d fails '
                       '(allow %d too, so either port works)' % (
                           port, address, STATE_TEXT.get(item['state'], item['state']), _ports_text(open_ports),
                           'is' if len(open_ports) == 1 else 'are', open_ports[0], port, port))
            found.append(checks.result('ports.%d' % port, checks.PASS, measured=item['state'], limit=OPEN,
                                       summary=summary, required=False, **details))
        else:
            found.append(checks.result('ports.%d' % port, checks.FAIL, measured=item['state'], limit=OPEN,
                                       summary='TCP %d to %s is %s' % (port, address, STATE_TEXT.get(item['state'], item['state'])),
                                       hint=closed_hint(address, item, timeout), **details))
    wanted = 'at least one of %s' % _ports_text([item['port'] for item in results])
    if not open_ports:
        found.append(checks.result(
            'ports.any_open', checks.FAIL, measured=[], limit=wanted,
            summary='no port to %s is open: %s' % (address, '; '.join(
                '%d %s' % (item['port'], STATE_TEXT.get(item['state'], item['state'])) for item in results)),
            hint=('the IP Office cannot reach the subscription server at %s on any port: the customer\'s firewall '
                  'administrator must allow outbound TCP %s to it and exempt *.avaya-sub.com from TLS inspection (the '
                  'link authenticates with client certificates)' % (address, _ports_text([item['port'] for item in results])))))
        return found
    summary = '%s %s open to %s' % (_ports_text(open_ports), 'is' if len(open_ports) == 1 else 'are', address)
    before = results[:[item['port'] for item in results].index(open_ports[0])]   # all closed: tried before the first open one
    if before:
        slow = [item['port'] for item in before if item['state'] in ('timeout', 'silent')]
        summary += ('; %s %s not, so the IP Office uses %d after %s fails%s' % (
            _ports_text([item['port'] for item in before]), 'is' if len(before) == 1 else 'are', open_ports[0],
            _ports_text([item['port'] for item in before]),
            ' (each connection waits for %s to time out first)' % _ports_text(slow) if slow else ''))
    elif closed:
        summary += '; %s not (not needed while %d is open)' % (_ports_text([item['port'] for item in closed]), open_ports[0])
    found.append(checks.result('ports.any_open', checks.PASS, measured=open_ports, limit=wanted, summary=summary))
    return found


def check_input(params, name=check_module.own_names):
    """Problems with the options, each naming the option (as name gives it) and the value; empty when all are good."""
    found = [
        validators.check_ipv4(name('address'), params['address']),
        validators.check_port_list(name('ports'), params['ports']),
        validators.check_range(name('attempts'), params['attempts'], 1, validators.MAX_PORT_ATTEMPTS),
        validators.check_timeout(name('timeout'), params['timeout']),
    ]
    if params['server_name'] not in (None, ''):
        found.append(validators.check_server_name(name('server_name'), params['server_name']))
    return check_module.problems(*found)


def run_checks(params):
    address = params['address']
    context = netprobe.client_context(verify=False)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(params['ports'])) as pool:
        results = list(pool.map(lambda port: try_port(address, port, params['attempts'], params['timeout'],
                                                      params['tls_probe'], params['server_name'] or None, context),
                                params['ports']))
    duration = check_module.elapsed_ms(started)
    found = judge(address, results, params['timeout'])
    open_ports = [item['port'] for item in results if item['open']]
    return check_module.run_result(
        found, 'port', duration, open_ports=open_ports, closed_ports=[item['port'] for item in results if not item['open']],
        first_open_port=open_ports[0] if open_ports else None, port_results=results)


def main():
    check_module.run(
        dict(
            address=dict(type='str', required=True),
            ports=dict(type='list', elements='int', default=[443, 8443]),
            attempts=dict(type='int', default=1),
            timeout=check_module.timeout_option(),
            tls_probe=dict(type='bool', default=True),
            server_name=dict(type='str'),
        ),
        check_input, run_checks)


if __name__ == '__main__':
    main()
