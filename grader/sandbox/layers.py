"""Kernel protections a child puts between student code and the machine, beyond fork and rlimits.

Three layers, each probed once in the zygote (a throwaway child tries it), applied in every child
between the basic hardening and the student's first line, and reported by ``grader doctor``:

- ``namespaces``: a new user, network and mount namespace. No network interface but a dead loopback,
  a private ``/dev/shm`` (tmpfs that disappears with the child), no capability over the host.
- ``landlock``: the file system shrinks to the Python installation read-only (minus the grader's own
  package, where exercises and references may live), a few system files, and the child's own
  directory read-write. No TCP bind/connect; no signals to, nor abstract sockets of, processes outside
  the sandbox (ABI 6).
- ``seccomp``: a syscall filter (through the system's libseccomp): no sockets, exec, ptrace, process
  memory access, io_uring, bpf, mounts, namespaces, keyrings, new sessions or process groups, and no new
  processes at all (threads are fine); the syscall fails with EPERM and the student sees why.

Each degrades gracefully: where the kernel or library lacks it, the child runs without it and the
grader warns; ``--require-sandbox`` makes a missing layer an error instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import site
import struct
import sys
import sysconfig
from dataclasses import dataclass, field
from typing import Any

LAYERS = ("namespaces", "landlock", "seccomp")

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


class LayerError(OSError):
    """A layer that was available at start could not be applied in a child."""


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise LayerError(code, f"{what}: {os.strerror(code)}")
    return result


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


# --------------------------------------------------------------------------- namespaces


def apply_namespaces() -> None:
    """New user + network + mount namespaces; a private tmpfs on /dev/shm, an empty one on /proc."""
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWNS), "unshare")
    # Map our own ids only (allowed without privileges): files the child creates keep an owner.
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _check(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "make mounts private")
    if os.path.isdir("/dev/shm"):
        _check(_libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV, b"size=64m,mode=1777"),
               "mount a private /dev/shm")
    # An empty /proc: /proc/self/fd/N would open a second handle on the result pipe (Landlock does not
    # govern pipes), with which the code could put something else in the pipe's place; /proc/<ppid> and the
    # rest of the host's process table are no business of student code either.
    _check(_libc.mount(b"tmpfs", b"/proc", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, b"size=4k,mode=555"),
           "hide /proc")


# --------------------------------------------------------------------------- landlock

_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS = {name: 1 << bit for bit, name in enumerate((
    "execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file", "make_char", "make_dir",
    "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer", "truncate", "ioctl_dev"))}
_FS_BY_ABI = {1: 0x1FFF, 2: 0x3FFF, 3: 0x7FFF, 4: 0x7FFF, 5: 0xFFFF}
_FILE_ONLY = _FS["execute"] | _FS["write_file"] | _FS["read_file"] | _FS["truncate"] | _FS["ioctl_dev"]
_READ = _FS["execute"] | _FS["read_file"] | _FS["read_dir"]
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when absent or disabled."""
    if platform.system() != "Linux":
        return 0
    version = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, int(version))


@dataclass
class FileRules:
    """Paths the child may read (and execute), and paths it may also write."""

    readable: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=list)


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


def _grant(path: str, hidden: list[str], out: list[str], depth: int = 0) -> None:
    """Allow ``path``, or, when a hidden path lies inside it, each of its entries but the hidden ones."""
    if any(_inside(path, h) for h in hidden) or not os.path.exists(path):
        return
    if not any(_inside(h, path) for h in hidden) or not os.path.isdir(path) or depth > 8:
        out.append(path)
        return
    try:
        entries = sorted(os.listdir(path))
    except OSError:
        return
    for entry in entries:
        _grant(os.path.join(path, entry), hidden, out, depth + 1)


