package dev.deja.device.tracer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The messages of the tracer protocol, version 1 (docs/protocol.md). The device sends
 * {@link Greeting}, {@link Event}, {@link Reply} and {@link Error}; a tracer sends the handshake
 * ({@link Hello}, {@link Subscribe}, {@link Ready}), answers naming an event ({@link Continue},
 * {@link SkipFail}, {@link SkipOk}, {@link Rewrite}, {@link Deliver}), memory writes ({@link Set})
 * and queries ({@link Peek}, {@link Fds}, {@link Proc}). {@code seq} 0 in a tracer's message means
 * "the event I was sent last"; in an {@link Error} it means "not about an event".
 */
public sealed interface Message {

    /** The protocol version this device speaks. */
    int VERSION = 1;

    /** The event an answer, a write or a query is about (0: the last one sent). */
    default long seq() {
        return 0;
    }

    /** True for the messages that end the handling of an event (answers). */
    default boolean isAnswer() {
        return false;
    }

    record Greeting(int version) implements Message {
    }

    record Hello(String name) implements Message {
        public Hello {
            if (name.isBlank()) throw new IllegalArgumentException("hello needs a name");
        }
    }

    /** {@code decide} false: observe. Names: syscalls, %classes, "all", and @signal, @exit, @spawn, @exec. */
    record Subscribe(boolean decide, List<String> names) implements Message {
        public Subscribe {
            names = List.copyOf(names);
            if (names.isEmpty()) throw new IllegalArgumentException("subscribe needs at least one name");
        }
    }

    record Ready() implements Message {
    }

    /**
     * One event: its context fields in order (pid, tid, ppid, uid, gid, exe, time, nr, args...) and
     * the strace-style text of the call, signal or exit.
     */
    record Event(long seq, Map<String, String> fields, String text) implements Message {
        public Event {
            fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }
    }

    record Continue(long seq) implements Message {
        @Override
        public boolean isAnswer() {
            return true;
        }
    }

    record SkipFail(long seq, int errno) implements Message {
        public SkipFail {
            if (errno <= 0 || errno > 4095) throw new IllegalArgumentException("errno out of range: " + errno);
        }

        @Override
        public boolean isAnswer() {
            return true;
        }
    }

    record SkipOk(long seq, long value) implements Message {
        @Override
        public boolean isAnswer() {
            return true;
        }
    }

    /** Runs the call with syscall {@code nr} (-1: unchanged) and the arguments given by index. */
    record Rewrite(long seq, int nr, Map<Integer, Long> args) implements Message {
        public Rewrite {
            args = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(args));
            for (int i : args.keySet()) if (i < 0 || i > 5) throw new IllegalArgumentException("no argument arg" + i);
            if (nr < 0 && nr != -1) throw new IllegalArgumentException("bad syscall number " + nr);
            if (nr == -1 && args.isEmpty()) throw new IllegalArgumentException("rewrite changes nothing");
        }

        @Override
        public boolean isAnswer() {
            return true;
        }
    }

    /** For a signal: deliver {@code signo} in its place (0 suppresses it). */
    record Deliver(long seq, int signo) implements Message {
        public Deliver {
            if (signo < 0 || signo > 64) throw new IllegalArgumentException("bad signal number " + signo);
        }

        @Override
        public boolean isAnswer() {
            return true;
        }
    }

    /**
     * Writes {@code data} into the thread's memory before the event goes on: at {@code address},
     * or, when {@code arg} is 0..5, at the address the call's argument {@code arg} holds
     * ({@code set arg1 "..."}, the 1999 proposal's {@code set 1 "some data"}).
     */
    record Set(long seq, int arg, long address, byte[] data) implements Message {
        public Set {
            if (arg < -1 || arg > 5) throw new IllegalArgumentException("no argument arg" + arg);
            data = data.clone();
        }

        public Set(long seq, long address, byte[] data) {
            this(seq, -1, address, data);
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Set s && s.seq == seq && s.arg == arg && s.address == address && Arrays.equals(s.data, data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(address) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Set[seq=" + seq + (arg >= 0 ? ", arg" + arg : ", address=0x" + Long.toHexString(address)) + ", data="
                    + data.length + " bytes]";
        }
    }

    record Peek(long seq, long address, int length) implements Message {
        public Peek {
            if (length < 0) throw new IllegalArgumentException("negative length");
        }
    }

    record Fds(long seq) implements Message {
    }

    record Proc(long seq) implements Message {
    }

    /** The device's answer to a query: {@code about} is the query's verb, values in order. */
    record Reply(long seq, String about, Map<String, String> values) implements Message {
        public Reply {
            values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }
    }

    /** A refusal or a problem: nothing changed because of the message it answers. */
    record Error(long seq, String message) implements Message {
    }
}
