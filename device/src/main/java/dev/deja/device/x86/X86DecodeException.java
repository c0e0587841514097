package dev.deja.device.x86;

/** Bytes that are no valid x86-64 instruction (in 64-bit mode), or not all of one. */
public final class X86DecodeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** An exception with the message given. */
    public X86DecodeException(String message) {
        super(message);
    }
}
