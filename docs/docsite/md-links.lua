-- pandoc filter for docs/docsite/render: the guides as the docsite needs
-- them. A link to another guide (name.md, with or without #anchor) becomes
-- a :ref: to that guide's label; a link to any other file of the repository
-- (the docsite has no such page) keeps its text, as code.
local prefix = "ansible_collections.vswitch.odp.docsite."

function Link(link)
  local target = link.target
  if target:match("^%a[%w+.-]*:") or target:match("^#") then
    return nil -- an absolute URL or an anchor on the same page
  end
  local guide = target:match("^([%w_-]+)%.md$") or target:match("^([%w_-]+)%.md#")
  if guide then
    local text = pandoc.utils.stringify(link.content)
    return pandoc.RawInline("rst", ":ref:`" .. text .. " <" .. prefix .. guide .. ">`")
  end
  return pandoc.Code(pandoc.utils.stringify(link.content))
end

-- No section labels: antsibull-docs wants every label under the prefix, and
-- the guides link to each other by guide, not by section.
function Header(header)
  header.identifier = ""
  return header
end

-- A word ending in "_" (ODP_, ODP_*) would be an RST reference: escape it.
function Str(str)
  local word, rest = str.text:match("^(.-%w)_(%p*)$")
  if word then
    return { pandoc.Str(word), pandoc.RawInline("rst", "\\_"), pandoc.Str(rest) }
  end
  return nil
end
