package dev.deja.formats;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.UnaryOperator;

/** Editing a recording's meta.json in tests: as damage (the checksum left as it was) or as a writer would (re-checksummed). */
public final class MetaFiles {
    private static final String CHECKSUM_LINE = "  \"sha256\": \"";

    private MetaFiles() {
    }

    /** Applies {@code edit} to the text before the checksum line and writes a checksum that matches again. */
    public static void editAndResum(Path meta, UnaryOperator<String> edit) throws IOException {
        String text = Files.readString(meta, StandardCharsets.UTF_8);
        int at = text.lastIndexOf(CHECKSUM_LINE);
        if (at < 0) throw new IllegalStateException(meta + " has no checksum line");
        String covered = edit.apply(text.substring(0, at));
        Files.writeString(meta, covered + CHECKSUM_LINE + sha256(covered) + "\"\n}\n", StandardCharsets.UTF_8);
    }

    /** Removes the checksum line, as a deja before the checksum wrote the file. */
    public static void stripChecksum(Path meta) throws IOException {
        String text = Files.readString(meta, StandardCharsets.UTF_8);
        int at = text.lastIndexOf(CHECKSUM_LINE);
        if (at < 0) throw new IllegalStateException(meta + " has no checksum line");
        Files.writeString(meta, text.substring(0, at - 2) + "\n}\n", StandardCharsets.UTF_8);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
