package dev.deja.replayer.gdb;

import dev.deja.device.Tracee;

/**
 * A test thread for the gdb server: the replay is authoritative, so the server must never write
 * memory, inject a call or set a result through it; each of those fails the test.
 */
interface ServerSideTracee extends Tracee {
    @Override
    default void write(long address, byte[] data) {
        throw new AssertionError("the server wrote memory");
    }

    @Override
    default long inject(int nr, long... args) {
        throw new AssertionError("the server injected a call");
    }

    @Override
    default void setResult(long value) {
        throw new AssertionError("the server set a result");
    }
}
