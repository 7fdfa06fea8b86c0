#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: link_quality_check
short_description: Measure round trip and throughput to the subscription server against Avaya's limits
version_added: 0.1.0
description:
  - Measures the path to O(address) on O(port) against the limits in Avaya's documents for the subscription link, at
    most 200 ms round trip (O(max_round_trip_ms)) and at least 128 kbit/s (O(min_throughput_kbps)).
  - 'C(quality.round_trip): the median of O(samples) round trips against O(max_round_trip_ms); the worst is reported
    too. With O(client_cert) and O(client_key) the round trip is measured at the application layer, as WebSocket
    ping and pong over the TLS link (method C(websocket_ping)), and that is what is judged. Without an identity only
    TCP connects can be timed (method C(tcp_connect)), and the result says so: a TCP proxy or firewall that
    terminates TCP on the path (a user-space proxy, a TLS-inspecting firewall) answers the connect itself, so the
    connect time does not show the delay behind it and can make a slow path look fast. The TCP connect times are
    always reported as well.'
  - 'C(quality.throughput): Avaya publishes no link protocol, and a real COM offers no throughput test, so by default
    throughput is V(not_measured) with the reason "a real COM offers no throughput test; measured only against the
    lab", never V(pass); the readiness report then calls the system V(unverified). With O(lab_throughput_protocol)
    (LAB ONLY) it is measured against this collection''s lab COM (C(tests/lab)), which speaks a protocol of its own
    (C(hello), then C(speedtest) with a byte count, answered by one binary WebSocket frame of that many random
    bytes): that needs O(client_cert), O(client_key), O(customer_id) (the C(hello) names the customer, and the system
    the client certificate''s subject CN names: the lab COM welcomes a hello only for the certificate''s own system and
    the customer it is registered to) and a peer that answers C(speedtest); otherwise the check is V(not_measured) and
    its summary says why.'
  - 'Throughput is O(throughput_bytes) times 8 over the time from the request to the last byte, less one round trip
    (the request''s way out and the first byte''s way back; at most half the elapsed time is taken off). 1 kbit/s is
    1000 bit/s. When the transfer does not finish within O(timeout) plus three times the time the limit allows for
    it, the check fails with an upper bound.'
  - 'A measurement that began and broke off (the connection dropped during the pings or the transfer, fewer bytes
    than asked for) is V(fail), with a hint: a path that cuts a connection would cut the IP Office''s link too. It is
    never reported as not measured.'
  - The check runs where the task runs, the controller or a probe host it is delegated to; it does not talk to the
    IP Office. What counts is the IP Office's own network, so delegate it to a host in that network.
  - A failed check fails the task, with RV(msg) naming it; RV(checks) and RV(passed) are returned all the same.
    Use C(failed_when) or C(ignore_errors) to carry on.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.check_module
requirements:
  - Python 3.8 or later where the check runs, with nothing else installed (the WebSocket is the collection's own
    code).
