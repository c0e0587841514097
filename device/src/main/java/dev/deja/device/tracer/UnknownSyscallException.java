package dev.deja.device.tracer;

/** A syscall name this architecture's table does not have; carries the name so a caller can suggest one. */
public final class UnknownSyscallException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String name;

    public UnknownSyscallException(String name) {
        super("unknown syscall '" + name + "'");
        this.name = name;
    }

    public String name() {
        return name;
    }
}
