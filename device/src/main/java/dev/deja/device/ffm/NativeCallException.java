package dev.deja.device.ffm;

/** A native call failed: names the call, its errno and what it was applied to. */
public final class NativeCallException extends RuntimeException {
    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno, String context) {
        super(call + " failed: " + ErrnoText.describe(errno) + (context.isEmpty() ? "" : " (" + context + ")"));
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
