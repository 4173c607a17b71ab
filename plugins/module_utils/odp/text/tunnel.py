# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``tunnel(...)``: fields in ovs-dpctl's order, then ``flags(...)``; Geneve
options as ``geneve({class=..,type=..,len=..,0x<data>}...)`` and VXLAN GBP
as ``vxlan(gbp(id=..,flags=..))``.

``key`` in the flags is tun_id's presence in ovs; it is accepted on input
and printed from tun_id.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from ..attrs import Unknown
from ..errors import ValidationError
from ..keys import TUNNEL_FLAGS, TUNNEL_KEY, TUNNEL_ORDER
from .attr import Syntax, format_raw, parse_raw, raw_number
from .lex import did_you_mean, items_of, split
from .scalar import (
    format_masked,
    full,
    hex_bytes,
    pack,
    parse_flags,
    parse_hex_bytes,
    parse_masked,
    unpack,
)

GBP_FIELDS = (("id", 0, 16, "int"), ("flags", 16, 8, "hex"))
# The bits of flags(...): the tunnel flags, and ovs's "key" (tun_id present).
_FLAG_BITS = [(1 << i, name) for i, name in enumerate((*TUNNEL_FLAGS, "key"))]
_FLAG_WORDS = (*TUNNEL_FLAGS[:2], "key", *TUNNEL_FLAGS[2:])  # ovs-dpctl's order


class Tunnel(Syntax):
    always_printed = True

    def parse(self, args, field, ctx):
        key: dict[str, Any] = {}
        mask: dict[str, Any] = {}
        for name, text in items_of(args, field):
            sub = "%s.%s" % (field, name)
            if name == "flags":
                _parse_flags(text, key, mask, sub)
                continue
            entry = TUNNEL_KEY.by_name.get(name)
            if entry is None or name in TUNNEL_FLAGS:
                number = raw_number(name, TUNNEL_KEY.unknown_prefix)
                if number is None:
                    raise ValidationError(
                        sub,
                        text,
                        "unknown tunnel field"
                        + did_you_mean(
                            name, [n for n in TUNNEL_ORDER if n not in TUNNEL_FLAGS] + ["flags"]
                        ),
                    )
                known = TUNNEL_KEY.by_id.get(number)
                name = known[0] if known else name
                key[name], mask[name] = parse_raw(TUNNEL_KEY, number, text, sub)
                continue
            if name in key:
                raise ValidationError(sub, text, "field given twice")
            codec = entry[1]
            if name == "geneve":
                key[name], mask[name] = _parse_geneve(text, sub)
            elif name == "vxlan":
                gbp = dict(items_of(text, sub)).get("gbp")
                if gbp is None:
                    raise ValidationError(sub, text, "expected vxlan(gbp(id=N,flags=N))")
                value, gbp_mask = pack(GBP_FIELDS, items_of(gbp, sub + ".gbp"), sub + ".gbp")
                key[name], mask[name] = {"gbp": value}, {"gbp": gbp_mask}
            elif codec.kind == "bytes":
                key[name] = parse_hex_bytes(text, sub)
                mask[name] = b"\xff" * len(key[name])
            else:
                key[name], mask[name] = parse_masked(codec.kind, codec.bits, text, sub, ctx)
        return _ordered(key), _ordered(mask)

    def format(self, value, mask, ctx):
        parts = []
        for name, attr_value in _ordered(value).items():  # the kernel's order, as dumped
            if name in TUNNEL_FLAGS:
                continue
            field_mask = None if mask is None else mask.get(name)
            if mask is not None and field_mask is None and not ctx.verbose:
                continue
            if isinstance(attr_value, Unknown):
                parts.append("%s(%s)" % (name, format_raw(attr_value, field_mask)))
            elif name == "geneve":
                parts.append("geneve(%s)" % _format_geneve(attr_value, field_mask))
            elif name == "vxlan":
                gbp_mask = None if field_mask is None else field_mask.get("gbp", 0)
                parts.append(
                    "vxlan(gbp(%s))"
                    % ",".join(unpack(GBP_FIELDS, attr_value.get("gbp", 0), gbp_mask))
                )
            elif isinstance(attr_value, bytes):
                parts.append("%s(%s)" % (name, hex_bytes(attr_value, "")))
            else:
                codec = TUNNEL_KEY.by_name[name][1]
                parts.append(
                    "%s=%s"
                    % (name, format_masked(codec.kind, codec.bits, attr_value, field_mask, ctx))
                )
        flags = _format_flags(value, mask)
        return ",".join(parts + ([flags] if flags else []))

    def zero_mask(self, value):
        return {}


