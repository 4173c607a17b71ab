# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow text syntaxes: ovs-dpctl's (Open vSwitch lib/odp-util.c), both
ways, the dict forms the Ansible modules take, and go-odp's ``odp flow`` flags.

Keys print as ``in_port(1),eth(src=..,dst=../ff:ff:ff:00:00:00),...`` and
actions as ``set(tunnel(...)),ct(commit,nat(src=..)),2``. The structured
forms (:func:`key_from_match`, :func:`actions_from_list`) reduce their input
to the same ``(name, value)`` items as the text and share everything after.

* :mod:`.lex`: items, ``name(args)``, did-you-mean;
* :mod:`.scalar`: every number, address and flag set, one parser and one
  printer per kind;
* :mod:`.attr`, :mod:`.key`, :mod:`.tunnel`, :mod:`.nsh`: the registry of key
  attributes; :mod:`.action`, :mod:`.options`: the registry of actions;
* :mod:`.flow`: dump lines and UFIDs; :mod:`.flags`: the ``odp flow`` flags;
  :mod:`.listing`: those flags for the many flows of one dump, by plans.

``format_key(..., verbose=True)`` is ``ovs-dpctl dump-flows -m``: every
attribute and field, with ``0/0`` for wildcards. Addresses also accept a
CIDR prefix length (``10.0.0.0/8``), which ovs-dpctl does not; masks always
print in ovs-dpctl's dotted/hex form.
"""

from .action import actions_from_list, format_actions, parse_actions
from .flow import format_flow, format_ufid, parse_flow, parse_ufid
from .key import ethernet_by_default, format_key, format_match, key_from_match, parse_key

__all__ = [
    "actions_from_list",
    "ethernet_by_default",
    "format_actions",
    "format_flow",
    "format_key",
    "format_match",
    "format_ufid",
    "key_from_match",
    "parse_actions",
    "parse_flow",
    "parse_key",
    "parse_ufid",
]
