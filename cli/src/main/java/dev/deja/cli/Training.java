package dev.deja.cli;

/**
 * The training run of deja's AOT cache ({@code cli/target/deja.aot}): the commands whose start
 * should be quick, one after the other in one JVM, so that one cache holds the classes, linkage and
 * profiles of all of them (a JDK 25 cache is made from one run). {@code scripts/install.sh} runs it
 * through the launcher with {@code DEJA_AOT_TRAIN=1}, which adds {@code -XX:AOTCacheOutput} and
 * starts this class instead of {@link Main}.
 *
 * <p>Its recording goes into deja's home, which must be a scratch directory named by {@code DEJA_HOME}
 * (a user's own recordings are neither read nor added to). Exits 0 when every command did what it
 * should, else 1.
 */
final class Training {
    private Training() {
    }

    public static void main(String[] args) {
        String home = System.getenv("DEJA_HOME");
        if (args.length != 0 || home == null || home.isEmpty()) {
            System.err.println("deja: the training run takes no arguments and needs DEJA_HOME set to a scratch directory");
            System.exit(ExitCodes.DEJA_FAILURE);
        }
        int failures = 0;
        // The order of a first use: help, a recording, the list, its description, its replay.
        failures += expect(0, "--help");
        failures += expect(0, "--version");
        failures += expect(0, "record", "--help");
        failures += expect(0, "replay", "--help");
        failures += expect(ExitCodes.DEJA_FAILURE, "replya");
        failures += expect(0, "record", "-q", "--", "/bin/true");
        failures += expect(0, "ls");
        failures += expect(0, "info");
        failures += expect(0, "replay", "-q");
        failures += expect(0, "replay", "-q");
        System.out.flush();
        System.exit(failures == 0 ? 0 : 1);
    }

    private static int expect(int status, String... args) {
        int got = Main.run(args);
        if (got == status) return 0;
        System.err.println("deja: training: 'deja " + String.join(" ", args) + "' exited " + got + ", not " + status);
        return 1;
    }
}
