# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``flow add`` options of the many flows of one dump, by format plans.

:func:`.flags.format_flow_words` decides for every flow which fields print,
how their masks read and whether the flags say it all; in a megaflow dump
the flows share a handful of masks, so :class:`DumpFormatter` decides that
once per mask shape (the mask's bytes and the key's attribute names) and
keeps a plan: a function of the key's values alone. Action lists repeat too:
their words are kept per action bytes. Both memos are bounded. The words
are exactly :func:`.flags.format_flow_words`'s (the unit test compares them
on every captured flow); a flow whose mask or actions were already decoded
(and so may have been changed by its caller) takes that general path.
"""

from __future__ import annotations

from copy import deepcopy

from .context import Ctx
from .flags import (
    KEY_FLAGS,
    TEXT_KEY,
    flag_value,
    format_action_words,
    format_flow_words,
    key_flag_fields,
    mask_text,
)
from .key import key_formatter
from .scalar import KINDS

# Shapes and action lists kept per dump: a megaflow table has a handful of
# masks, and a table of distinct action lists stops being memoised.
MAX_PLANS = 256
MAX_ACTIONS = 4096
_KEY_PREFIX = "--%s=" % TEXT_KEY
_FLAG_PREFIX = {flag.name: "--%s=" % flag.name for flag in KEY_FLAGS}


class DumpFormatter:
    """``words(flow)``: :func:`.flags.format_flow_words` of a dumped flow
    (``flow.payloads()`` gives its undecoded mask and action bytes), with
    vport names from ``port_names``, each word passed through ``quote``
    (the action words once per action list)."""

    def __init__(self, port_names: dict | None = None, quote=None) -> None:
        self.port_names = port_names
        self.quote = quote or (lambda word: word)
        self.ctx = Ctx(port_names=port_names)
        self.plans: dict = {}
        self.actions: dict = {}

    def words(self, flow) -> list[str]:
        payloads = flow.payloads()
        if payloads is None:
            words = format_flow_words(flow.key, flow.mask, flow.actions, self.port_names)
            return [self.quote(word) for word in words]
        mask_raw, actions_raw = payloads
        key = flow.key
        shape = (mask_raw, tuple(key))
        plan = self.plans.get(shape)
        if plan is None:
            if len(self.plans) >= MAX_PLANS:
                self.plans.clear()
            plan = self.plans[shape] = self._plan(key, deepcopy(flow.mask))
        action_words = self.actions.get(actions_raw)
        if action_words is None:
            if len(self.actions) >= MAX_ACTIONS:
                self.actions.clear()
            action_words = self.actions[actions_raw] = [
                self.quote(word) for word in format_action_words(flow.actions, self.port_names)
            ]
        return plan(key) + action_words

    def _plan(self, key, mask):
        """The key words of every key of ``key``'s shape under ``mask``."""
        fields = key_flag_fields(key, mask)
        quote = self.quote
        if fields is None:
            text = key_formatter(key, mask, self.ctx)
            return lambda key: [quote(_KEY_PREFIX + text(key))]
        ctx = self.ctx
        flags = [
            (
                attr,
                field,
                _FLAG_PREFIX[flag.name],
                KINDS[flag.scalar][1],
                flag.bits,
                mask_text(flag, field_mask),
            )
            for flag, attr, field, field_mask in fields
        ]
        return lambda key: [
            quote(prefix + fmt(flag_value(key, attr, field), bits, ctx) + suffix)
            for attr, field, prefix, fmt, bits, suffix in flags
        ]