def python_file_rules(hidden: list[str]) -> FileRules:
    """What a Python child needs to read: the interpreter's installation and import roots, system
    libraries, a few /etc and /dev files; never ``hidden`` (the grader's package, catalogs, ...)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    roots.update(sysconfig.get_paths().values())
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    roots.update(("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/usr/share/zoneinfo",
                  "/etc/ld.so.cache", "/etc/localtime", "/dev/urandom", "/dev/zero", "/dev/null"))
    roots = {os.path.realpath(r) for r in roots if r}
    # Only what lies inside a granted root needs hiding; a hidden ancestor of the interpreter (say, the
    # home folder) is not granted anyway.
    hidden = [h for h in (os.path.realpath(h) for h in hidden) if not any(_inside(r, h) for r in roots)]
    readable: list[str] = []
    for root in sorted(roots):
        _grant(root, hidden, readable)
    outermost = [p for p in sorted(set(readable)) if not any(p != q and _inside(p, q) for q in readable)]
    return FileRules(readable=outermost, writable=["/dev/null"])


def apply_landlock(abi: int, rules: FileRules, workdir: str) -> None:
    """Restrict this process (and all it forks) to ``rules`` plus read-write ``workdir`` and /dev/shm."""
    handled_fs = _FS_BY_ABI.get(abi, _FS_BY_ABI[5])
    attr = struct.pack("=Q", handled_fs)
    if abi >= 4:
        attr += struct.pack("=Q", _NET_BIND_TCP | _NET_CONNECT_TCP)
    if abi >= 6:
        attr += struct.pack("=Q", _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, buffer, len(attr), 0), "landlock ruleset")
    try:
        everything = handled_fs
        grants = [(p, _READ) for p in rules.readable] + [(p, everything) for p in rules.writable]
        grants.append((workdir, everything))
        if os.path.isdir("/dev/shm"):
            grants.append(("/dev/shm", everything))
        for path, access in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    access &= _FILE_ONLY
                rule = ctypes.create_string_buffer(struct.pack("=Qi", access & handled_fs, fd), 12)
                _check(_libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, 0),
                       f"landlock rule for {path}")
            finally:
                os.close(fd)
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock restrict")
    finally:
        os.close(ruleset)


# --------------------------------------------------------------------------- seccomp

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_ERRNO = 0x00050000
_SCMP_CMP_EQ, _SCMP_CMP_MASKED_EQ = 4, 7
_F_DUPFD, _F_DUPFD_CLOEXEC = 0, 1030
_CLONE_THREAD = 0x00010000

DENIED_SYSCALLS = (
    # network and other machines
    "socket",
    # other programs and processes
    "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "kcmp",
    # escaping the process group the grader kills, or the namespaces and mounts set up for the child
    "setsid", "setpgid", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
    "open_tree", "fsopen", "fsmount", "fspick", "mount_setattr",
    # copies of file descriptors: with one, code could put something else in the result pipe's place and
    # write the grader's whole result stream itself (fcntl's F_DUPFD is refused below)
    "dup", "dup2", "dup3",
    # kernel attack surface no exercise needs
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "syslog", "acct",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


class Seccomp:
    """A filter built once (in the zygote) through libseccomp and loaded in each child."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
        self.lib = ctypes.CDLL(name, use_errno=True)
        self.lib.seccomp_init.restype = ctypes.c_void_p
        self.lib.seccomp_init.argtypes = [ctypes.c_uint32]
        self.lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                                    ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
        self.lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        self.lib.seccomp_load.argtypes = [ctypes.c_void_p]
        self.ctx = self.lib.seccomp_init(_SCMP_ACT_ALLOW)
        if not self.ctx:
            raise LayerError(errno.EINVAL, "seccomp_init failed")
        deny = _SCMP_ACT_ERRNO | errno.EPERM
        for syscall in DENIED_SYSCALLS:
            number = self.lib.seccomp_syscall_resolve_name(syscall.encode())
            if number >= 0:
                self._rule(deny, number, [])
        # clone makes threads (CLONE_THREAD set: allowed) and processes (refused); clone3 hides its flags
        # in memory a filter cannot read, so it answers ENOSYS and glibc falls back to clone.
        clone = self.lib.seccomp_syscall_resolve_name(b"clone")
        self._rule(deny, clone, [_ArgCmp(0, _SCMP_CMP_MASKED_EQ, _CLONE_THREAD, 0)])
        fcntl = self.lib.seccomp_syscall_resolve_name(b"fcntl")
        for command in (_F_DUPFD, _F_DUPFD_CLOEXEC):
            self._rule(deny, fcntl, [_ArgCmp(1, _SCMP_CMP_EQ, command, 0)])
        clone3 = self.lib.seccomp_syscall_resolve_name(b"clone3")
        if clone3 >= 0:
            self._rule(_SCMP_ACT_ERRNO | errno.ENOSYS, clone3, [])

    def _rule(self, action: int, number: int, comparisons: list[_ArgCmp]) -> None:
        array = (_ArgCmp * max(1, len(comparisons)))(*comparisons)
        result = self.lib.seccomp_rule_add_array(self.ctx, action, number, len(comparisons), array)
        if result < 0:
            raise LayerError(-result, f"seccomp rule for syscall {number}: {os.strerror(-result)}")

        self.program = self._compile()

    def _compile(self) -> ctypes.Array[ctypes.c_char]:
        """The filter as raw BPF, compiled once: loading it in a child is then one prctl (libseccomp's
        own load recompiles it every time, a millisecond per child)."""
        self.lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        read, write = os.pipe()
        try:
            result = self.lib.seccomp_export_bpf(self.ctx, write)
            os.close(write)
            write = -1
            if result < 0:
                raise LayerError(-result, f"seccomp_export_bpf: {os.strerror(-result)}")
            chunks = []
            while chunk := os.read(read, 65536):
                chunks.append(chunk)
        finally:
            os.close(read)
            if write >= 0:
                os.close(write)
        code = b"".join(chunks)
        if not code or len(code) % 8:
            raise LayerError(errno.EINVAL, "seccomp_export_bpf gave no program")
        return ctypes.create_string_buffer(code, len(code))

    def load(self) -> None:
        """Install the compiled filter on this process (and all it will fork)."""
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        fprog = struct.pack("HxxxxxxP", len(self.program) // 8, ctypes.addressof(self.program))
        buffer = ctypes.create_string_buffer(fprog, len(fprog))
        _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, buffer, 0, 0), "seccomp filter")


