package dev.deja.formats.event;

/**
 * A file was mapped into memory (the successful mmap of a file descriptor, or the kernel's own
 * mappings made at exec). The file's bytes are in the blob store under {@code blob}.
 *
 * @param blob content hash in the blob store, or "" when the file could not be copied
 */
public record MappingEvent(long seq, int pid, int tid, long timeNs, long address, long length, int prot, int flags,
                           long offset, String path, long fileSize, String blob) implements Event {

    @Override
    public String kind() {
        return "mmap";
    }
}
