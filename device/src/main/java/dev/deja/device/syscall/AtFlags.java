package dev.deja.device.syscall;

/**
 * The {@code *at()} calls' directory and flag values (fcntl.h, linux/fcntl.h), the same on every
 * architecture deja knows: for code that builds or inspects such a call's arguments.
 */
public final class AtFlags {
    /** The directory argument meaning the caller's cwd. */
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    /** faccessat: check with the effective ids. */
    public static final int AT_EACCESS = 0x200;
    public static final int AT_NO_AUTOMOUNT = 0x800;
    /** An empty path names the directory argument's own file. */
    public static final int AT_EMPTY_PATH = 0x1000;
    /** statx: answer from what the file system has, without asking its server. */
    public static final int AT_STATX_DONT_SYNC = 0x4000;

    private AtFlags() {
    }
}
