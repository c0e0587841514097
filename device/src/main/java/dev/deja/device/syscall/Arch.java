package dev.deja.device.syscall;

import java.util.Locale;

/** The CPU architectures whose system calls deja knows. */
public enum Arch {
    X86_64("x86_64"),
    AARCH64("aarch64");

    private final String unameName;

    Arch(String unameName) {
        this.unameName = unameName;
    }

    /** The architecture of the running JVM. */
    public static Arch current() {
        return parse(System.getProperty("os.arch"));
    }

    /**
     * Parses a machine name as {@code uname -m} prints it (also accepting the JVM's
     * {@code os.arch} spellings {@code amd64} and {@code arm64}).
     *
     * @throws IllegalArgumentException for an architecture deja does not support
     */
    public static Arch parse(String unameMachine) {
        String m = unameMachine == null ? "" : unameMachine.trim().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "x86_64", "amd64", "x86-64", "x64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new IllegalArgumentException("unsupported architecture: " + unameMachine);
        };
    }

    /** The name {@code uname -m} prints: "x86_64" or "aarch64". */
    public String unameName() {
        return unameName;
    }
}
