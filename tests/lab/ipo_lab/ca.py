"""The lab CA, the rogue CA and the TLS contexts of the listeners.

Both CAs persist in the state folder (``ca.pem`` + ``ca.key``,
``rogue-ca.pem`` + ``rogue-ca.key``) so a client configured with ``ca.pem``
keeps trusting the lab across restarts. Each listener gets its own leaf
certificate (its IP as IP SAN, plus ``localhost``). The rogue CA signs a second
certificate per listener that the control API can switch to, so a test can show
a client refusing a certificate the lab CA did not sign. The switch happens in
the TLS handshake (the server-name callback runs for every ClientHello, with or
without SNI), so no listener has to restart.
"""

from __future__ import annotations

import os
import ssl

import trustme

from .state import write_atomic


def _load_or_create(state_dir, stem, organization):
    cert_path = os.path.join(state_dir, stem + '.pem')
    key_path = os.path.join(state_dir, stem + '.key')
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, 'rb') as handle:
            cert = handle.read()
        with open(key_path, 'rb') as handle:
            key = handle.read()
        return trustme.CA.from_pem(cert, key), cert_path
    authority = trustme.CA(organization_name=organization)
    # write_atomic creates files with mode 0600, which suits the key.
    write_atomic(key_path, authority.private_key_pem.bytes())
    write_atomic(cert_path, authority.cert_pem.bytes())
    os.chmod(cert_path, 0o644)
    return authority, cert_path


def _server_context(leaf):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(context)
    return context


class LabCA:
    def __init__(self, state_dir):
        self.lab, self.ca_file = _load_or_create(state_dir, 'ca', 'IP Office Lab CA')
        self.rogue, self.rogue_ca_file = _load_or_create(state_dir, 'rogue-ca', 'Rogue CA (not the lab)')
        self._rogue_contexts = {}

    def _rogue_context(self, address):
        # Made on first use: most runs never switch a listener to the rogue certificate.
        if address not in self._rogue_contexts:
            self._rogue_contexts[address] = _server_context(self.rogue.issue_cert(address, 'localhost', common_name=address))
        return self._rogue_contexts[address]

    def server_context(self, address, cert_mode):
        """TLS context for one listener; cert_mode() says "lab" or "rogue" at each handshake."""
        context = _server_context(self.lab.issue_cert(address, 'localhost', common_name=address))

        def pick_certificate(ssl_object, server_name, current):
            if cert_mode() == 'rogue':
                ssl_object.context = self._rogue_context(address)

        context.sni_callback = pick_certificate
        return context
