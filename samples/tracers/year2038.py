#!/usr/bin/env python3
"""Makes a program believe it is 2038, over deja's tracer protocol (docs/protocol.md).

Answers the time calls itself: clock_gettime(CLOCK_REALTIME...), gettimeofday and time are
skipped (skip-ok) after the tracer wrote the time it chose into the program's memory (set). The
clock keeps running from the chosen instant. deja hides the vDSO, so these are real syscalls
even for glibc programs.

    deja run --tracer 'python3 samples/tracers/year2038.py' -- date
    deja run --tracer 'python3 samples/tracers/year2038.py --at 2147483640' -- ./y2038-test

Options:
    --at EPOCH   the Unix time the program starts at (default 2147483647 + 3600: an hour after
                 the 32-bit time_t overflow, 2038-01-19 04:14:07 UTC)
"""
import argparse
import struct
import sys
import time

CLOCK_REALTIME = 0
CLOCK_REALTIME_COARSE = 5
CLOCK_TAI = 11


def send(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def quote(data):
    """The protocol's quoted string: every byte as \\xHH (always valid)."""
    return '"' + "".join("\\x%02x" % b for b in data) + '"'


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
    p = argparse.ArgumentParser(description="pretend it is 2038")
    p.add_argument("--at", type=int, default=2147483647 + 3600)
    a = p.parse_args()
    offset_ns = a.at * 10**9 - time.time_ns()

    if sys.stdin.readline().strip() != "deja-tracer 1":
        return 2
    send("hello year2038")
    send("subscribe decide clock_gettime gettimeofday time")
    send("ready")
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.startswith("event "):
            if line.startswith("error "):
                print("year2038: deja says: " + line, file=sys.stderr)
            continue
        seq, fields, call = event_parts(line)
        args = [int(x, 16) for x in fields["args"].split(",")]
        now = time.time_ns() + offset_ns
        sec, nsec = divmod(now, 10**9)
        if call.startswith("clock_gettime("):
            clock, tp = args[0], args[1]
            if clock in (CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI) and tp:
                send("%s set arg1 %s" % (seq, quote(struct.pack("<qq", sec, nsec))))
                send("%s skip-ok 0" % seq)
                continue
        elif call.startswith("gettimeofday("):
            tv, tz = args[0], args[1]
            if tv:
                send("%s set 0x%x %s" % (seq, tv, quote(struct.pack("<qq", sec, nsec // 1000))))
            if tz:
                send("%s set 0x%x %s" % (seq, tz, quote(struct.pack("<ii", 0, 0))))
            send("%s skip-ok 0" % seq)
            continue
        elif call.startswith("time("):
            if args[0]:
                send("%s set 0x%x %s" % (seq, args[0], quote(struct.pack("<q", sec))))
            send("%s skip-ok %d" % (seq, sec))
            continue
        send("%s continue" % seq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
