"""The lab CA, the rogue CA and the TLS contexts of the listeners.

Both CAs persist in the state folder (``ca.pem`` + ``ca.key``,
``rogue-ca.pem`` + ``rogue-ca.key``) so a client configured with ``ca.pem``
keeps trusting the lab across restarts. Each listener gets its own leaf
certificate (its IP as IP SAN, plus ``localhost``). The rogue CA signs a second
certificate per listener that the control API can switch to, so a test can show
a client refusing a certificate the lab CA did not sign. The switch happens in
the TLS handshake (the server-name callback runs for every ClientHello, with or
without SNI), so no listener has to restart.

The same CA signs the COM simulator's server certificate (its DNS names and
address) and the client identities: one per emulated system, its subject CN the
system's name (what the IP Office presents on its subscription link, and what
the readiness checks present in its place). Identities are written to
``STATE/identities/<name>.pem`` (certificate) and ``<name>.key`` (mode 0600).
COM accepts only the identity of a system registered to a customer (com.py).
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


def _server_context(leaf, tls12_only=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls12_only:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(context)
    return context


class LabCA:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.lab, self.ca_file = _load_or_create(state_dir, 'ca', 'IP Office Lab CA')
        self.rogue, self.rogue_ca_file = _load_or_create(state_dir, 'rogue-ca', 'Rogue CA (not the lab)')
        self._rogue_contexts = {}
        self.identities_dir = os.path.join(state_dir, 'identities')

    def identity(self, name):
        """(certificate file, key file) of a client identity signed by the lab CA; made once, then reused."""
        os.makedirs(self.identities_dir, exist_ok=True)
        cert_path = os.path.join(self.identities_dir, name + '.pem')
        key_path = os.path.join(self.identities_dir, name + '.key')
        if not (os.path.exists(cert_path) and os.path.exists(key_path)):
            leaf = self.lab.issue_cert(name, common_name=name, organization_name='IP Office Lab')
            write_atomic(key_path, leaf.private_key_pem.bytes())
            write_atomic(cert_path, b''.join(blob.bytes() for blob in leaf.cert_chain_pems))
            os.chmod(cert_path, 0o644)
        return cert_path, key_path

    def com_context(self, names, address, cert_mode):
        """COM's TLS context: TLS 1.2 only, a client certificate from the lab CA required.

        cert_mode() says "lab" or "rogue" at each handshake; the rogue
        certificate stands for a TLS-intercepting proxy on the path.
        """
        def build(authority):
            context = _server_context(authority.issue_cert(*(list(names) + [address]), common_name=names[0] if names else address),
                                      tls12_only=True)
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=self.ca_file)
            return context

        context = build(self.lab)
        rogue = []

        def pick_certificate(ssl_object, server_name, current):
            if cert_mode() == 'rogue':
                if not rogue:
                    rogue.append(build(self.rogue))
                ssl_object.context = rogue[0]

        context.sni_callback = pick_certificate
        return context

    def client_context(self, identity_name, tls12_only=True):
        """What an emulated IP Office uses on its link: its identity, the lab CA as the only trust, TLS 1.2."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if tls12_only:
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cafile=self.ca_file)
        cert_path, key_path = self.identity(identity_name)
        context.load_cert_chain(cert_path, key_path)
        return context

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