options:
  address:
    description:
      - IPv4 address of the subscription server, as DNS resolves its name.
    type: str
    required: true
  port:
    description:
      - TCP port, normally the first open one of M(ipoffice.subscription.port_check) (443 or 8443).
    type: int
    default: 443
  server_name:
    description:
      - The subscription server's host name (SNI, HTTP C(Host), and the name its certificate must carry). Required
        with O(client_cert).
    type: str
  ca_path:
    description:
      - PEM file of the CA that must have issued the server's certificate; without it, the trust store of the host
        the check runs on.
    type: path
  client_cert:
    description:
      - PEM file of a client certificate the server accepts, that is the identity of an IP Office system registered with
        the customer, as that system presents it on its link. With it the round trip is measured at the application
        layer and throughput can be measured. Give O(client_key) with it.
    type: path
  client_key:
    description:
      - PEM file of the private key of O(client_cert). Only its path is used in results; its content never is.
    type: path
  path:
    description:
      - HTTP path of the WebSocket. V(/link/v1) is the lab's; set it to the path your server serves.
    type: str
    default: /link/v1
  customer_id:
    description:
      - With O(lab_throughput_protocol), the customer ID to name in the C(hello) that must come before the
        C(speedtest) request. Without it throughput is not measured.
    type: str
  lab_throughput_protocol:
    description:
      - LAB ONLY. Measure throughput with the speedtest protocol of this collection's lab COM (C(tests/lab)). No real
        COM speaks it.
      - With V(false), throughput is V(not_measured) ("a real COM offers no throughput test; measured only against
        the lab"); the round trip is measured all the same.
    type: bool
    default: false
  samples:
    description:
      - How many round trips to time, for each method (1 to 50).
    type: int
    default: 5
  max_round_trip_ms:
    description:
      - The median round trip may be at most this many milliseconds (Avaya's limit is 200).
    type: float
    default: 200
  min_throughput_kbps:
    description:
      - The throughput must be at least this many kbit/s (Avaya's minimum is 128).
    type: float
    default: 128
  throughput_bytes:
    description:
      - Bytes to transfer for the throughput measurement (1000 to 4194304, the most the lab's server sends). More
        bytes give a steadier figure and take longer; 32000 bytes take 2 s at 128 kbit/s.
    type: int
    default: 32000
  timeout:
    description:
      - Seconds for each TCP connect, each TLS and WebSocket opening and each round trip; more than 0, at most 60.
    type: float
    default: 3
notes:
  - The measurement is one short moment of the path, taken from where the task runs. A busy period, or a different
    path from the IP Office itself, can give other figures.
seealso:
  - module: ipoffice.subscription.port_check
  - module: ipoffice.subscription.tls_check
'''

EXAMPLES = r'''
- name: Round trip by TCP connect only (no client identity)
  ipoffice.subscription.link_quality_check:
    address: "{{ dns_result.resolved_address }}"
    port: "{{ ports_result.first_open_port }}"
  register: quality
  failed_when: false

- name: Round trip over the WebSocket, with a client identity the server accepts (throughput not measured)
  ipoffice.subscription.link_quality_check:
    address: 192.0.2.44
    server_name: admin.uk1.avaya-sub.com
    ca_path: /etc/ipoffice/com-ca.pem
    client_cert: /etc/ipoffice/site-identity.pem
    client_key: /etc/ipoffice/site-identity.key
  register: quality

- name: Against the collection's lab only, throughput too
  ipoffice.subscription.link_quality_check:
    address: 127.0.44.1
    server_name: admin.lab1.avaya-sub.com
    ca_path: tests/output/lab-demo/ca.pem
    client_cert: tests/output/lab-demo/identities/ip500-single.pem
    client_key: tests/output/lab-demo/identities/ip500-single.key
    customer_id: LAB-0001
    lab_throughput_protocol: true
  register: lab_quality

- name: Show the figures
  ansible.builtin.debug:
    msg: >-
      round trip {{ quality.round_trip_ms.median | default('?') }} ms ({{ quality.round_trip_method }}),
      throughput {{ quality.throughput_kbps | default('not measured', true) }} kbit/s
'''

RETURN = r'''
round_trip_method:
  description: V(websocket_ping), V(tcp_connect), or V(null) when nothing could be timed.
  returned: unless O(validate_only=true)
  type: str
  sample: websocket_ping
round_trip_ms:
  description: The round trips the check judged (those of RV(round_trip_method)); V(null) when none.
  returned: unless O(validate_only=true)
  type: dict
  contains:
    median:
      description: Median in milliseconds.
      type: float
    worst:
      description: Slowest in milliseconds.
      type: float
    best:
      description: Fastest in milliseconds.
      type: float
    count:
      description: How many round trips were timed.
      type: int
    samples:
      description: Every round trip in milliseconds, in order.
      type: list
      elements: float
tcp_connect_ms:
  description: TCP connect times (same keys as RV(round_trip_ms)); V(null) when no connect succeeded.
  returned: unless O(validate_only=true)
  type: dict
websocket_ping_ms:
  description: WebSocket ping round trips (same keys as RV(round_trip_ms)); V(null) when not measured.
  returned: unless O(validate_only=true)
  type: dict
throughput_kbps:
  description: Measured throughput in kbit/s; V(null) when not measured.
  returned: unless O(validate_only=true)
  type: float
  sample: 1543.2
throughput:
  description: The transfer behind RV(throughput_kbps); V(null) when there was none.
  returned: unless O(validate_only=true)
  type: dict
  contains:
    bytes:
      description: Bytes asked for.
      type: int
    received:
      description: Whether they all arrived.
      type: bool
    elapsed_seconds:
      description: From the request to the last byte (or to giving up).
      type: float
    round_trip_subtracted_ms:
      description: The round trip taken off the elapsed time.
      type: float
    raw_kbps:
      description: Throughput over the whole elapsed time, round trip included.
      type: float
websocket_error:
  description: Why no WebSocket could be used (no identity, TLS or upgrade failure); V(null) when one was used.
  returned: unless O(validate_only=true)
  type: str
checks:
  description:
    - One result per check, in the collection's check format, C(quality.round_trip) and C(quality.throughput).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    check:
      description: Stable name of the check.
      type: str
      sample: quality.round_trip
    status:
      description: V(pass), V(fail) or V(not_measured).
      type: str
    passed:
      description: V(true) for pass, V(false) for fail, V(null) when not measured.
      type: bool
    measured:
      description: The median round trip in ms, or the throughput in kbit/s.
      type: raw
    limit:
      description: O(max_round_trip_ms) or O(min_throughput_kbps).
      type: raw
    unit:
      description: V(ms) or V(kbit/s).
      type: str
    summary:
      description: One line for people, naming the method.
      type: str
    hint:
      description: What to fix; V(null) when the check passed.
      type: str
    details:
      description: >-
        Further facts, for example C(method), C(worst) and C(samples); C(lab_only) (V(true)) on a throughput not
        measured because only the lab offers the test; C(error_kind) on a measurement that broke off.
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
not_measured:
  description: Names of the checks that could not be measured.
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: [quality.throughput]
counts:
  description: How many checks passed, failed and were not measured.
  returned: unless O(validate_only=true)
  type: dict
msg:
  description: One line saying what passed or failed.
  returned: always
  type: str
duration_ms:
  description: How long the whole check took, in milliseconds.
  returned: unless O(validate_only=true)
  type: float
'''

import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module, checks, netprobe, validators

MAX_SAMPLES = 50
MIN_BYTES = 1000
MAX_BYTES = 4 * 1024 * 1024
TCP_LIMITATION = ('TCP connect time only (no client identity for an application-level round trip): a proxy or firewall '
                  'that terminates TCP on the path answers the connect itself, so a delay behind it does not show')
NO_IDENTITY = 'no client_cert and client_key given: the server requires a client certificate'
NO_CUSTOMER_ID = 'no customer_id given for the hello that must come before the speedtest request'


def _where(params):
    return '%s:%d' % (params['address'], params['port'])


def use_websocket(params, context):
    """The measurements over the WebSocket (netprobe.measure_link): (ping ms list, throughput facts or None, why
    throughput was not measured, why no WebSocket could be used or None, MeasurementBroken or None)."""
    if context is None:
        return [], None, NO_IDENTITY, NO_IDENTITY, None
    speedtest = None
    if params['lab_throughput_protocol'] and params['customer_id']:
        allowed = params['throughput_bytes'] * 8 / (params['min_throughput_kbps'] * 1000.0)
        try:
            system_name = netprobe.certificate_common_name(params['client_cert'])
        except (OSError, ValueError):
            system_name = None
        # Without a name the lab COM rejects the hello, and its reason becomes why throughput was not measured.
        speedtest = (params['throughput_bytes'], params['customer_id'], system_name or '', params['timeout'] + 3 * allowed)
    try:
        connection = netprobe.open_websocket(params['address'], params['port'], params['server_name'], context,
                                             params['path'], params['timeout'],
                                             max_size=params['throughput_bytes'] + 65536)
    except Exception as exc:  # pylint: disable=broad-except
        _kind, text = netprobe.websocket_error(exc)
        reason = 'no WebSocket to %s: %s' % (_where(params), text)
        return [], None, reason, reason, None
    try:
        pings, facts, reason, broken = netprobe.measure_link(connection, params['samples'], params['timeout'], speedtest)
    finally:
        netprobe.close_quietly(connection)
    if broken is None and speedtest is None:
        reason = netprobe.LAB_ONLY_THROUGHPUT if not params['lab_throughput_protocol'] else NO_CUSTOMER_ID
    return pings, facts, reason, None, broken


def _broken_hint(params, broken):
    return ('the connection to %s dropped during %s (%s): something on the path (a firewall, a proxy, NAT, an unstable '
            'line) cuts the connection, and would cut the IP Office\'s link the same way; find it, then check again'
            % (_where(params), broken.what, broken.text))


def judge_round_trip(params, tcp_ms, tcp_outcomes, ping_ms, websocket_error, broken=None):
    limit = params['max_round_trip_ms']
    if broken is not None and broken.what.startswith('the round trip'):
        stats = netprobe.summary_ms(ping_ms)
        return checks.result('quality.round_trip', checks.FAIL, measured=stats['median'] if stats else None, limit=limit, unit='ms',
                             summary='the WebSocket dropped during the round trip measurement after %d samples: %s' % (
                                 len(ping_ms), broken.text),
                             hint=_broken_hint(params, broken), method='websocket_ping', error_kind=broken.kind,
                             tcp_connect_ms=netprobe.summary_ms(tcp_ms)), 'websocket_ping', stats
    if ping_ms:
        method, stats = 'websocket_ping', netprobe.summary_ms(ping_ms)
        how = 'WebSocket ping over the TLS link'
    elif tcp_ms:
        method, stats = 'tcp_connect', netprobe.summary_ms(tcp_ms)
        how = TCP_LIMITATION
    else:
        errors = sorted(set('%s (%s)' % (item['state'], item['error']) for item in tcp_outcomes))
        return checks.result('quality.round_trip', checks.NOT_MEASURED, limit=limit, unit='ms',
                             summary='not measured: no TCP connection to %s succeeded: %s' % (_where(params), ', '.join(errors)),
                             method=None), None, None
    details = dict(method=method, worst=stats['worst'], best=stats['best'], samples=stats['samples'],
                   tcp_connect_ms=netprobe.summary_ms(tcp_ms))
    if method == 'tcp_connect':
        details['limitation'] = TCP_LIMITATION
        details['websocket_error'] = websocket_error
    result = checks.passed_if(
        'quality.round_trip', stats['median'] <= limit, measured=stats['median'], limit=limit, unit='ms',
        summary='median round trip %s ms, worst %s ms, over %d samples (method %s: %s)' % (
            stats['median'], stats['worst'], stats['count'], method, how),
        hint=('the round trip to %s is %s ms (median), more than the %g ms the subscription link allows: use a '
              'faster Internet connection or path, or find what delays it (a proxy, a congested or satellite link)'
              % (_where(params), stats['median'], limit)),
        **details)
    return result, method, stats


def judge_throughput(params, facts, reason, broken=None):
    limit = params['min_throughput_kbps']
    if broken is not None and not broken.what.startswith('the round trip'):
        return checks.result('quality.throughput', checks.FAIL, measured=None, limit=limit, unit='kbit/s',
                             summary='the measurement broke off: %s' % broken.text, hint=_broken_hint(params, broken),
                             method='speedtest', error_kind=broken.kind)
    if facts is None and reason == netprobe.LAB_ONLY_THROUGHPUT:
        return checks.result('quality.throughput', checks.NOT_MEASURED, limit=limit, unit='kbit/s', summary='not measured: %s' % reason,
                             lab_only=True)
    if facts is None:
        reason = reason or 'the round trip measurement broke off first'
        return checks.result('quality.throughput', checks.NOT_MEASURED, limit=limit, unit='kbit/s',
                             summary='not measured: the path offers nothing to measure against (%s)' % reason)
    hint = ('the throughput to %s is %s kbit/s%s, less than the %g kbit/s the subscription link needs: a faster '
            'Internet connection, or less traffic competing with the IP Office (QoS)'
            % (_where(params), facts['kbps'], ' at most' if facts['upper_bound'] else '', limit))
    if facts['upper_bound']:
        summary = ('less than %s kbit/s: %d bytes did not arrive within %s s' % (facts['kbps'], facts['bytes'],
                                                                                 facts['elapsed_seconds']))
    else:
        summary = '%s kbit/s: %d bytes in %s s (%s kbit/s with the round trip of %s ms)' % (
            facts['kbps'], facts['bytes'], facts['elapsed_seconds'], facts['raw_kbps'], facts['round_trip_subtracted_ms'])
    return checks.passed_if('quality.throughput', facts['kbps'] >= limit and not facts['upper_bound'],
                            measured=facts['kbps'], limit=limit, unit='kbit/s', summary=summary, hint=hint,
                            method='speedtest', **dict((key, facts[key]) for key in (
                                'bytes', 'received', 'elapsed_seconds', 'round_trip_subtracted_ms', 'raw_kbps', 'upper_bound')))


def check_input(params, name=check_module.own_names):
    """Problems with the options, each naming the option (as name gives it) and the value; empty when all are good.
    Whether the files load as the CA and the client identity is prepare's part (loaded once)."""
    found = check_module.problems(
        validators.check_ipv4(name('address'), params['address']),
        validators.check_port(name('port'), params['port']),
        validators.check_readable_file(name('ca_path'), params['ca_path']),
        validators.check_readable_file(name('client_cert'), params['client_cert']),
        validators.check_readable_file(name('client_key'), params['client_key']),
        validators.check_url_path(name('path'), params['path']),
        validators.check_range(name('samples'), params['samples'], 1, MAX_SAMPLES),
        validators.check_positive(name('max_round_trip_ms'), params['max_round_trip_ms']),
        validators.check_positive(name('min_throughput_kbps'), params['min_throughput_kbps']),
        validators.check_range(name('throughput_bytes'), params['throughput_bytes'], MIN_BYTES, MAX_BYTES, ' bytes'),
        validators.check_timeout(name('timeout'), params['timeout']),
    )
    if params['server_name'] not in (None, '') or params['client_cert']:
        found += check_module.problems(validators.check_server_name(name('server_name'), params['server_name']))
    if params['customer_id'] not in (None, ''):
        found += check_module.problems(validators.check_customer_id(name('customer_id'), params['customer_id']))
    return found


def prepare(params, name=check_module.own_names):
    """(context, problem): with a client identity, the verifying client context (netprobe.load_client_context, shared
    with tls_check), loaded once for the input check and the checks; without one, no context (None, None)."""
    if not params['client_cert']:
        return None, None
    return netprobe.load_client_context(params['ca_path'], params['client_cert'], params['client_key'], name)


def run_checks(params, context):
    """The checks, with the client context that prepare loaded (None without a client identity)."""
    started = time.monotonic()
    tcp_ms, tcp_outcomes = netprobe.tcp_connect_samples(params['address'], params['port'], params['timeout'], params['samples'])
    ping_ms, facts, reason, websocket_error, broken = use_websocket(params, context)
    if not params['lab_throughput_protocol']:
        # Whatever else: a real COM offers no throughput test.
        reason = netprobe.LAB_ONLY_THROUGHPUT
    round_trip, method, stats = judge_round_trip(params, tcp_ms, tcp_outcomes, ping_ms, websocket_error, broken)
    found = [round_trip, judge_throughput(params, facts, reason, broken)]
    throughput = None
    if facts is not None:
        throughput = dict((key, facts[key]) for key in ('bytes', 'received', 'elapsed_seconds', 'round_trip_subtracted_ms', 'raw_kbps'))
    return check_module.run_result(
        found, 'quality', check_module.elapsed_ms(started), round_trip_method=method, round_trip_ms=stats,
        tcp_connect_ms=netprobe.summary_ms(tcp_ms), websocket_ping_ms=netprobe.summary_ms(ping_ms),
        throughput_kbps=facts['kbps'] if facts else None, throughput=throughput, websocket_error=websocket_error)


def main():
    check_module.run(
        dict(
            address=dict(type='str', required=True),
            port=dict(type='int', default=443),
            server_name=dict(type='str'),
            ca_path=dict(type='path'),
            client_cert=dict(type='path'),
            client_key=dict(type='path'),
            path=dict(type='str', default='/link/v1'),
            customer_id=dict(type='str'),
            lab_throughput_protocol=dict(type='bool', default=False),
            samples=dict(type='int', default=5),
            max_round_trip_ms=dict(type='float', default=200),
            min_throughput_kbps=dict(type='float', default=128),
            throughput_bytes=dict(type='int', default=32000),
            timeout=check_module.timeout_option(),
        ),
        check_input, run_checks, prepare=prepare, required_together=[('client_cert', 'client_key')])


if __name__ == '__main__':
    main()