def _ordered(attrs):
    return dict(
        sorted(attrs.items(), key=lambda kv: (TUNNEL_ORDER.get(kv[0], len(TUNNEL_ORDER)), kv[0]))
    )


def _parse_flags(text, key, mask, field):
    if isinstance(text, (list, tuple)):
        text = "|".join(text)
    if text is None or not str(text).strip():
        return
    value, flag_mask = parse_flags(text, _FLAG_BITS, 8, full(3), field)  # exact: df, csum, oam
    for bit, name in _FLAG_BITS[:-1]:
        if flag_mask & bit:
            mask[name] = True
            if value & bit:
                key[name] = True


def _format_flags(value, mask):
    has_key = "tun_id" in value and (mask is None or "tun_id" in mask)
    # ovs-dpctl's exact form: df, csum and oam all matched (ipv4_info_bridge is ours).
    exact = (
        all(mask.get(f) for f in TUNNEL_FLAGS[:3]) and not mask.get(TUNNEL_FLAGS[3])
        if mask is not None
        else True
    )
    if exact:
        words = [n for n in _FLAG_WORDS if (has_key if n == "key" else value.get(n))]
        if words or mask is None:
            return "flags(%s)" % "|".join(words) if words else ""
        # All three matched and clear: only the masked form says so.
    words = []
    for name in _FLAG_WORDS:
        if name == "key":
            words.append("+key" if has_key else "")
        elif mask.get(name):
            words.append(("+" if value.get(name) else "-") + name)
    return "flags(%s)" % "".join(words) if any(words) else ""


def _parse_geneve(text, field):
    """``{class=0x102,type=0x80,len=4,0xa}...``: Geneve options, each with an
    optional ``/mask`` per part; value and mask are the option bytes."""
    text = str(text).strip()
    if not text.startswith("{") or not text.endswith("}"):
        raise ValidationError(field, text, "expected {class=..,type=..,len=..,0x<data>}...")
    value, mask = b"", b""
    for index, body in enumerate(re.findall(r"\{([^{}]*)\}", text)):
        sub = "%s[%d]" % (field, index)
        parts = split(body, sub)
        if len(parts) not in (3, 4):
            raise ValidationError(sub, body, "expected class=..,type=..,len=..[,0x<data>]")
        head = []
        for part, name, bits in zip(parts[:3], ("class", "type", "len"), (16, 8, 5)):
            pname, _eq, ptext = part.partition("=")
            if pname != name:
                raise ValidationError(sub, part, "expected %s=" % name)
            head.append(parse_masked("hex", bits, ptext, "%s.%s" % (sub, name)))
        length = head[2][0]
        data = (
            parse_masked("hex", length * 8, parts[3], sub + ".data") if len(parts) == 4 else (0, 0)
        )
        value += struct.pack(">HBB", head[0][0], head[1][0], length // 4) + data[0].to_bytes(
            length, "big"
        )
        mask += struct.pack(
            ">HBB", head[0][1], head[1][1], head[2][1] // 4 if head[2][1] != 31 else 0x1F
        ) + data[1].to_bytes(length, "big")
    return value, mask


def _format_geneve(value, mask):
    opts, offset = [], 0
    while offset + 4 <= len(value):
        cls, typ, length = struct.unpack_from(">HBB", value, offset)
        length = (length & 0x1F) * 4
        parts = []
        mask_fields = struct.unpack_from(">HBB", mask, offset) if mask else (0xFFFF, 0xFF, 0x1F)
        for name, number, bits, sub_mask in (
            ("class", cls, 16, mask_fields[0]),
            ("type", typ, 8, mask_fields[1]),
            ("len", length, 5, 31),
        ):
            parts.append(
                "%s=%s"
                % (name, format_masked("hex" if name != "len" else "int", bits, number, sub_mask))
            )
        if length:
            data = int.from_bytes(value[offset + 4 : offset + 4 + length], "big")
            data_mask = (
                int.from_bytes(mask[offset + 4 : offset + 4 + length], "big")
                if mask
                else full(length * 8)
            )
            parts.append(format_masked("hex", length * 8, data, data_mask))
        opts.append("{%s}" % ",".join(parts))
        offset += 4 + length
    return "".join(opts)
