"""Sharing a host: who holds the address `serve` wanted, and the roads that need no port 25.

On a Debian host the distribution's MTA usually holds port 25 already. `serve` then fails
with EADDRINUSE; `in_use_message` turns that into a line that says which process holds the
address and where to go instead (LMTP behind that MTA, or its pipe transport). The holder
is found the way ss(8) does it: the listening socket's inode in /proc/net/tcp{,6}, then the
process whose /proc/PID/fd links to that socket (only our own processes, or all as root;
otherwise the socket's owner from /proc/net/tcp is what we can name).
"""

from __future__ import annotations

import ipaddress
import os
import pwd

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


def _proc_addr(hexaddr: str) -> str:
    """/proc/net/tcp's address (host byte order words, hex) as text."""
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    addr = ipaddress.IPv6Address(words)
    return str(addr.ipv4_mapped or addr)


def listeners(port: int, proc: str = "/proc") -> list[tuple[str, int, int]]:
    """(local address, uid, inode) of every TCP socket listening on `port`."""
    out = []
    for name in ("tcp", "tcp6"):
        try:
            with open(f"{proc}/net/{name}", encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    f = line.split()
                    if len(f) < 10 or f[3] != _LISTEN:
                        continue
                    addr, _, hexport = f[1].partition(":")
                    if int(hexport, 16) == port:
                        out.append((_proc_addr(addr), int(f[7]), int(f[9])))
        except (OSError, ValueError):
            continue
    return out


def process_of(inode: int, proc: str = "/proc") -> tuple[int, str] | None:
    """(pid, command name) of a process holding socket `inode`, where /proc lets us look."""
    target = f"socket:[{inode}]"
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        fd_dir = f"{proc}/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # not ours, or gone
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    with open(f"{proc}/{pid}/comm", encoding="utf-8", errors="replace") as fh:
                        return int(pid), fh.read().strip()
            except OSError:
                continue
    return None


def holder(port: int, proc: str = "/proc") -> str | None:
    """Who listens on `port`, for a person: "master (pid 812, user root)"; None if unknown."""
    for addr, uid, inode in listeners(port, proc):
        try:
            user = pwd.getpwuid(uid).pw_name
        except KeyError:
            user = str(uid)
        found = process_of(inode, proc)
        if found:
            pid, name = found
            return f"{name} (pid {pid}, user {user}) on {addr}:{port}"
        return f"a process of user {user} on {addr}:{port}"
    return None


def in_use_message(listen: str, port: int, proc: str = "/proc") -> str:
    """The one line `serve` prints when its listen address is taken."""
    who = holder(port, proc)
    held = f"held by {who}" if who else "already in use"
    hint = ("; if this host's MTA holds it, let that MTA hand bounces over by LMTP"
            " ([lmtp] listen) or by its pipe transport (`bouncesink deliver`): README,"
            " Deployment; else choose another address")
    return f"cannot listen on {listen}: {held}{hint}"
