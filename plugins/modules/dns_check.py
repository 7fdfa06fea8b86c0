#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: dns_check
short_description: Check that the DNS server configured on an IP Office resolves what its subscription link needs
version_added: 0.1.0
description:
  - Asks the DNS server that is configured on the IP Office (O(server), and O(backup_server) when the first gives no
    answer) for the IPv4 address of the subscription server (O(server_address)) and of every name in O(names).
    The resolver of the host the check runs on is never used, so the answer is the one the IP Office would get.
  - The check runs where the task runs, the controller or a probe host it is delegated to. It does not talk to the
    IP Office itself. What counts is what the IP Office's own network can reach, so delegate it to a host in that
    network when the controller is elsewhere.
  - 'Results, each in the collection''s check format (RV(checks)): C(dns.server_reachable) (a configured server
    answered every query), C(dns.server_address) (the subscription server address resolves to exactly one IPv4
    address: Avaya''s documents say the link goes to one static address), one C(dns.<name>) per name in O(names)
    (resolves to at least one IPv4 address), and C(dns.lookup_time) (the slowest lookup against O(max_lookup_ms)).'
  - A failed check fails the task, with RV(msg) naming each failed check and its hint; RV(checks), RV(passed) and
    RV(failed_checks) are returned all the same. Use C(failed_when) or C(ignore_errors) to carry on.
  - The lookups run at the same time. Each server gets one query per name, without retries; a server that does not
    answer costs O(timeout) at most, so the task takes at most twice O(timeout) when O(backup_server) is set, once
    otherwise.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.check_module
