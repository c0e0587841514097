package dev.deja.cli;

import dev.deja.device.tracer.StraceTracer;
import dev.deja.replayer.stack.ProcessMaps;
import dev.deja.replayer.stack.Unwinder;
import java.util.List;

/**
 * {@code deja trace -k}: the stack of a live traced thread at a call's entry, unwound through the
 * files its /proc/PID/maps names (the objects it runs now, not copies), printed as strace -k does.
 */
final class LiveStacks {
    private LiveStacks() {
    }

    static StraceTracer.StackSource source() {
        ProcessMaps.Cache cache = new ProcessMaps.Cache();
        return tracee -> {
            long[] regs;
            try {
                regs = tracee.registers();
            } catch (dev.deja.device.DeviceException | UnsupportedOperationException e) {
                return List.of(" > unexpected_backtracing_error [0x0]"); // the thread is gone: as strace says then
            }
            ProcessMaps space = new ProcessMaps(ProcessMaps.read(tracee.pid()), tracee.memory(), cache, ProcessMaps.Mapping::path);
            return Unwinder.unwind(regs, tracee.memory(), space, Unwinder.MAX_FRAMES).stream().map(Unwinder.Frame::straceLine).toList();
        };
    }
}
