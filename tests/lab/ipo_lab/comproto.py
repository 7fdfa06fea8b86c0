"""The lab's subscription-link protocol between an emulated IP Office and the COM simulator.

Avaya does not publish the link protocol; the seeds say only that it is an
HTTP WebSocket over TLS 1.2 with mutual authentication carrying a heartbeat,
licence requests and checks, and basic details of the system (server types,
software version). This is the lab's stand-in, in JSON text frames on the
WebSocket path ``LINK_PATH``:

system -> COM                                   COM -> system
-----------------------------------------------------------------------------
hello {customer_id, system: {name, guid,         welcome {link_id, heartbeat_seconds, time}
       type, version, server_types, lan1},       reject {reason, text}   (then COM closes)
       time}
license_request {}                               licenses {entitlements: [ENTITLEMENT...], time}
license_check {keys: [...]}                      licenses {...}   (the current state, same form)
heartbeat {seq, time}                            heartbeat_ack {seq, time}
speedtest {bytes}                                one binary frame of that many bytes (throughput checks)
                                                 licenses {...}   (pushed unsolicited when COM's
                                                                  subscriptions for the customer change)

ENTITLEMENT = {key, display_name, type, quantity, expires: "YYYY-MM-DD"}

``time`` fields are seconds since the epoch (float). Reject reasons are the
REJECT_* constants. Anything else COM answers with ``error {text}``.

COM knows each client by its certificate: the subject CN names one system, and
the topology registers each system to one customer. A certificate that names no
registered system is refused at the WebSocket upgrade (HTTP 403, before any
frame); a hello whose system name is not the certificate's system, or whose
customer_id is not that system's customer, is rejected with
``REJECT_IDENTITY_MISMATCH``.
"""

from __future__ import annotations

import json

LINK_PATH = '/link/v1'

HELLO = 'hello'
WELCOME = 'welcome'
REJECT = 'reject'
LICENSE_REQUEST = 'license_request'
LICENSE_CHECK = 'license_check'
LICENSES = 'licenses'
HEARTBEAT = 'heartbeat'
HEARTBEAT_ACK = 'heartbeat_ack'
SPEEDTEST = 'speedtest'
ERROR = 'error'

REJECT_UNKNOWN_CUSTOMER = 'unknown_customer'
REJECT_CLOCK_SKEW = 'clock_skew'
REJECT_BAD_HELLO = 'bad_hello'
REJECT_IDENTITY_MISMATCH = 'identity_mismatch'

SPEEDTEST_MAX_BYTES = 4 * 1024 * 1024


def message(kind, **fields):
    """One frame's text."""
    return json.dumps(dict(fields, type=kind), sort_keys=True)


def parse(text):
    """A frame's text -> dict with at least "type"; ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get('type'), str):
        raise ValueError('not a link message: %r' % (text[:80],))
    return data


def entitlement(key, display_name, license_type, quantity, expires):
    return {'key': key, 'display_name': display_name, 'type': license_type, 'quantity': quantity,
            'expires': expires.isoformat() if hasattr(expires, 'isoformat') else str(expires)}
