package dev.deja.samples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build put the compiled sample programs (samples/target/bin). */
public final class Samples {
    private Samples() {
    }

    public static Path bin() {
        String configured = System.getProperty("deja.samples.bin");
        Path dir = configured != null ? Path.of(configured) : Path.of("..", "samples", "target", "bin");
        return dir.toAbsolutePath().normalize();
    }

    /** The absolute path of sample program {@code name}; fails clearly when the build did not make it. */
    public static String path(String name) {
        Path p = bin().resolve(name);
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("sample program " + p + " is missing: build module samples (make, gcc)");
        }
        return p.toString();
    }
}
