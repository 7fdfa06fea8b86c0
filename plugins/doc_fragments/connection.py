# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  host:
    description:
      - Address or host name of the IP Office that serves the Management API.
      - For Server Edition, the Primary Server. For IP500 V2, the Application Server that hosts the API.
      - If not set, the value of the E(IPOFFICE_HOST) environment variable is used.
      - Required, except for modules run with C(state=rendered) or C(state=parsed), which work without a connection.
    type: str
  port:
    description:
      - TCP port of the Management API.
      - If not set, the value of the E(IPOFFICE_PORT) environment variable is used.
    type: int
    default: 7070
  username:
    description:
      - Service user in the rights group C(Management API Group) (rights C(Management API Read) and C(Management API Write)).
      - If not set, the value of the E(IPOFFICE_USERNAME) environment variable is used.
      - Required whenever O(host) is.
    type: str
  password:
    description:
      - Password of O(username). It is never logged or returned.
      - A rejected password is not retried, because IP Office locks an account after repeated failures.
      - If not set, the value of the E(IPOFFICE_PASSWORD) environment variable is used.
      - Required whenever O(host) is.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the API. Leave this on and give O(ca_path) for a private CA.
      - Turning it off prints a warning.
      - If not set, the value of the E(IPOFFICE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that issued the API's certificate.
      - If not set, the value of the E(IPOFFICE_CA_PATH) environment variable is used, else the system's trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection or an answer, per request (1 to 3600).
      - If not set, the value of the E(IPOFFICE_TIMEOUT) environment variable is used.
    type: int
    default: 30
  retries:
    description:
      - How many times a request is repeated after a server error (HTTP 5xx) or a failed connection (0 to 10), with a
        growing pause that honours C(Retry-After).
      - A write is repeated only when it surely was not applied (HTTP 503, or connection refused).
      - A rejected password is never repeated.
      - If not set, the value of the E(IPOFFICE_RETRIES) environment variable is used.
    type: int
    default: 3
  node_address:
    description:
      - LAN1 address of the node to act on, sent as the C(ipaddress) query parameter.
      - For Server Edition, a Secondary or Expansion reached through the Primary; for IP500 V2, a system registered on
        the Application Server.
      - If not set, the value of the E(IPOFFICE_NODE_ADDRESS) environment variable is used; without it, reads cover the
        whole solution and writes go to the Primary.
    type: str
  api_profile:
    description:
      - Where this IP Office release keeps each subscription setting (the default route, DNS, time, customer ID,
        licence server, COMAdmin), or that a person must enter it in Web Manager. Avaya's Management API guide
        documents none of them; see the collection's C(docs/real-systems.md).
      - V(auto) reads the node and uses the collection's model resources and fields that it actually serves; every other
        setting becomes a manual step (returned in C(manual_steps)) with the Web Manager path, label and value. It never writes a
        field it has not first seen the node return.
      - V(model) uses the model resources and fields (what the bundled lab serves); a field the node does not return
        fails the task before any write.
      - V(documented) uses only what Avaya documents, so every setting is a manual step.
      - V(pbxlicense) is V(documented) with the customer ID and licence server written to the guide's C(PBXLicense)
        fields. That mapping is an inference from the guide's one example; on a system licensed another way those
        fields mean something else, so it is never chosen by V(auto).
      - A path to a YAML or JSON profile file, or a dict in the same format, names each setting's resource and field
        path (C(docs/real-systems.md), "Writing a profile").
      - If not set, the value of the E(IPOFFICE_API_PROFILE) environment variable is used.
    type: raw
    default: auto
notes:
  - The modules run on the controller (or a delegate) and talk HTTPS to the IP Office themselves; no connection plugin
    is involved. Use C(module_defaults) with the action group C(group/ipoffice.subscription.api) to set the connection
    options once per play.
'''
