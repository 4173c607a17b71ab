"""Let Debian's UML 6.1 run on hosts whose XSAVE area it does not know.

UML saves and restores each guest process's FPU state with
PTRACE_{GET,SET}REGSET(NT_X86_XSTATE) and a buffer sized for the CPUs of its
day. The host kernel refuses a SETREGSET whose size is not its own XSAVE
size, so on a host with AMX (Sapphire Rapids and later: an 11 KiB area) the
first guest process dies with "ptrace set fp regs failed, errno = 14" and
the kernel panics.

The way out UML itself offers is its FXSAVE fallback, taken when the XSTATE
regset is refused at boot: a seccomp filter makes that one ptrace request
fail (EIO) in the UML process. FXSAVE covers x87 and SSE only, so guest
programs are told not to use AVX (GLIBC_TUNABLES, OPENSSL_ia32cap): without
that, Python's string functions spin on registers UML no longer keeps.
"""

import ctypes
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
NR_PTRACE = 101
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
NT_X86_XSTATE = 0x202
RET_ALLOW = 0x7FFF0000
RET_EIO = 0x00050000 | 5
# seccomp_data: nr at 0, arch at 4, args[0] at 16, args[2] at 32.
LD_ABS, JEQ, RET = 0x20, 0x15, 0x06

# What guest programs are told (glibc 2.36's tunable names; OpenSSL's mask
# keeps only the SSE-era capabilities).
GUEST_ENV = {
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,"
    "-AVX512DQ,-AVX512CD,-FMA,-FMA4,-AVX_Fast_Unaligned_Load",
    "OPENSSL_ia32cap": "~0x200000200000000:0x0",
}


def needed(cpuinfo="/proc/cpuinfo"):
    """True on hosts with AMX, whose XSAVE area is larger than UML 6.1 knows."""
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return "amx_tile" in line.split()
    except OSError:
        pass
    return False


def _insn(code, jt, jf, k):
    return struct.pack("=HBBI", code, jt, jf, k)


def refuse_xstate_regset():
    """Install the filter in this process (a Popen preexec_fn, before exec)."""
    program = b"".join(
        [
            _insn(LD_ABS, 0, 0, 4),
            _insn(JEQ, 0, 8, AUDIT_ARCH_X86_64),
            _insn(LD_ABS, 0, 0, 0),
            _insn(JEQ, 0, 6, NR_PTRACE),
            _insn(LD_ABS, 0, 0, 16),
            _insn(JEQ, 1, 0, PTRACE_GETREGSET),
            _insn(JEQ, 0, 3, PTRACE_SETREGSET),
            _insn(LD_ABS, 0, 0, 32),
            _insn(JEQ, 0, 1, NT_X86_XSTATE),
            _insn(RET, 0, 0, RET_EIO),
            _insn(RET, 0, 0, RET_ALLOW),
        ]
    )
    libc = ctypes.CDLL(None, use_errno=True)
    filters = ctypes.create_string_buffer(program)
    fprog = ctypes.create_string_buffer(
        struct.pack("=HxxxxxxQ", len(program) // 8, ctypes.addressof(filters))
    )
    ulong = ctypes.c_ulong
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if (
        libc.prctl(
            PR_SET_SECCOMP,
            ulong(SECCOMP_MODE_FILTER),
            ctypes.c_void_p(ctypes.addressof(fprog)),
            ulong(0),
            ulong(0),
        )
        != 0
    ):
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
