#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: tls_check
short_description: Check TLS 1.2, mutual authentication and the WebSocket upgrade to the subscription server
version_added: 0.1.0
description:
  - Makes a TLS handshake with O(address) on O(port), the way the IP Office's subscription link does (TLS 1.2 with
    mutual authentication, then an HTTP WebSocket), and checks what would stop the link.
  - 'C(tls.version): the server negotiates TLS 1.2. The probe offers TLS up to 1.2, as the IP Office does, and
    reports the version the server chose.'
  - 'C(tls.client_certificate_requested): the server asks for a client certificate, so mutual authentication is
    possible through this path. Python''s C(ssl) module has no interface for this, so the handshake runs over
    C(ssl.MemoryBIO) and the module reads the server''s TLS records itself: in TLS 1.2 the server''s first flight
    travels unencrypted, and a handshake message of type 13 (CertificateRequest) in it means the server asked.
    A TLS-intercepting proxy usually does not ask, because it cannot present the IP Office''s certificate to COM.'
  - 'C(tls.server_certificate): the server''s certificate chains to O(ca_path) (the CA COM''s certificate must come
    from; default the trust store of the host the check runs on) and names O(server_name). When it does not, the
    certificate the server sent is read from the same handshake without trusting it, and its subject and issuer are
    reported: a certificate from another issuer is most likely a TLS-intercepting proxy, which breaks the link.'
  - 'C(tls.websocket): with O(client_cert) and O(client_key), a second connection completes the TLS handshake with
    that identity and a WebSocket upgrade on O(path) (HTTP 101), then closes. Without an identity it is
    V(not_measured): COM requires a client certificate, and a server that requires one cannot be asked for the
    upgrade without it. A server that refuses the identity itself (HTTP 401 or 403 to the upgrade, as COM answers a
    certificate of no system registered with a customer) fails the check with a hint to use such a system''s
    identity.'
  - The check runs where the task runs, the controller or a probe host it is delegated to; it does not talk to the
    IP Office. Nothing is sent over the WebSocket.
  - A failed check fails the task, with RV(msg) naming it; RV(checks) and RV(passed) are returned all the same.
    Use C(failed_when) or C(ignore_errors) to carry on.
author:
  - ipoffice.subscription developers (@ipoffice-subscription)
extends_documentation_fragment:
  - ipoffice.subscription.attributes.INFO_MODULE
  - ipoffice.subscription.check_module
requirements:
  - Python 3.8 or later where the check runs, with nothing else installed (the WebSocket upgrade is the collection's
    own code).
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
      - The subscription server's host name, for example V(admin.uk1.avaya-sub.com). Sent as SNI and the HTTP C(Host),
        and the name the certificate must carry. The module does not resolve it; it connects to O(address).
    type: str
    required: true
  ca_path:
    description:
      - PEM file of the CA that must have issued the server's certificate (only this CA is trusted then).
      - Without it, the trust store of the host the check runs on is used.
    type: path
  client_cert:
    description:
      - PEM file of a client certificate the server accepts, for the WebSocket upgrade, that is the identity of an IP
        Office system registered with the customer, as that system presents it on its link. Give O(client_key) with it.
    type: path
  client_key:
    description:
      - PEM file of the private key of O(client_cert). Only its path is used in results; its content never is.
    type: path
  path:
    description:
      - HTTP path of the WebSocket upgrade. Avaya does not publish the link's path; V(/link/v1) is the one the
        collection's lab uses. Set it to the path your subscription server serves.
    type: str
    default: /link/v1
  timeout:
    description:
      - Seconds for each TCP connect and, separately, for each TLS handshake and WebSocket opening; more than 0,
        at most 60. The task takes at most about four times this.
    type: float
    default: 3
notes:
  - Only TLS up to 1.2 can be read this way; the probe never offers 1.3, and neither does the IP Office.
seealso:
  - module: ipoffice.subscription.port_check
  - module: ipoffice.subscription.link_quality_check