# --------------------------------------------------------------------------- the plan a child follows


@dataclass
class Protection:
    """What one layer does on this machine: available or why not."""

    name: str
    available: bool
    detail: str


@dataclass
class Plan:
    """Layers to apply in every child, prepared in the zygote (never holds secrets: paths only)."""

    protections: dict[str, Protection] = field(default_factory=dict)
    landlock_abi: int = 0
    file_rules: FileRules = field(default_factory=FileRules)
    seccomp: Seccomp | None = None
    required: bool = False

    def active(self, name: str) -> bool:
        protection = self.protections.get(name)
        return bool(protection and protection.available)

    def apply(self, workdir: str) -> list[str]:
        """Apply every available layer in order; returns the names of layers that failed here."""
        failed = [name for name in LAYERS if self.required and not self.active(name)]
        for name, step in (("namespaces", apply_namespaces),
                           ("landlock", lambda: apply_landlock(self.landlock_abi, self.file_rules, workdir)),
                           ("seccomp", lambda: self.seccomp.load() if self.seccomp else None)):
            if not self.active(name):
                continue
            try:
                step()
            except (OSError, AttributeError):
                failed.append(name)
        return failed

    def to_json(self) -> dict[str, Any]:
        return {name: {"available": p.available, "detail": p.detail} for name, p in self.protections.items()}


def _probe(step: Any) -> str | None:
    """Run ``step`` in a throwaway child; None when it worked, else the error it gave."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        message = b""
        try:
            step()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as text
            message = str(exc).encode()[:500] or type(exc).__name__.encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    return text or None


def prepare(hidden: list[str], workdir_root: str, wanted: tuple[str, ...] | None = None) -> Plan:
    """Probe each wanted layer on this machine and prepare what children need to apply it quickly."""
    plan = Plan()
    wanted = LAYERS if wanted is None else wanted
    if platform.system() != "Linux":
        for name in wanted:
            plan.protections[name] = Protection(name, False, f"needs Linux (this is {platform.system()})")
        return plan
    for name in set(LAYERS) - set(wanted):
        plan.protections[name] = Protection(name, False, "turned off")
    if "namespaces" in wanted:
        _prepare_namespaces(plan)
    if "landlock" in wanted:
        _prepare_landlock(plan, hidden, workdir_root)
    if "seccomp" in wanted:
        _prepare_seccomp(plan)
    return plan


def _prepare_namespaces(plan: Plan) -> None:
    error = _probe(apply_namespaces)
    plan.protections["namespaces"] = Protection(
        "namespaces", error is None,
        "user + network + mount namespaces: no network, private /dev/shm, empty /proc" if error is None
        else f"unavailable: {error} (unprivileged user namespaces disabled?)")


def _prepare_landlock(plan: Plan, hidden: list[str], workdir_root: str) -> None:
    plan.landlock_abi = landlock_abi()
    if plan.landlock_abi:
        plan.file_rules = python_file_rules(hidden)
        error = _probe(lambda: apply_landlock(plan.landlock_abi, plan.file_rules, workdir_root))
        scopes = ", signals and abstract sockets scoped" if plan.landlock_abi >= 6 else ""
        network = ", no TCP" if plan.landlock_abi >= 4 else ""
        plan.protections["landlock"] = Protection(
            "landlock", error is None,
            f"ABI {plan.landlock_abi}: read-only Python installation, write only its own directory"
            f"{network}{scopes}" if error is None else f"unavailable: {error}")
    else:
        plan.protections["landlock"] = Protection("landlock", False, "unavailable: the kernel has no Landlock "
                                                  "(Linux >= 5.13 with lsm=landlock)")


def _prepare_seccomp(plan: Plan) -> None:
    try:
        plan.seccomp = Seccomp()
        error = _probe(plan.seccomp.load)
    except (OSError, AttributeError) as exc:
        plan.seccomp, error = None, f"libseccomp not usable: {exc}"
    plan.protections["seccomp"] = Protection(
        "seccomp", error is None,
        f"{len(DENIED_SYSCALLS) + 3} syscalls refused (sockets, exec, new processes, ptrace, ...)"
        if error is None else f"unavailable: {error}")
