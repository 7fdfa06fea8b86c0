# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Every module that changes state.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the IP Office.
  diff_mode:
    description: Returns what changed, or would change in check mode, as C(before) and C(after).
  idempotent:
    description: A second run with the same arguments reports no change and writes nothing.
'''

    # Modules that change state and support every attribute fully.
    CONFIG_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return the changed status it predicts without changing the IP Office.
  diff_mode:
    support: full
    description: Returns what changed, or would change in check mode, as C(before) and C(after).
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and writes nothing.
'''

    # Modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads; it runs the same in check mode.
    description: Can run in check mode and return the changed status it predicts without changing the IP Office.
  diff_mode:
    support: N/A
    details: This module only reads.
    description: Returns what changed, or would change in check mode, as C(before) and C(after).
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and writes nothing.
'''

    ACTIONGROUP_API = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/ipoffice.subscription.api) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - ipoffice.subscription.api
'''
