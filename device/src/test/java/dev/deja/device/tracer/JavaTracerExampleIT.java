package dev.deja.device.tracer;

import dev.deja.device.TraceRun;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deja.device.Decision;
import dev.deja.device.Launch;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.SyscallTable;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example tracer (samples/tracers/README.md points here): a tracer on the device's Java
 * API that gives each process a write quota on its standard output and fails the writes beyond
 * it with ENOSPC, as a full disk would. It is chained in front of {@link StraceTracer}, which
 * prints what the program saw.
 */
class JavaTracerExampleIT {

    /** Fails write(1, ...) with ENOSPC once a process has written {@code quota} bytes to it. */
    static final class StdoutQuota implements Tracer {
        private final long quota;
        private final int write = SyscallTable.of(Arch.current()).number("write").orElseThrow();
        private final Map<Integer, Long> written = new HashMap<>();

        StdoutQuota(long quota) {
            this.quota = quota;
        }

        @Override
        public boolean decides() {
            return true;
        }

        @Override
        public Decision onSyscallEntry(SyscallEntry e, Tracee tracee) {
            if (e.nr() != write || e.arg(0) != 1) return Decision.proceed();
            long used = written.getOrDefault(e.pid(), 0L);
            if (used + e.arg(2) > quota) return Decision.fail(Errno.number("ENOSPC").orElseThrow());
            written.put(e.pid(), used + e.arg(2));
            return Decision.proceed();
        }
    }

    @TempDir
    Path tmp;

    @Test
    void aJavaTracerFailsWritesBeyondAQuota() throws Exception {
        Path file = tmp.resolve("out.txt");
        StringWriter trace = new StringWriter();
        SyscallTable table = SyscallTable.of(Arch.current());
        StraceTracer strace = new StraceTracer(new StraceTracer.Options(new Renderer(Arch.current()),
                SyscallSet.parse("write", table), List.of(), false, false, false, false, false, true), new PrintWriter(trace));
        TracerChain chain = new TracerChain(List.of(new StdoutQuota(12), strace));
        TraceRun.run(Launch.of(List.of("/bin/sh", "-c", "exec > \"$0\"; echo 12345; echo 67890; echo abc", file.toString()),
                List.of()), chain, strace::finish);
        assertEquals("12345\n67890\n", Files.readString(file));
        List<String> lines = trace.toString().lines().map(l -> l.replaceAll(" +=", " =")).toList();
        assertEquals(List.of("write(1, \"12345\\n\", 6) = 6", "write(1, \"67890\\n\", 6) = 6",
                "write(1, \"abc\\n\", 4) = -1 ENOSPC (No space left on device)"), lines.subList(0, 3), trace.toString());
    }
}
