package dev.deja.formats.pack;

import java.util.Objects;

/**
 * One file of a packed recording, as the manifest lists it.
 *
 * @param name   the path relative to the recording directory ("meta.json", "journal/20261129H.cq4", ...)
 * @param size   the file's length, holes included
 * @param stored bytes carried in chunks (the file's non-zero chunks), before compression
 * @param sha256 the SHA-256 of the whole file as unpacked (holes read as zeros), lower-case hex
 */
public record PackEntry(String name, long size, long stored, String sha256) {
    public PackEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sha256, "sha256");
        if (size < 0 || stored < 0 || stored > size) {
            throw new IllegalArgumentException("entry " + name + ": stored " + stored + " of size " + size);
        }
    }
}