'''

EXAMPLES = r'''
- name: Check TLS to the subscription server on the port that is open
  ipoffice.subscription.tls_check:
    address: "{{ dns_result.resolved_address }}"
    port: "{{ ports_result.first_open_port }}"
    server_name: admin.uk1.avaya-sub.com
  register: tls_result
  failed_when: false

- name: Check with the expected CA and a client identity, so the WebSocket upgrade is tried too
  ipoffice.subscription.tls_check:
    address: 192.0.2.44
    server_name: admin.uk1.avaya-sub.com
    ca_path: /etc/ipoffice/com-ca.pem
    client_cert: /etc/ipoffice/site-identity.pem
    client_key: /etc/ipoffice/site-identity.key
  register: tls_result

- name: Show who issued the certificate the path presents
  ansible.builtin.debug:
    msg: "{{ tls_result.peer_certificate.issuer | default('no certificate') }}"
'''

RETURN = r'''
tls_version:
  description: The TLS version the server chose (C(TLSv1.2) when all is well); V(null) when none was negotiated.
  returned: unless O(validate_only=true)
  type: str
  sample: TLSv1.2
cipher:
  description: The cipher suite of the completed handshake; V(null) when the handshake did not complete.
  returned: unless O(validate_only=true)
  type: str
client_certificate_requested:
  description: Whether the server sent a CertificateRequest; V(null) when its first flight did not arrive.
  returned: unless O(validate_only=true)
  type: bool
server_handshake_messages:
  description: The handshake messages the server sent in the clear, in order.
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: [server_hello, certificate, server_key_exchange, certificate_request, server_hello_done]
server_alerts:
  description: TLS alerts the server sent in the clear.
  returned: unless O(validate_only=true)
  type: list
  elements: str
handshake_error:
  description: Why the first handshake did not complete (without a client certificate it cannot complete against
    a server that requires one; that is expected); V(null) when it completed.
  returned: unless O(validate_only=true)
  type: str
peer_certificate:
  description: The server's certificate as it arrived, verified or not; V(null) when none arrived.
  returned: unless O(validate_only=true)
  type: dict
  contains:
    subject:
      description: Subject, for example C(CN=admin.uk1.avaya-sub.com, O=...).
      type: str
    issuer:
      description: Issuer.
      type: str
    alt_names:
      description: Subject alternative names (C(DNS:...), C(IP:...)).
      type: list
      elements: str
    not_before:
      description: Start of validity (ISO 8601 UTC).
      type: str
    not_after:
      description: End of validity (ISO 8601 UTC).
      type: str
    verified:
      description: Whether it chains to O(ca_path) (or the trust store) and names O(server_name); V(null) when not judged.
      type: bool
    verify_error:
      description: Why it did not verify; V(null) when it did.
      type: str
certificate_chain:
  description: Subject and issuer of every certificate the server sent, leaf first.
  returned: unless O(validate_only=true)
  type: list
  elements: dict
websocket:
  description: The WebSocket upgrade.
  returned: unless O(validate_only=true)
  type: dict
  contains:
    state:
      description: V(upgraded), V(failed) or V(not_tried).
      type: str
    uri:
      description: The URI asked for (the connection goes to O(address)).
      type: str
    error:
      description: Why it failed or was not tried.
      type: str
checks:
  description:
    - One result per check, in the collection's check format, C(tls.version), C(tls.client_certificate_requested),
      C(tls.server_certificate), C(tls.websocket).
  returned: unless O(validate_only=true)
  type: list
  elements: dict
  contains:
    check:
      description: Stable name of the check.
      type: str
      sample: tls.version
    status:
      description: V(pass), V(fail) or V(not_measured).
      type: str
    passed:
      description: V(true) for pass, V(false) for fail, V(null) when not measured.
      type: bool
    measured:
      description: The version, whether a certificate was requested, the certificate's subject, or the HTTP status of
        the upgrade.
      type: raw
    limit:
      description: What the value is held to.
      type: raw
    unit:
      description: Unit of RV(checks[].measured); V(null) here.
      type: str
    summary:
      description: One line for people.
      type: str
    hint:
      description: What to fix; V(null) when the check passed.
      type: str
    details:
      description: Further facts, for example the certificate's issuer and names.
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
  sample: [tls.websocket]
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

