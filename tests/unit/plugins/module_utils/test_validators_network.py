# -*- coding: utf-8 -*-
# Copyright (c) ipoffice.subscription contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validators the network checks added: port lists and URL paths."""

from __future__ import annotations

import pytest

from ansible_collections.ipoffice.subscription.plugins.module_utils import validators


@pytest.mark.parametrize('value', [[443], [443, 8443], [8443, 443], list(range(1, 17))])
def test_good_port_lists(value):
    assert validators.check_port_list('ports', value) is None


@pytest.mark.parametrize('value, fragment', [
    ([], 'ports must be a non-empty list'), (None, 'ports must be a non-empty list'),
    ([443, 443], 'ports must not name a port twice: got [443, 443]'), ([0], 'ports[0] must be a TCP port from 1 to 65535: got 0 (in [0])'),
    ([443, 70000], 'ports[1] must be a TCP port'), ([True], 'ports[0] must be a TCP port'),
    (list(range(1, 18)), 'ports must list at most 16 ports: got 17'),
])
def test_bad_port_lists_name_option_and_value(value, fragment):
    assert fragment in validators.check_port_list('ports', value)


@pytest.mark.parametrize('value', ['/link/v1', '/', '/a/b-c_d.e~f/%20', '/ws;v=1'])
def test_good_url_paths(value):
    assert validators.check_url_path('path', value) is None


@pytest.mark.parametrize('value', ['link/v1', '', None, 'wss://x/link', '/link v1', '/link?x=1', '/link#a', '/' + 'a' * 1024])
def test_bad_url_paths_name_option_and_value(value):
    message = validators.check_url_path('path', value)
    assert message.startswith('path must be a URL path starting with /') and repr(value)[:20] in message
