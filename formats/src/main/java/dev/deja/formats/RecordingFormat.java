package dev.deja.formats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Version numbers of the recording format (see docs/format.md, "Versioning"). */
public final class RecordingFormat {

    /** The magic word that opens every recording's metadata. */
    public static final String MAGIC = "deja-recording";
    /**
     * The format version this deja writes (2: schedule events, threads serialized while recording; 3: a
     * preemption's deeper stack hash; 4: a signal one recorded process sends another is recorded where it
     * landed, as one from outside, and replay sends it from the recording instead of running the kill;
     * 5: a preemption point's memory witness, a hash of the heap and data its registers point at; 6: the
     * witness's hashes leave out the APIC IDs of cpuid leaf 1 a program keeps in memory).
     */
    public static final int CURRENT_VERSION = 6;
    /** The first version whose replay answers kills between recorded processes from the recording. */
    public static final int KILLS_FROM_RECORDING_VERSION = 4;
    /** The first version whose memory witnesses are hashed without cpuid's APIC IDs (MemoryWitness.withoutApicIds). */
    public static final int APIC_IDS_LEFT_OUT_VERSION = 6;
    /** The oldest format version this deja still reads. */
    public static final int OLDEST_READABLE_VERSION = 1;
    /** The version of deja itself, from the build. */
    public static final String DEJA_VERSION = loadDejaVersion();

    private RecordingFormat() {
    }

    private static String loadDejaVersion() {
        try (InputStream in = RecordingFormat.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("deja.version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read deja's version.properties", e);
        }
    }
}
