# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every check module's RETURN says what a validate_only run returns: each key documented as returned always is in the
result of the module's own main(), run with validate_only and real module arguments."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ipoffice.subscription.plugins.module_utils import check_module
from ansible_collections.ipoffice.subscription.plugins.modules import dns_check, link_quality_check, port_check, time_check, tls_check

# The required options of each check module, with values its input check accepts.
MODULES = [
    (dns_check, {'server': '192.0.2.53', 'server_address': 'admin.uk1.avaya-sub.com'}),
    (port_check, {'address': '192.0.2.44'}),
    (tls_check, {'address': '192.0.2.44', 'server_name': 'admin.uk1.avaya-sub.com'}),
    (time_check, {'server': '192.0.2.123', 'time_zone': ''}),
    (link_quality_check, {'address': '192.0.2.44', 'max_round_trip_ms': 200, 'min_throughput_kbps': 128}),
]


@pytest.mark.parametrize('module, args', MODULES, ids=[module.__name__.rsplit('.', 1)[-1] for module, _args in MODULES])
def test_a_validate_only_result_holds_every_key_documented_as_always(module, args, capsys):
    documented = yaml.safe_load(module.RETURN)
    always = sorted(key for key, entry in documented.items() if entry.get('returned') == 'always')
    with patch_module_args(dict(args, validate_only=True)):
        with pytest.raises(SystemExit) as caught:
            module.main()
    result = json.loads(capsys.readouterr().out)
    assert caught.value.code == 0 and result['msg'] == check_module.VALIDATED, result
    assert always == ['msg'] and set(always) <= set(result)
    # The rest is documented as missing from a validate_only run, and is missing.
    assert not (set(documented) - set(always)) & set(result)