WANTED_VERSION = 'TLSv1.2'


def _where(params):
    return '%s:%d' % (params['address'], params['port'])


def _no_tls_reason(shake, params):
    """Why no TLS version could be read, as (summary, hint)."""
    where = _where(params)
    if shake.tcp_state != 'open':
        return ('no TCP connection to %s: %s' % (where, shake.tcp_error),
                'TCP %d to %s is not open (%s): see ipoffice.subscription.port_check; the firewall must allow outbound '
                'TCP %d' % (params['port'], params['address'], shake.tcp_state, params['port']))
    if 'protocol_version' in shake.server.alert_names or 'VERSION' in (shake.error or '').upper():
        return ('the server at %s refused TLS 1.2 (%s)' % (where, shake.error or 'alert protocol_version'),
                'the IP Office speaks TLS 1.2 only: the server, or a proxy on the path, must accept TLS 1.2')
    if shake.error_kind == netprobe.TIMEOUT:
        return ('TCP %s is accepted but the TLS handshake gets no answer within %g s' % (where, params['timeout']),
                'a firewall or proxy accepts the connection and says nothing: the customer\'s firewall administrator lets '
                'outbound HTTPS to *.avaya-sub.com through without inspection (the link authenticates with client '
                'certificates, which TLS inspection breaks)')
    return ('no TLS handshake with %s: %s' % (where, shake.error),
            'a firewall or proxy on the path stops TLS to the subscription server: the customer\'s firewall administrator '
            'lets it through without inspection (exempt *.avaya-sub.com: the link authenticates with client certificates)')


def judge_version(shake, params):
    if shake.version:
        ok = shake.version == WANTED_VERSION
        return checks.passed_if(
            'tls.version', ok, measured=shake.version, limit=WANTED_VERSION,
            summary='the server at %s chose %s' % (_where(params), shake.version),
            hint=('the server chose %s; the IP Office speaks TLS 1.2: the server, or a proxy on the path, must '
                  'accept TLS 1.2' % shake.version), handshake_ms=shake.handshake_ms)
    summary, hint = _no_tls_reason(shake, params)
    return checks.result('tls.version', checks.FAIL, measured=None, limit=WANTED_VERSION, summary=summary, hint=hint,
                         error=shake.error or shake.tcp_error)


def judge_certificate_request(shake, params):
    server = shake.server
    if server.hello_done or server.certificate_requested or shake.completed:
        requested = server.certificate_requested
        return checks.passed_if(
            'tls.client_certificate_requested', requested, measured=requested, limit=True,
            summary=('the server asked for a client certificate (CertificateRequest): mutual authentication is possible'
                     if requested else 'the server did not ask for a client certificate'),
            hint=('the server at %s did not ask for a client certificate, so the IP Office cannot authenticate: '
                  'most likely a TLS-intercepting proxy terminates TLS on the path, or the address is not the '
                  'subscription server. The customer\'s firewall administrator exempts *.avaya-sub.com from TLS inspection: '
                  'the link authenticates with client certificates, which a proxy cannot present' % _where(params)),
            handshake_messages=server.handshake_names)
    return checks.result('tls.client_certificate_requested', checks.NOT_MEASURED, limit=True,
                         summary='not measured: the server\'s first TLS flight did not arrive (%s)' % (
                             shake.error or shake.tcp_error or 'no answer'),
                         handshake_messages=server.handshake_names)


def describe_chain(shake):
    described = []
    for der in shake.server.certificates:
        try:
            described.append(netprobe.describe_certificate(der))
        except netprobe.DERError as exc:
            described.append({'subject': None, 'issuer': None, 'error': 'unreadable certificate: %s' % exc})
    return described


