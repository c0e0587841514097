package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** goto time: a program reads the wall clock (CLOCK_REALTIME, a monotonic read between) around 12:03:04 UTC. */
class GotoTimeTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final long T0 = Instant.parse("2026-12-02T12:03:04.100Z").getEpochSecond() * 1_000_000_000L + 100_000_000L;
    private final List<Event> events = new ArrayList<>();
    private final StringWriter text = new StringWriter();

    private void clock(long clockId, long epochNanos) {
        byte[] ts = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(epochNanos / 1_000_000_000L)
                .putLong(epochNanos % 1_000_000_000L).array();
        long seq = events.size() + 1;
        events.add(new SyscallEvent(seq, 10, 10, seq * 1000, seq * 1000 + 5, TABLE.number("clock_gettime").orElseThrow(),
                new long[] {clockId, 0x9000, 0, 0, 0, 0}, List.of(), 0, List.of(new MemoryBlock(1, 0x9000, ts)), 0));
    }

    private Debugger debugger(ZoneId zone) {
        clock(0, T0);                        // #1 12:03:04.100
        clock(1, 5_000_000_000L);            // #2 CLOCK_MONOTONIC: not a wall-clock time
        clock(0, T0 + 20_000_000L);          // #3 12:03:04.120
        clock(0, T0 + 1_500_000_000L);       // #4 12:03:05.600
        Debugger d = new Debugger(Timeline.of(events, Arch.X86_64), new PrintWriter(text), Style.PLAIN, null);
        d.zone(zone);
        d.start();
        return d;
    }

    private long after(Debugger d, String command) {
        text.getBuffer().setLength(0);
        d.execute(command);
        return d.position() < d.timeline().size() ? d.timeline().stop(d.position()).seq() : -1;
    }

    @Test
    void goesToTheFirstClockReadAtOrAfterATimeOfDay() {
        Debugger d = debugger(ZoneOffset.UTC);
        assertEquals(3, after(d, "goto time 12:03:04.110"));
        assertTrue(text.toString().startsWith("time 2026-12-02T12:03:04.110 Z: the first clock read at or after it is #3"
                + " (2026-12-02 12:03:04.120)\n"), text.toString());
        assertEquals(1, after(d, "goto time 12:03:04,1"), "a comma before the fraction, as log4j writes it");
        assertEquals(4, after(d, "goto time 12:03:05"));
        assertEquals(1, after(d, "goto time 12:03"), "before the first read: the first read");
        assertEquals(4, after(d, "goto time 2026-12-02T13:03:05.600+01:00"));
        assertEquals(4, after(d, "goto time 13:03:05.6 +0100"));
        after(d, "goto time 12:03:06");
        assertTrue(text.toString().startsWith("error: goto time: the program's clock reads go from 2026-12-02 12:03:04.100 (#1)"
                + " to 2026-12-02 12:03:05.600 (#4): none at or after"), text.toString());
        after(d, "goto time noon");
        assertTrue(text.toString().startsWith("error: goto time: 'noon' is not a time"), text.toString());
    }

    @Test
    void aTimeWithoutAZoneIsInTheRecordedOne() {
        Debugger d = debugger(ZoneId.of("Europe/Paris"));
        assertEquals(3, after(d, "goto time 13:03:04.110"), "12:03:04.110 UTC is 13:03:04.110 in Paris in December");
    }
}
