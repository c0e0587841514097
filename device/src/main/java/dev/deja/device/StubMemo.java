package dev.deja.device;

import dev.deja.device.x86.GuardStub;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Stubs built, kept by everything each is made of: the code of the function around the syscall instruction,
 * the addresses involved (function, site, stub, data page) and the calls it serves. deja turns address
 * randomisation off, so the processes of one program (a compiler started for every file, a shell's
 * commands) patch the same sites at the same places, and a stub built for one serves the next.
 */
final class StubMemo<S> {
    /** Builds a stub; refuses as {@link GuardStub.Refused} when none fits there. */
    @FunctionalInterface
    interface Builder<S> {
        S build() throws GuardStub.Refused;
    }

    /** Kept at most; the memo starts over past it (a long run of many programs). */
    private static final int MAX = 4096;
    private final Map<Key, S> built = new HashMap<>();

    private record Key(byte[] function, Object calls, long[] places) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(places, k.places) && Objects.equals(calls, k.calls)
                    && Arrays.equals(function, k.function);
        }

        @Override
        public int hashCode() {
            return (Arrays.hashCode(places) * 31 + Objects.hashCode(calls)) * 31 + Arrays.hashCode(function);
        }
    }

    /** The stub made of {@code function}'s code for {@code calls} at {@code places}: built once ({@code build}). */
    S get(byte[] function, Object calls, Builder<S> build, long... places) throws GuardStub.Refused {
        Key key = new Key(function, calls, places);
        S s = built.get(key);
        if (s != null) return s;
        s = build.build();
        if (built.size() >= MAX) built.clear();
        built.put(key, s);
        return s;
    }
}