def _certificate_hint(message, leaf, params):
    text = (message or '').lower()
    issuer = (leaf or {}).get('issuer') or 'an unknown issuer'
    if 'hostname mismatch' in text or 'ip address mismatch' in text:
        names = ', '.join((leaf or {}).get('alt_names') or []) or (leaf or {}).get('subject')
        return ('the certificate at %s does not name %s (it names %s): the address is not the subscription server, '
                'or a proxy answers for it: the customer\'s DNS must give COM\'s own address for it, and the firewall '
                'must not redirect *.avaya-sub.com' % (_where(params), params['server_name'], names))
    if 'expired' in text or 'not yet valid' in text:
        return ('the certificate is outside its validity (%s to %s): check the clock of the host the check runs on, '
                'then the certificate' % ((leaf or {}).get('not_before'), (leaf or {}).get('not_after')))
    return ('the certificate at %s is issued by "%s", not by the expected CA (%s): most likely a TLS-intercepting '
            'proxy (firewall TLS inspection), which will break the link because the IP Office trusts only COM\'s CA '
            'and must present its own certificate to COM. The customer\'s firewall administrator exempts *.avaya-sub.com '
            '(here %s, TCP 443 and 8443) from TLS inspection'
            % (_where(params), issuer, params['ca_path'] or 'the trust store', params['server_name']))


def judge_certificate(shake, chain, params):
    leaf = chain[0] if chain else None
    verified = shake.certificate_verified
    trusted = params['ca_path'] or 'the trust store'
    details = dict(issuer=(leaf or {}).get('issuer'), alt_names=(leaf or {}).get('alt_names'),
                   not_after=(leaf or {}).get('not_after'),
                   chain=[{'subject': item.get('subject'), 'issuer': item.get('issuer')} for item in chain])
    if verified is True:
        return checks.result('tls.server_certificate', checks.PASS, measured=(leaf or {}).get('subject'), limit=trusted,
                             summary='the certificate chains to %s and names %s' % (trusted, params['server_name']),
                             **details)
    if verified is False:
        return checks.result('tls.server_certificate', checks.FAIL, measured=(leaf or {}).get('subject'), limit=trusted,
                             summary='the certificate does not verify: %s (issuer: %s)' % (
                                 shake.verify_message, (leaf or {}).get('issuer')),
                             hint=_certificate_hint(shake.verify_message, leaf, params), verify_error=shake.verify_message,
                             **details)
    return checks.result('tls.server_certificate', checks.NOT_MEASURED, measured=(leaf or {}).get('subject'), limit=trusted,
                         summary='not measured: the handshake stopped before the certificate was judged (%s)' % (
                             shake.error or shake.tcp_error or 'no answer'), **details)


def _websocket_hint(kind, error, params):
    if kind == netprobe.FORBIDDEN:
        return ('%s: the subscription server does not accept this client identity; client_cert must be the certificate of '
                'an IP Office system registered with the customer (the one the IP Office itself presents), not one '
                'the server does not know' % error)
    if kind == 'status':
        return ('%s: the path %s is wrong for this server (see the path option), or a proxy answers instead of the '
                'subscription server' % (error, params['path']))
    if kind in ('tls', netprobe.CLOSED, netprobe.RESET):
        return ('the TLS handshake with the client certificate failed (%s): the server does not accept this '
                'identity, or a proxy on the path interferes' % error)
    if kind == 'tls_untrusted':
        return 'the server certificate does not verify (%s): see tls.server_certificate' % error
    if kind == netprobe.TIMEOUT:
        return 'the WebSocket upgrade got no answer in time: a proxy or firewall on the path holds it'
    return 'the WebSocket upgrade failed (%s): check the path to the subscription server' % error


