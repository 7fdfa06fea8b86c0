# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # The options every check module has (plugins/module_utils/check_module.py).
    DOCUMENTATION = r'''
options:
  validate_only:
    description:
      - Only check the options, as the module does before it measures anything, and return without sending anything.
        The result then holds only RV(msg) and C(changed); bad options fail the task as they always do.
      - The roles use it to check their settings once, on the controller, before they read any system.
    type: bool
    default: false
  option_names:
    description:
      - "How the messages about bad options name them, as V({option: name}), for example V({port: validate_dns_port})
        when the values come from a role's variables. An option not named here keeps its own name."
    type: dict
    default: {}
'''
