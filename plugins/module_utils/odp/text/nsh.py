# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nsh(...)`` and ``push_nsh(...)``: one flat list as ovs-dpctl prints it,
split into the ``base`` and ``md1`` structs (and the ``md2`` bytes)."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..keys import NSH_KEY
from .attr import Fields, Syntax
from .lex import did_you_mean, items_of
from .scalar import format_masked, hex_bytes, pack, parse_hex_bytes, unpack

SPI_SI_FIELDS = (("spi", 8, 24, "hex"), ("si", 0, 8, "int"))
_BASE = Fields(NSH_KEY.by_name["base"][1])
# NSH prints its context fields as 0x%x (``c2=0x0``), unlike C's %#x elsewhere.
_MD1 = Fields(NSH_KEY.by_name["md1"][1], kinds=dict.fromkeys(("c1", "c2", "c3", "c4"), "hex0x"))
_BASE_NAMES = ("flags", "ttl", "mdtype", "np")
_MD1_NAMES = ("c1", "c2", "c3", "c4")


class Nsh(Syntax):
    always_printed = True

    def __init__(self, maskable: bool = True):
        self.maskable = maskable  # push_nsh takes exact values

    def parse(self, args, field, ctx):
        key: dict[str, Any] = {}
        mask: dict[str, Any] = {}
        base, md1, spi_si = [], [], []
        for name, text in items_of(args, field):
            if name in _BASE_NAMES:
                base.append((name, text))
            elif name in _MD1_NAMES:
                md1.append((name, text))
            elif name in ("spi", "si"):
                spi_si.append((name, text))
            elif name == "md2":
                key["md2"] = parse_hex_bytes(text, field + ".md2")
                mask["md2"] = b"\xff" * len(key["md2"])
            else:
                raise ValidationError(
                    "%s.%s" % (field, name),
                    text,
                    "unknown field"
                    + did_you_mean(name, _BASE_NAMES + _MD1_NAMES + ("spi", "si", "md2")),
                )
        if base or spi_si:
            key["base"], mask["base"] = _BASE.parse_items(base, field, None, self.maskable)
            key["base"]["spi_si"], mask["base"]["spi_si"] = pack(
                SPI_SI_FIELDS, spi_si, field, maskable=self.maskable
            )
        if md1:
            key["md1"], mask["md1"] = _MD1.parse_items(md1, field, None, self.maskable)
        return key, mask

    def format(self, value, mask, ctx):
        parts = []
        if "base" in value:
            base, base_mask = value["base"], None if mask is None else mask.get("base", {})
            for name in _BASE_NAMES:
                field_mask = None if base_mask is None else base_mask.get(name, 0)
                if field_mask != 0 or ctx.verbose:
                    parts.append(
                        "%s=%s"
                        % (
                            name,
                            format_masked(_BASE.codec.kinds[name], 8, base[name], field_mask, ctx),
                        )
                    )
            spi_mask = None if base_mask is None else base_mask.get("spi_si", 0)
            parts += unpack(
                SPI_SI_FIELDS, base.get("spi_si", 0), spi_mask, lambda _n, _v, m: m or ctx.verbose
            )
        if "md1" in value:
            md1_mask = None if mask is None else mask.get("md1", {})
            parts.append(_MD1.format(value["md1"], md1_mask, ctx))
        if "md2" in value:
            parts.append("md2=0x" + hex_bytes(value["md2"], ""))
        return ",".join(p for p in parts if p)

    def zero_mask(self, value):
        return {}
