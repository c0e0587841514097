package dev.deja.cli.debug;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small recorded run for the debugger's unit tests: process 100 (cwd /home/u) opens files, fails
 * an open with ENOENT, gets a SIGUSR1, makes a pipe, forks process 200 (which execs and closes
 * a close-on-exec descriptor), and exits 0.
 */
final class Events {
    static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private final List<Event> events = new ArrayList<>();
    private long seq = 1;

    static Timeline timeline() {
        return Timeline.of(new Events().build(), Arch.X86_64);
    }

    private List<Event> build() {
        add(new ContextEvent(seq++, 100, 100, 0, new ProcessContext(100, 1, 1000, 1000, 1000, 1000, "app", "/usr/bin/app", "/home/u")));
        call(100, "execve", new long[] {0x1000, 0x2000, 0x3000, 0, 0, 0}, 0, path(0, 0x1000, "/usr/bin/app"));  // #2
        call(100, "openat", new long[] {-100, 0x1000, 0x80000, 0, 0, 0}, 3, path(1, 0x1000, "/etc/app.conf"));   // #3
        call(100, "openat", new long[] {-100, 0x1000, 0, 0, 0, 0}, -2, path(1, 0x1000, "/etc/missing.conf"));  // #4
        call(100, "openat", new long[] {3, 0x1000, 0, 0, 0, 0}, 4, path(1, 0x1000, "data.txt"));                // #5
        call(100, "read", new long[] {4, 0x5000, 64, 0, 0, 0}, 5, List.of(),
                List.of(new MemoryBlock(1, 0x5000, "hello".getBytes(StandardCharsets.UTF_8))));                 // #6
        add(new SignalEvent(seq++, 100, 100, 0, 10, 0, 100, 1000, new byte[0], true));                          // #7
        call(100, "rt_sigreturn", new long[] {0, 0, 0, 0, 0, 0}, 0, List.of());                                  // #8
        ByteBuffer fds = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(5).putInt(6);
        call(100, "pipe2", new long[] {0x6000, 0x80000, 0, 0, 0, 0}, 0, List.of(), List.of(new MemoryBlock(0, 0x6000, fds.array()))); // #9
        call(100, "dup2", new long[] {4, 10, 0, 0, 0, 0}, 10, List.of());                                        // #10
        call(100, "close", new long[] {4, 0, 0, 0, 0, 0}, 0, List.of());                                         // #11
        call(100, "clone", new long[] {0x1200011, 0, 0, 0, 0, 0}, 200, List.of());                               // #12
        add(new SpawnEvent(seq++, 100, 100, 0, SpawnEvent.Kind.FORK, 200, 200, 0x1200011));                     // #13
        call(200, "execve", new long[] {0x1000, 0x2000, 0x3000, 0, 0, 0}, 0, path(0, 0x1000, "/bin/tool"));     // #14
        add(new ExecEvent(seq++, 200, 200, 0, 200, "/bin/tool", List.of("tool"), "", new long[0], new byte[16])); // #15
        call(200, "exit_group", new long[] {7, 0, 0, 0, 0, 0}, 0, List.of());                                    // #16
        add(new ExitEvent(seq++, 200, 200, 0, true, 7, 0, false));                                               // #17
        call(100, "write", new long[] {1, 0x7000, 3, 0, 0, 0}, 3, List.of(new MemoryBlock(1, 0x7000, "ok\n".getBytes(StandardCharsets.UTF_8)))); // #18
        call(100, "exit_group", new long[] {0, 0, 0, 0, 0, 0}, 0, List.of());                                    // #19
        add(new ExitEvent(seq++, 100, 100, 0, true, 0, 0, false));                                               // #20
        return events;
    }

    private static List<MemoryBlock> path(int arg, long address, String p) {
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        return List.of(new MemoryBlock(arg, address, Arrays.copyOf(b, b.length + 1)));
    }

    private void call(int pid, String name, long[] args, long result, List<MemoryBlock> inputs) {
        call(pid, name, args, result, inputs, List.of());
    }

    private void call(int pid, String name, long[] args, long result, List<MemoryBlock> inputs, List<MemoryBlock> outputs) {
        long t = seq * 1000;
        add(new SyscallEvent(seq++, pid, pid, t, name.equals("exit_group") ? t : t + 10, TABLE.number(name).orElseThrow(), args,
                inputs, result, outputs, name.equals("exit_group") ? SyscallEvent.NO_EXIT : 0));
    }

    private void add(Event e) {
        events.add(e);
    }
}
