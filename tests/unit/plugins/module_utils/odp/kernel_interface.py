"""Kernel replies captured in data/kernel_interface.json (Linux 6.1 UML, by
data/capture_kernel_interface.py), and a transport that answers with them.

The transport stands in for the kernel in unit tests of pure logic (input
checks, encoding, decoding): it records every request and answers from a
table the test gives, with the captured bytes decoded as the real
``netlink.Transport`` decodes them.
"""

import json
import os

from vswitch_odp.netlink import KernelError, verb

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "kernel_interface.json")) as _data:
    CAPTURED = json.load(_data)


def request_bytes(name):
    return bytes.fromhex(CAPTURED[name]["request"])


def reply_bytes(name):
    return bytes.fromhex(CAPTURED[name]["reply"])


class FakeTransport:
    """``answers`` maps ``(family name, cmd)`` to a captured case name, a
    ``KernelError``, or a callable ``(ifindex, attrs) -> either``."""

    def __init__(self, answers, dumps=None):
        self.answers = answers
        self.dumps = dumps or {}
        self.sent = []  # (family name, cmd, dp_ifindex, attrs bytes)

    def _answer(self, family, cmd, ifindex, attrs):
        self.sent.append((family.name, cmd, ifindex, attrs))
        answer = self.answers[(family.name, cmd)]
        if callable(answer):
            answer = answer(ifindex, attrs)
        if isinstance(answer, KernelError):
            return answer
        return [(ifindex, family.attrs.decode(reply_bytes(answer)))]

    def transact(self, messages, decode=True):
        assert decode
        return [
            self._answer(family, cmd, ifindex, attrs)
            for family, cmd, ifindex, attrs, _flags in messages
        ]

    def request(
        self, family, cmd, dp_ifindex=0, attrs=b"", flags=0, what=None, missing=None, decode=True
    ):
        (result,) = self.transact([(family, cmd, dp_ifindex, attrs, flags)], decode)
        if isinstance(result, KernelError):
            raise result.to_error(verb(family, cmd), what or family.name, missing)
        return result

    def dump(self, family, cmd, dp_ifindex=0, attrs=b"", what=None, missing=None, decode=True):
        self.sent.append((family.name, "dump", dp_ifindex, attrs))
        return iter(self.dumps.get(family.name, []))

    def sent_commands(self):
        return [(name, cmd) for name, cmd, _ifindex, _attrs in self.sent]
