package dev.deja.formats;

/** How a recording ended, as its metadata says. */
public enum RecordingStatus {
    /** Still being written, or the recorder died (SIGKILL, crash, power loss) before finishing it. */
    INCOMPLETE,
    /** The recorder finished it normally. */
    COMPLETE,
    /** The recorder was stopped (Ctrl-C, SIGTERM) and closed the recording cleanly. */
    INTERRUPTED;

    /** The word used in the metadata file. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static RecordingStatus fromWord(String word) {
        for (RecordingStatus s : values()) if (s.word().equals(word)) return s;
        throw new IllegalArgumentException("unknown recording status '" + word + "'");
    }
}
