package dev.deja.replayer.stack;

/** An ELF file that cannot be read (missing, not ELF, damaged): the message names the file and what is wrong. */
public final class ElfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ElfException(String message) {
        super(message);
    }
}