requirements:
  - Python 3.8 or later where the check runs, with nothing else installed (the DNS messages are built and read by the
    collection's own code).
options:
  server:
    description:
      - IPv4 address of the DNS server configured on the IP Office (C(systems[].dns.server) of
        M(ipoffice.subscription.system_info)).
    type: str
    required: true
  backup_server:
    description:
      - IPv4 address of the backup DNS server configured on the IP Office, asked when O(server) gives no answer
        (no answer in time, or an error such as C(REFUSED) or C(SERVFAIL)). A name that O(server) says does not exist
        (C(NXDOMAIN)) is not asked again.
    type: str
  port:
    description:
      - UDP port of the DNS servers (TCP when an answer is truncated).
    type: int
    default: 53
  server_address:
    description:
      - The subscription server address configured on the IP Office, for example V(admin.uk1.avaya-sub.com)
        (C(systems[].subscription.server_address) of M(ipoffice.subscription.system_info)).
    type: str
    required: true
  names:
    description:
      - Further names that must resolve to at least one IPv4 address. Avaya's documents name
        V(storage.googleapis.com), used by subscription features that need file storage.
    type: list
    elements: str
    default: [storage.googleapis.com]
  timeout:
    description:
      - Seconds to wait for each server's answer to one query.
    type: float
    default: 3
  max_lookup_ms:
    description:
      - The slowest lookup may take this many milliseconds for C(dns.lookup_time) to pass.
    type: int
    default: 1000
notes:
  - Give O(server) and O(server_address) from the IP Office's configuration, not the values you intend to set, to
    check what the system will really do.
seealso:
  - module: ipoffice.subscription.system_info
  - module: ipoffice.subscription.dns
'''

EXAMPLES = r'''
- name: Check DNS as the IP Office will use it (the task fails when a check fails)
  ipoffice.subscription.dns_check:
    server: "{{ ipo.systems[0].dns.server }}"
    backup_server: "{{ ipo.systems[0].dns.backup_server | default(omit, true) }}"
    server_address: "{{ ipo.systems[0].subscription.server_address }}"

- name: Check from a probe host inside the customer's network and carry on, keeping the results
  ipoffice.subscription.dns_check:
    server: 192.0.2.53
    server_address: admin.uk1.avaya-sub.com
    names: [storage.googleapis.com]
    timeout: 2
    max_lookup_ms: 500
  delegate_to: probe1
  register: dns_result
  failed_when: false

- name: Show what to fix
  ansible.builtin.debug:
    msg: "{{ dns_result.checks | selectattr('status', 'equalto', 'fail') | map(attribute='hint') | list }}"
  when: not dns_result.passed
'''

RETURN = r'''
resolved_address:
  description: The one IPv4 address of O(server_address); V(null) unless it resolved to exactly one.
  returned: unless O(validate_only=true)
  type: str
  sample: 192.0.2.44
addresses:
  description: Every IPv4 address the DNS server gave for O(server_address); empty when none.
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: [192.0.2.44]
checks:
  description:
    - One result per check, in the collection's check format.
    - C(dns.server_reachable), C(dns.server_address), one C(dns.<name>) per name in O(names), C(dns.lookup_time).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    check:
      description: Stable name of the check.
      type: str
      sample: dns.server_address
    status:
      description: V(pass), V(fail) or V(not_measured) (nothing could be measured, for example no server answered).
      type: str
      sample: pass
    passed:
      description: V(true) for pass, V(false) for fail, V(null) when not measured.
      type: bool
    measured:
      description:
        - What was found. C(dns.server_reachable) the address of the server that answered; C(dns.server_address) and
          C(dns.<name>) the number of IPv4 addresses; C(dns.lookup_time) the slowest lookup in milliseconds.
      type: raw
    limit:
      description: The bound the value is held to (V(1) address, O(max_lookup_ms)); V(null) when none.
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
      description:
        - Further facts, for example the addresses, the response code and the server that answered, or every
          server asked with what happened.
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
  sample: [dns.server_address]
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
  sample: {pass: 4, fail: 0, not_measured: 0}
duration_ms:
  description: How long the lookups took together, in milliseconds.
  returned: unless O(validate_only=true)
  type: float
'''

import concurrent.futures
import time

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module, checks, dnsquery, validators
from ansible_collections.ipoffice.subscription.plugins.module_utils.dnsquery import FINAL_RCODES, attempt_text, lookup

AVAYA_DOMAIN = 'avaya-sub.com'


def judge_server_reachable(lookups, servers):
    """dns.server_reachable: a configured server settled every lookup (the backup counts, as on the IP Office)."""
    per_server = []
    for server in servers:
        tried = [attempt for item in lookups for attempt in item['attempts'] if attempt['server'] == server]
        settled = [attempt for attempt in tried if attempt['rcode'] in FINAL_RCODES]
        problems = sorted(set(attempt['error'] or 'answered %s' % attempt['rcode']
                              for attempt in tried if attempt['rcode'] not in FINAL_RCODES))
        per_server.append({'address': server, 'role': 'server' if server == servers[0] else 'backup_server',
                           'queries': len(tried), 'answered': len(settled), 'problems': problems})
    unsettled = [item for item in lookups if item['answer'] is None]
    answered_by = sorted(set(item['answer']['server'] for item in lookups if item['answer']))
    measured = ', '.join(answered_by) or None
    if not unsettled:
        primary = per_server[0]
        if primary['problems']:
            summary = ('the DNS server %s gave no usable answer (%s); the backup server %s answered'
                       % (servers[0], '; '.join(primary['problems']), ', '.join(answered_by)))
        else:
            summary = 'the DNS server %s answered %d of %d queries' % (servers[0], primary['answered'], primary['queries'])
        return checks.result('dns.server_reachable', checks.PASS, measured=measured, summary=summary,
                             servers=per_server)
    failures = '; '.join(attempt_text(attempt) for item in unsettled for attempt in item['attempts'])
    names = ', '.join(item['name'] for item in unsettled)
    refused = any(attempt['rcode'] for item in unsettled for attempt in item['attempts'])
    if refused:
        hint = ('the DNS server answers but does not resolve these names for this client (%s): it must allow recursive '
                'queries from the IP Office\'s network, with external access to avaya-sub.com and '
                'storage.googleapis.com' % failures)
    else:
        hint = ('no configured DNS server answered (%s): check the DNS server address on the IP Office, that the '
                'server runs, and that the network and firewall let DNS (UDP and TCP port 53) through to it'
                % failures)
    return checks.result('dns.server_reachable', checks.FAIL, measured=measured,
                         summary='no usable answer for %s' % names, hint=hint, servers=per_server)


def judge_server_address(item):
    """dns.server_address: exactly one IPv4 address (the seeds: the link goes to one static address)."""
    name = item['name']
    check = 'dns.server_address'
    answer = item['answer']
    if answer is None:
        return checks.result(check, checks.NOT_MEASURED, limit=1, unit='addresses', query_name=name,
                             summary='not measured: no DNS server answered for %s' % name)
    details = dict(query_name=name, addresses=answer['addresses'], rcode=answer['rcode'], answered_by=answer['server'])
    count = len(answer['addresses'])
    if answer['rcode'] == 'NXDOMAIN':
        return checks.result(
            check, checks.FAIL, measured=0, limit=1, unit='addresses',
            summary='%s does not exist for the DNS server %s (NXDOMAIN)' % (name, answer['server']),
            hint=('the customer\'s DNS server must resolve *.%s (external access to the domain %s, where COM\'s '
                  'regional servers such as admin.uk1.avaya-sub.com live); or the subscription server address %s '
                  'is misspelt: compare it with the order e-mail' % (AVAYA_DOMAIN, AVAYA_DOMAIN, name)),
            **details)
    if count == 0:
        return checks.result(
            check, checks.FAIL, measured=0, limit=1, unit='addresses',
            summary='%s has no IPv4 address at the DNS server %s' % (name, answer['server']),
            hint=('the customer\'s DNS server knows %s but gives no IPv4 address for it: it must have external access '
                  'to %s (forward or recurse to the Internet) instead of answering for it itself' % (name, AVAYA_DOMAIN)),
            **details)
    if count > 1:
        return checks.result(
            check, checks.FAIL, measured=count, limit=1, unit='addresses',
            summary='%s resolves to %d addresses (%s)' % (name, count, ', '.join(answer['addresses'])),
            hint=('COM must be one static address: the IP Office links to the single address DNS gives for %s. '
                  'Remove the extra records (or a local override) at the customer\'s DNS server' % name),
            **details)
    return checks.result(check, checks.PASS, measured=1, limit=1, unit='addresses',
                         summary='%s resolves to %s' % (name, answer['addresses'][0]), **details)


def judge_name(item):
    """dns.<name>: at least one IPv4 address."""
    name = item['name']
    check = 'dns.%s' % name
    answer = item['answer']
    if answer is None:
        return checks.result(check, checks.NOT_MEASURED, limit=1, unit='addresses', query_name=name,
                             summary='not measured: no DNS server answered for %s' % name)
    details = dict(query_name=name, addresses=answer['addresses'], rcode=answer['rcode'], answered_by=answer['server'])
    count = len(answer['addresses'])
    hint = ('the customer\'s DNS server must give external access to %s (forward or recurse to the Internet); '
            'subscription features that need file storage use it' % name)
    if answer['rcode'] == 'NXDOMAIN':
        return checks.result(check, checks.FAIL, measured=0, limit=1, unit='addresses', hint=hint,
                             summary='%s does not exist for the DNS server %s (NXDOMAIN)' % (name, answer['server']),
                             **details)
    if count == 0:
        return checks.result(check, checks.FAIL, measured=0, limit=1, unit='addresses', hint=hint,
                             summary='%s has no IPv4 address at the DNS server %s' % (name, answer['server']),
                             **details)
    return checks.result(check, checks.PASS, measured=count, limit=1, unit='addresses',
                         summary='%s resolves to %s' % (name, ', '.join(answer['addresses'])), **details)


def judge_lookup_time(lookups, max_lookup_ms):
    """dns.lookup_time: the slowest lookup that was settled, from its first query to its answer."""
    timed = dict((item['name'], item['elapsed_ms']) for item in lookups if item['answer'] is not None)
    if not timed:
        return checks.result('dns.lookup_time', checks.NOT_MEASURED, limit=max_lookup_ms, unit='ms',
                             summary='not measured: no lookup was answered')
    slowest = max(timed, key=lambda name: timed[name])
    measured = timed[slowest]
    return checks.passed_if(
        'dns.lookup_time', measured <= max_lookup_ms, measured=measured, limit=max_lookup_ms, unit='ms',
        summary='the slowest lookup (%s) took %s ms' % (slowest, measured),
        hint=('looking up %s took %s ms, more than %s ms: a slow or overloaded DNS server, or a first server that does '
              'not answer so that the backup is asked; fix or replace the DNS server' % (slowest, measured, max_lookup_ms)),
        lookups=timed)


def judge(lookups, servers, max_lookup_ms):
    """All results from the lookups; lookups[0] is the subscription server address."""
    results = [judge_server_reachable(lookups, servers), judge_server_address(lookups[0])]
    results.extend(judge_name(item) for item in lookups[1:])
    results.append(judge_lookup_time(lookups, max_lookup_ms))
    return results


def normalise_name(value):
    return value.strip().rstrip('.').lower()


def check_input(params, name=check_module.own_names):
    """Problems with the options, each naming the option (as name gives it) and the value; empty when all are good."""
    found = [validators.check_ipv4(name('server'), params['server'])]
    if params['backup_server'] not in (None, ''):
        found.append(validators.check_ipv4(name('backup_server'), params['backup_server']))
    found.append(validators.check_port(name('port'), params['port']))
    found.append(validators.check_server_name(name('server_address'), params['server_address']))
    for index, value in enumerate(params['names'] or []):
        found.append(validators.check_server_name('%s[%d]' % (name('names'), index), value, example='storage.googleapis.com'))
    found.append(validators.check_timeout(name('timeout'), params['timeout']))
    found.append(validators.check_positive(name('max_lookup_ms'), params['max_lookup_ms']))
    return check_module.problems(*found)


def run_checks(params, asker=None):
    servers = dnsquery.servers_in_order(params['server'], params['backup_server'])
    wanted = [normalise_name(params['server_address'])]
    for name in params['names'] or []:
        if normalise_name(name) not in wanted:
            wanted.append(normalise_name(name))
    started = time.monotonic()
    # Independent lookups run at the same time, so a silent server costs one timeout, not one per name.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        lookups = list(pool.map(lambda name: lookup(name, servers, params['port'], params['timeout'], asker), wanted))
    duration = check_module.elapsed_ms(started)
    results = judge(lookups, servers, params['max_lookup_ms'])
    answer = lookups[0]['answer']
    addresses = list(answer['addresses']) if answer and answer['rcode'] == 'NOERROR' else []
    return check_module.run_result(results, 'DNS', duration, resolved_address=addresses[0] if len(addresses) == 1 else None,
                                   addresses=addresses)


def main():
    check_module.run(
        dict(
            server=dict(type='str', required=True),
            backup_server=dict(type='str'),
            port=dict(type='int', default=53),
            server_address=dict(type='str', required=True),
            names=dict(type='list', elements='str', default=['storage.googleapis.com']),
            timeout=check_module.timeout_option(),
            max_lookup_ms=dict(type='int', default=1000),
        ),
        check_input, run_checks)


if __name__ == '__main__':
    main()
