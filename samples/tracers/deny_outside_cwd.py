#!/usr/bin/env python3
"""Denies writes outside the current directory, over deja's tracer protocol (docs/protocol.md).

Any call that would create, modify or remove a file whose path resolves outside the traced
program's working directory (at the time of the call) fails with EACCES without reaching the
kernel: open/openat/creat for writing, unlink, rename, mkdir, rmdir, symlink, link, truncate,
chmod/chown. Reading stays allowed. Relative paths are resolved against the process's working
directory (the `proc` query) or the directory descriptor (the `fds` query); the path itself is
read from the program's memory (`peek`), so it is never cut short.

    deja run --tracer 'python3 samples/tracers/deny_outside_cwd.py' -- ./installer

Standard library only. Prints one line per denied call on stderr.
"""
import os
import sys

O_ACCMODE, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 3, 1, 2, 0o100, 0o1000
AT_FDCWD = 0xffffff9c  # -100 as a 32-bit int: the register's upper half may be anything

# syscall: (path arguments, dirfd argument for each path or None, flags argument or None)
CALLS = {
    "open": ([0], [None], 1), "openat": ([1], [0], 2), "creat": ([0], [None], None),
    "unlink": ([0], [None], None), "unlinkat": ([1], [0], None),
    "rename": ([0, 1], [None, None], None), "renameat": ([1, 3], [0, 2], None), "renameat2": ([1, 3], [0, 2], None),
    "mkdir": ([0], [None], None), "mkdirat": ([1], [0], None), "rmdir": ([0], [None], None),
    "symlink": ([1], [None], None), "symlinkat": ([2], [1], None),
    "link": ([1], [None], None), "linkat": ([3], [2], None),
    "truncate": ([0], [None], None), "chmod": ([0], [None], None), "fchmodat": ([1], [0], None),
    "chown": ([0], [None], None), "lchown": ([0], [None], None), "fchownat": ([1], [0], None),
}


def send(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def reply(seq, query):
    """Asks a query about event seq and returns the reply's values."""
    send("%s %s" % (seq, query))
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        words = line.rstrip("\n").split(" ")
        if len(words) > 2 and words[0] == seq and words[1] == "reply":
            return dict(w.split("=", 1) for w in words[3:] if "=" in w)
        if line.startswith("error "):
            print("deny_outside_cwd: deja says: " + line.strip(), file=sys.stderr)
            return {}


def event_parts(line):
    """('17', {'pid': '42', 'args': '0x1,...'}, 'write(1, "x", 1)') from an event line."""
    words = line.split(" ", 2)
    seq, rest = words[1], words[2] if len(words) > 2 else ""
    fields = {}
    while rest and "=" in rest.split(" ", 1)[0] and not rest.startswith('"'):
        token, _, rest = rest.partition(" ")
        key, _, value = token.partition("=")
        if value.startswith('"'):
            # quoted value with spaces: read up to the closing quote
            while not (value.endswith('"') and not value.endswith('\\"') and len(value) > 1):
                more, _, rest = rest.partition(" ")
                value += " " + more
            value = value[1:-1]
        fields[key] = value
    return seq, fields, rest


def c_string(seq, addr):
    values = reply(seq, "peek 0x%x 4096" % addr)
    data = bytes.fromhex(values.get("hex", ""))
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def inside(path, root):
    path = os.path.normpath(path)
    return path == root or path.startswith(root.rstrip("/") + "/")


def main():
    if sys.stdin.readline().strip() != "deja-tracer 1":
        return 2
    send("hello deny_outside_cwd")
    send("subscribe decide " + " ".join(CALLS))
    send("ready")
    for line in sys.stdin:
        if not line.startswith("event "):
            continue
        seq, fields, call = event_parts(line.rstrip("\n"))
        args = [int(x, 16) for x in fields["args"].split(",")]
        name = call.split("(", 1)[0]
        paths, dirfds, flags = CALLS.get(name, ([], [], None))
        if flags is not None and (args[flags] & O_ACCMODE) == 0 and not args[flags] & (O_CREAT | O_TRUNC):
            send(seq + " continue")  # opened for reading only
            continue
        cwd = reply(seq, "proc").get("cwd", "/")
        fds = None
        denied = None
        for p, d in zip(paths, dirfds):
            path = c_string(seq, args[p])
            base = cwd
            dirfd = args[d] & 0xffffffff if d is not None else AT_FDCWD
            if dirfd != AT_FDCWD:
                fds = fds if fds is not None else reply(seq, "fds")
                base = fds.get(str(dirfd), "/")
            full = os.path.join(base, path)
            if not inside(full, cwd):
                denied = os.path.normpath(full)
                break
        if denied:
            print("deny_outside_cwd: denied event %s %s (%s is outside %s)" % (seq, call, denied, cwd), file=sys.stderr)
            send(seq + " skip-fail EACCES")
        else:
            send(seq + " continue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
