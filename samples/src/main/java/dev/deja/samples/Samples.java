package dev.deja.samples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build put the compiled sample programs (samples/target/bin) and JVM samples (samples/target/java). */
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

    /**
     * The class directory of the JVM samples (samples/java/*.java, compiled for Java 17 and later), for
     * {@code java -cp}; fails clearly when the build did not make {@code className}.
     */
    public static String javaClasses(String className) {
        Path dir = bin().resolveSibling("java");
        if (!Files.isRegularFile(dir.resolve(className + ".class"))) {
            throw new IllegalStateException("JVM sample " + className + " is missing from " + dir + ": build module samples (javac)");
        }
        return dir.toString();
    }
}