def try_websocket(shake, params, context):
    """(check result, websocket facts)."""
    uri = netprobe.websocket_uri(params['server_name'], params['port'], params['path'])
    facts = {'state': 'not_tried', 'uri': uri, 'error': None}
    reason = None
    if not params['client_cert']:
        reason = ('no client_cert and client_key given: the server requires a client certificate, so the upgrade '
                  'cannot be tried without one')
    elif shake.tcp_state != 'open' or not shake.answered:
        reason = 'no TLS handshake with %s' % _where(params)
    elif shake.certificate_verified is False:
        reason = 'the server certificate does not verify, so the IP Office would stop before the upgrade'
    if reason:
        facts['error'] = reason
        return checks.result('tls.websocket', checks.NOT_MEASURED, limit=101, summary='not measured: %s' % reason,
                             uri=uri), facts
    started = time.monotonic()
    try:
        connection = netprobe.open_websocket(params['address'], params['port'], params['server_name'], context,
                                             params['path'], params['timeout'])
    except Exception as exc:  # pylint: disable=broad-except
        kind, text = netprobe.websocket_error(exc)
        facts.update(state='failed', error=text)
        return checks.result('tls.websocket', checks.FAIL, measured=None, limit=101,
                             summary='the WebSocket upgrade on %s failed: %s' % (uri, text),
                             hint=_websocket_hint(kind, text, params), uri=uri, error_kind=kind), facts
    elapsed = netprobe.ms(time.monotonic() - started)
    status, tls_version = connection.status, connection.tls_version
    netprobe.close_quietly(connection)
    facts.update(state='upgraded')
    return checks.result('tls.websocket', checks.PASS, measured=status, limit=101,
                         summary='the WebSocket upgrade on %s answered %s with the client certificate (%s ms)' % (uri, status, elapsed),
                         uri=uri, tls_version=tls_version, open_ms=elapsed), facts


def check_input(params, name=check_module.own_names):
    """Problems with the options, each naming the option (as name gives it) and the value; empty when all are good.
    Whether the files load as the CA and the client identity is prepare's part (loaded once)."""
    return check_module.problems(
        validators.check_ipv4(name('address'), params['address']),
        validators.check_port(name('port'), params['port']),
        validators.check_server_name(name('server_name'), params['server_name']),
        validators.check_readable_file(name('ca_path'), params['ca_path']),
        validators.check_readable_file(name('client_cert'), params['client_cert']),
        validators.check_readable_file(name('client_key'), params['client_key']),
        validators.check_url_path(name('path'), params['path']),
        validators.check_timeout(name('timeout'), params['timeout']),
    )


def prepare(params, name=check_module.own_names):
    """(context, problem): the verifying client context, loaded once for the input check and the checks, or why its
    files do not load (netprobe.load_client_context, shared with link_quality_check)."""
    return netprobe.load_client_context(params['ca_path'], params['client_cert'], params['client_key'], name)


def run_checks(params, context):
    """The checks, with the verifying client context that prepare loaded."""
    started = time.monotonic()
    shake = netprobe.tls_handshake(params['address'], params['port'], context, server_name=params['server_name'],
                                   timeout=params['timeout'])
    chain = describe_chain(shake)
    found = [judge_version(shake, params), judge_certificate_request(shake, params), judge_certificate(shake, chain, params)]
    websocket_result, websocket = try_websocket(shake, params, context)
    found.append(websocket_result)
    leaf = None
    if chain:
        leaf = dict((key, chain[0].get(key)) for key in ('subject', 'issuer', 'alt_names', 'not_before', 'not_after'))
        leaf['verified'] = shake.certificate_verified
        leaf['verify_error'] = shake.verify_message
    return check_module.run_result(
        found, 'TLS', check_module.elapsed_ms(started), tls_version=shake.version, cipher=shake.cipher,
        client_certificate_requested=(shake.server.certificate_requested
                                      if shake.server.hello_done or shake.server.certificate_requested else None),
        server_handshake_messages=shake.server.handshake_names, server_alerts=shake.server.alert_names,
        handshake_error=None if shake.completed else (shake.error or shake.tcp_error),
        peer_certificate=leaf, certificate_chain=[{'subject': item.get('subject'), 'issuer': item.get('issuer')} for item in chain],
        websocket=websocket)


def main():
    check_module.run(
        dict(
            address=dict(type='str', required=True),
            port=dict(type='int', default=443),
            server_name=dict(type='str', required=True),
            ca_path=dict(type='path'),
            client_cert=dict(type='path'),
            client_key=dict(type='path'),
            path=dict(type='str', default='/link/v1'),
            timeout=check_module.timeout_option(),
        ),
        check_input, run_checks, prepare=prepare, required_together=[('client_cert', 'client_key')])


if __name__ == '__main__':
    main()
