package dev.deja.device.ffm;

/** Names for the few errno values the bindings themselves report; the full table lives with the syscall data. */
final class ErrnoText {
    private ErrnoText() {
    }

    static String describe(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 3 -> "ESRCH";
            case 4 -> "EINTR";
            case 5 -> "EIO";
            case 10 -> "ECHILD";
            case 11 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 14 -> "EFAULT";
            case 22 -> "EINVAL";
            case 38 -> "ENOSYS";
            default -> "errno " + errno;
        };
        return name;
    }
}
