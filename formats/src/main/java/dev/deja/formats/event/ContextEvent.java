package dev.deja.formats.event;

/** The context of process {@code pid} from this event on. */
public record ContextEvent(long seq, int pid, int tid, long timeNs, ProcessContext context) implements Event {

    @Override
    public String kind() {
        return "context";
    }
}
