"""Turn the Markdown guides in docs/ into the extra docs of the collection's docs site.

antsibull-docs takes extra docs only as reStructuredText under
docs/docsite/rst/, listed in docs/docsite/extra-docs.yml. The guides are
written once, in Markdown (Galaxy and the repository show them as they are),
so this converts each one with pandoc when a docs site or a tarball is made:

    python scripts/docsite_rst.py COLLECTION_ROOT

It writes docs/docsite/rst/<guide>.rst for every docs/<guide>.md, each with the
label antsibull-docs requires, and adds to docs/docsite/extra-docs.yml (in that
copy) any guide that file does not list yet, saying so. Run it on a copy of the
tree, never on the checkout: the .rst files are build output.
"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

LABEL = 'ansible_collections.ipoffice.subscription.docsite.%s'


def main(root):
    docs = os.path.join(root, 'docs')
    rst_dir = os.path.join(docs, 'docsite', 'rst')
    index_path = os.path.join(docs, 'docsite', 'extra-docs.yml')
    with open(os.path.join(root, 'galaxy.yml'), encoding='utf-8') as handle:
        repository = yaml.safe_load(handle)['repository']
    with open(index_path, encoding='utf-8') as handle:
        index = yaml.safe_load(handle)
    listed = set(entry if isinstance(entry, str) else entry['ref'] for section in index['sections'] for entry in section['toctree'])
    guides = sorted(name[:-3] for name in os.listdir(docs) if name.endswith('.md'))
    os.makedirs(rst_dir, exist_ok=True)
    filter_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'docsite_links.lua')
    for guide in guides:
        env = dict(os.environ, IPO_REPOSITORY_URL=repository, IPO_SOURCE_PATH='docs/%s.md' % guide)
        # --columns: wide enough that pandoc never wraps a table cell (a wrapped literal breaks in RST).
        body = subprocess.run(['pandoc', '--from=gfm-gfm_auto_identifiers', '--to=rst', '--columns=2000', '--lua-filter', filter_path,
                               os.path.join(docs, guide + '.md')],
                              check=True, capture_output=True, text=True, env=env).stdout
        with open(os.path.join(rst_dir, guide + '.rst'), 'w', encoding='utf-8') as handle:
            handle.write('.. _%s:\n\n%s' % (LABEL % guide, body))
    missing = [guide for guide in guides if guide not in listed]
    if missing:
        print('docs/docsite/extra-docs.yml does not list %s: added to its last section here; list them there'
              % ', '.join(missing))
        index['sections'][-1]['toctree'].extend(missing)
        with open(index_path, 'w', encoding='utf-8') as handle:
            yaml.safe_dump(index, handle, sort_keys=False)
    unknown = sorted(listed - set(guides))
    if unknown:
        sys.exit('docs/docsite/extra-docs.yml lists guides that docs/ does not have: %s' % ', '.join(unknown))
    print('%d guides converted to %s' % (len(guides), os.path.relpath(rst_dir, root)))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
