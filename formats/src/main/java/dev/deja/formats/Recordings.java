package dev.deja.formats;

import dev.deja.formats.internal.FileOps;
import dev.deja.formats.internal.Metadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where recordings live by default (like rr's ~/.local/share/rr), and how they are named. */
public final class Recordings {

    /** The symlink to the most recent recording. */
    public static final String LATEST = "latest";
    /** Hidden directory of per-program counters, so that numbers are never reused. */
    static final String COUNTERS = ".counters";
    private static final Pattern NUMBERED = Pattern.compile("(.+)-(\\d+)");

    private Recordings() {
    }

    /** $DEJA_HOME, else $XDG_DATA_HOME/deja, else ~/.local/share/deja. */
    public static Path home() {
        return home(System.getenv(), System.getProperty("user.home"));
    }

    /** {@link #home()}, refused when it exists but is not a directory (DEJA_HOME set to a file, say). */
    public static Path usableHome() throws RecordingException {
        Path home = home();
        requireUsable(home);
        return home;
    }

    static void requireUsable(Path home) throws RecordingException {
        if (Files.exists(home) && !Files.isDirectory(home)) {
            throw new RecordingException("deja's home " + home + " is not a directory (it is $DEJA_HOME, else"
                    + " $XDG_DATA_HOME/deja, else ~/.local/share/deja)");
        }
    }

    static Path home(Map<String, String> env, String userHome) {
        String deja = env.get("DEJA_HOME");
        if (deja != null && !deja.isEmpty()) return Path.of(deja);
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()) return Path.of(xdg, "deja");
        return Path.of(userHome, ".local", "share", "deja");
    }

    /**
     * Creates and returns {@code home/<prog>-N}, N one more than any number this home ever gave
     * {@code prog} (a counter file remembers it, so a deleted recording's number is not reused).
     *
     * @throws UncheckedIOException when the directory cannot be created
     */
    public static Path newRecordingDir(Path home, String programName) {
        String prog = sanitize(programName);
        Path counters = home.resolve(COUNTERS);
        Path counter = counters.resolve(prog);
        try {
            Files.createDirectories(counters);
            try (FileChannel ch = FileChannel.open(counter, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                ByteBuffer buf = ByteBuffer.allocate(32);
                ch.read(buf, 0);
                String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
                long last = 0;
                if (!text.isEmpty()) {
                    try {
                        last = Long.parseLong(text);
                    } catch (NumberFormatException e) {
                        last = 0; // a damaged counter: the directory scan below still keeps numbers increasing
                    }
                }
                last = Math.max(last, highestNumber(home, prog));
                while (true) {
                    last++;
                    Path dir = home.resolve(prog + "-" + last);
                    try {
                        FileOps.createPrivateDirectory(dir);   // 0700: see RecordingWriter.create
                        ch.truncate(0);
                        ch.write(ByteBuffer.wrap((last + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
                        if (!lock.isValid()) throw new IOException("lost the lock on " + counter);
                        return dir;
                    } catch (FileAlreadyExistsException e) {
                        // taken by someone who does not use the counter: try the next number
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a recording directory for " + prog + " under " + home + ": "
                    + FileOps.describe(e), e);
        }
    }

    private static long highestNumber(Path home, String prog) throws IOException {
        long max = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(home)) {
            for (Path p : ds) {
                Matcher m = NUMBERED.matcher(p.getFileName().toString());
                if (m.matches() && m.group(1).equals(prog)) {
                    try {
                        max = Math.max(max, Long.parseLong(m.group(2)));
                    } catch (NumberFormatException e) {
                        // more digits than a long: not one of ours
                    }
                }
            }
        }
        return max;
    }

    /** The base name of a program, safe as a directory name. */
    static String sanitize(String programName) {
        String base = programName == null ? "" : programName;
        int slash = base.lastIndexOf('/');
        if (slash >= 0) base = base.substring(slash + 1);
        base = base.replaceAll("[^A-Za-z0-9._+-]", "_");
        if (base.isEmpty() || base.equals(".") || base.equals("..") || base.startsWith(".")) base = "recording" + base;
        return base;
    }

    /**
     * Points {@code home/latest} at the recording, replacing the previous link atomically (rename over it).
     *
     * @throws UncheckedIOException when the link cannot be made
     */
    public static void pointLatest(Path home, Path recording) {
        Path link = home.resolve(LATEST);
        Path tmp = home.resolve(".latest-" + UUID.randomUUID());
        Path target = recording.toAbsolutePath().normalize();
        Path homeAbs = home.toAbsolutePath().normalize();
        if (target.getParent() != null && target.getParent().equals(homeAbs)) target = target.getFileName();
        try {
            Files.createSymbolicLink(tmp, target);
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot point " + link + " at " + recording + ": " + e, e);
        }
    }

    /**
     * A recording directory named by the user: null or "latest" (the latest link under {@link #home()}),
     * an existing path, or a name under {@link #home()}.
     */
    public static Path resolve(String nameOrPath) throws RecordingException {
        return resolve(nameOrPath, home());
    }

    static Path resolve(String nameOrPath, Path home) throws RecordingException {
        if (nameOrPath == null || nameOrPath.isEmpty() || nameOrPath.equals(LATEST)) {
            requireUsable(home);
            Path link = home.resolve(LATEST);
            if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                throw new RecordingException("no latest recording: " + link + " does not exist (record something first)");
            }
            if (!Files.isDirectory(link)) {
                throw new RecordingException("the latest recording is gone: " + link + " points at a missing directory");
            }
            try {
                return link.toRealPath();
            } catch (IOException e) {
                throw new RecordingException("cannot follow " + link + ": " + e, e);
            }
        }
        Path asPath = Path.of(nameOrPath);
        if (Files.exists(asPath)) return asPath;
        // Files.exists is false too for a path this user may not look at: say so rather than "no such file"
        if (FileOps.denied(asPath)) throw new RecordingException("cannot read " + asPath + ": permission denied");
        if (!nameOrPath.contains("/")) {
            Path underHome = home.resolve(nameOrPath);
            if (Files.exists(underHome)) return underHome;
            if (FileOps.denied(underHome)) throw new RecordingException("cannot read " + underHome + ": permission denied");
            throw new RecordingException("no recording named '" + nameOrPath + "': neither ./" + nameOrPath + " nor "
                    + underHome + " exists");
        }
        throw new RecordingException("no recording at " + asPath + ": no such file or directory");
    }

    /** The recordings under {@code home} (directories holding a meta.json), oldest number first per program. */
    public static List<Path> list(Path home) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(home)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(home)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || name.equals(LATEST) || Files.isSymbolicLink(p)) continue;
                if (Files.isRegularFile(p.resolve(Metadata.FILE_NAME))) out.add(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list recordings under " + home, e);
        }
        out.sort(Comparator.comparing(Recordings::programOf).thenComparingLong(Recordings::numberOf)
                .thenComparing(p -> p.getFileName().toString()));
        return out;
    }

    private static String programOf(Path p) {
        Matcher m = NUMBERED.matcher(p.getFileName().toString());
        return m.matches() ? m.group(1) : p.getFileName().toString();
    }

    private static long numberOf(Path p) {
        Matcher m = NUMBERED.matcher(p.getFileName().toString());
        if (!m.matches()) return -1;
        try {
            return Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
