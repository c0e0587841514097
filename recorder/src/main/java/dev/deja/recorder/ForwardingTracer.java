package dev.deja.recorder;

import dev.deja.device.Decision;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Path;

/**
 * A tracer that hands every call to another: the base of decorators that add one concern (a time
 * limit, chaos scheduling) around the recording tracer and override only what they change.
 */
public abstract class ForwardingTracer implements Tracer {
    protected final Tracer inner;

    protected ForwardingTracer(Tracer inner) {
        this.inner = inner;
    }

    @Override
    public boolean decides() {
        return inner.decides();
    }

    @Override
    public boolean refusesRseq() {
        return inner.refusesRseq();
    }

    @Override
    public Decision onSyscallEntry(SyscallEntry entry, Tracee tracee) {
        return inner.onSyscallEntry(entry, tracee);
    }

    @Override
    public int signalToDeliver(SignalEvent event, Tracee tracee) {
        return inner.signalToDeliver(event, tracee);
    }

    @Override
    public boolean ordersThreads() {
        return inner.ordersThreads();
    }

    @Override
    public boolean mayContinue(Tracee tracee, dev.deja.device.RunStop stop) {
        return inner.mayContinue(tracee, stop);
    }

    @Override
    public dev.deja.device.SchedulePolicy scheduling() {
        return inner.scheduling();
    }

    @Override
    public void onSchedule(dev.deja.formats.event.ScheduleEvent event) {
        inner.onSchedule(event);
    }

    @Override
    public void stalled() {
        inner.stalled();
    }

    @Override
    public void onSyscall(SyscallEvent event, Tracee tracee) {
        inner.onSyscall(event, tracee);
    }

    @Override
    public void onSignal(SignalEvent event, Tracee tracee) {
        inner.onSignal(event, tracee);
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        inner.onSpawn(event);
    }

    @Override
    public void onExec(ExecEvent event, Path executable) {
        inner.onExec(event, executable);
    }

    @Override
    public void onMapping(MappingEvent event, Path source) {
        inner.onMapping(event, source);
    }

    @Override
    public void onContext(ContextEvent event) {
        inner.onContext(event);
    }

    @Override
    public void onExit(ExitEvent event) {
        inner.onExit(event);
    }
}
