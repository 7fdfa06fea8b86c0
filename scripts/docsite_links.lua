-- pandoc filter used by scripts/docsite_rst.py: links between the Markdown
-- guides become Sphinx references, links to other files of the repository
-- point at the repository, so no link of the docs site is broken.
local prefix = 'ansible_collections.ipoffice.subscription.docsite.'
local repository = os.getenv('IPO_REPOSITORY_URL') or ''
local source = os.getenv('IPO_SOURCE_PATH') or 'docs/'

local function normalise(path)
  local parts = {}
  for part in string.gmatch(path, '[^/]+') do
    if part == '..' then table.remove(parts) elseif part ~= '.' then table.insert(parts, part) end
  end
  return table.concat(parts, '/')
end

function Link(link)
  local target = link.target
  if target:match('^%a[%w+.-]*:') or target:match('^#') then
    return nil  -- a URL or an anchor in the same guide: kept as it is
  end
  local path, anchor = target:match('^([^#]*)(#?.*)$')
  local resolved = normalise(source:gsub('[^/]*$', '') .. path)
  local guide = resolved:match('^docs/([%w_-]+)%.md$')
  if guide then
    local text = pandoc.utils.stringify(link.content)
    return pandoc.RawInline('rst', ':ref:`' .. text:gsub('`', '') .. ' <' .. prefix .. guide .. '>`')
  end
  link.target = repository .. '/blob/main/' .. resolved .. anchor
  return link
end

-- A code block without a language is plain text: the docs site would
-- otherwise highlight it as YAML+Jinja and warn when that fails.
function CodeBlock(block)
  if #block.classes == 0 then
    block.classes = {'text'}
  end
  return block
end
