# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp psample listen``: psample samples (psample.py), one line each.

A line is ``group=N seq=N in=DEV [out=DEV] bytes=N orig_bytes=N
rate=N|probability=P% [proto=0xNNNN] [cookie=0xHEX] [packet=HEX]``.
``odp: listening on psample ...`` on stderr says the subscription is in
place: nothing sampled after it is missed.
"""

from __future__ import annotations

from ..text.options import PERCENT
from .output import emit, say
from .signals import until_signalled
from .values import integer


def sample_line(sample, names: dict[int, str], packet: bool = False) -> str:
    words = ["group=%d" % sample.group, "seq=%d" % sample.seq]
    for label, ifindex in (("in", sample.in_ifindex), ("out", sample.out_ifindex)):
        if ifindex is not None:
            words.append("%s=%s" % (label, names.get(ifindex, ifindex)))
    words += ["bytes=%d" % len(sample.packet), "orig_bytes=%d" % sample.orig_size]
    if sample.probability:
        words.append("probability=%s" % PERCENT.format(sample.rate, None))
    elif sample.rate is not None:
        words.append("rate=%d" % sample.rate)
    if sample.proto is not None:
        words.append("proto=0x%04x" % sample.proto)
    if sample.cookie is not None:
        words.append("cookie=0x" + sample.cookie.hex())
    if packet:
        words.append("packet=" + sample.packet.hex())
    return " ".join(words)


def _names_for(netns: str | None, names: dict[int, str], sample) -> dict[int, str]:
    """``names``, listed again when a sample names a device listed after them."""
    from ..psample import interface_names  # pylint: disable=import-outside-toplevel

    if any(
        index is not None and index not in names
        for index in (sample.in_ifindex, sample.out_ifindex)
    ):
        names.update(interface_names(netns))
    return names


def psample_listen(client, args) -> None:
    from ..psample import interface_names  # pylint: disable=import-outside-toplevel

    groups = [
        integer("group", text, 0, 0xFFFFFFFF, "a psample group, 0 to 4294967295")
        for text in args.positionals
    ] or None
    with until_signalled():
        with client.samples(groups) as samples:
            names = interface_names(client.netns)
            say(
                "listening on psample %s"
                % (
                    "group%s %s" % ("s" if len(groups) > 1 else "", ",".join(map(str, groups)))
                    if groups
                    else "groups, every one"
                )
            )
            for sample in samples:
                emit(
                    sample_line(
                        sample,
                        _names_for(client.netns, names, sample),
                        packet=bool(args.get("packet")),
                    )
                )
