#!/usr/bin/env python3
"""A fault injector for deja's tracer protocol (docs/protocol.md), standard library only.

Fails a seeded share of write calls with EIO (skip-fail: the kernel never sees them), so that a
flaky "disk full / I/O error" path can be reproduced run after run with the same seed.

    deja run --tracer 'python3 samples/tracers/fail_writes.py --share 0.2 --seed 7 --fd 1' -- ./app

Options:
    --share F   fraction of matching writes to fail (default 0.1)
    --seed N    random seed (default 1): the same seed fails the same calls
    --fd N      only writes to this descriptor (repeatable; default: all but 2, so errors stay visible)
    --errno E   the error to answer (default EIO)
Prints one line per failed call on stderr ("fail_writes: failed event 17 write(1, ...)").
"""
import argparse
import random
import sys


def send(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


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


def main():
    p = argparse.ArgumentParser(description="fail a seeded share of writes with EIO")
    p.add_argument("--share", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fd", type=int, action="append")
    p.add_argument("--errno", default="EIO")
    a = p.parse_args()
    rng = random.Random(a.seed)

    greeting = sys.stdin.readline().strip()
    if greeting != "deja-tracer 1":
        print("fail_writes: unexpected greeting %r" % greeting, file=sys.stderr)
        return 2
    send("hello fail_writes")
    send("subscribe decide write")
    send("ready")
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.startswith("error "):
            print("fail_writes: deja says: " + line, file=sys.stderr)
            continue
        if not line.startswith("event "):
            continue
        seq, fields, call = event_parts(line)
        fd = int(fields.get("args", "0x0").split(",")[0], 16)
        wanted = (fd in a.fd) if a.fd else fd != 2
        if wanted and rng.random() < a.share:
            print("fail_writes: failed event %s %s" % (seq, call), file=sys.stderr)
            send("%s skip-fail %s" % (seq, a.errno))
        else:
            send("%s continue" % seq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
