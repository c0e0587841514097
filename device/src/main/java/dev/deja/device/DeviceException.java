package dev.deja.device;

/** The device could not do what it was asked; the message says what, for which process. */
public final class DeviceException extends RuntimeException {
    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
