package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * getpwnam(3) and getgrouplist(3): a user's ids and supplementary groups as the C library (and its
 * NSS modules) know them, as strace's {@code -u} and initgroups(3) find them.
 */
public final class Users {
    private static final MethodHandle GETPWNAM = Native.withErrno("getpwnam",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle GETGROUPLIST = Native.plain("getgrouplist",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS));
    /** struct passwd on 64-bit Linux: pw_name, pw_passwd (pointers), then pw_uid and pw_gid. */
    private static final long PW_UID = 16;
    private static final long PW_GID = 20;
    private static final long PASSWD_SIZE = 48;

    /** A user's uid, primary gid and every group it belongs to (the primary one included). */
    public record User(String name, int uid, int gid, List<Integer> groups) {
        public User {
            groups = List.copyOf(groups);
        }
    }

    private Users() {
    }

    /** The user called {@code name}, or empty when there is none. */
    @SuppressWarnings("restricted") // getpwnam's struct passwd has a known size: sized to read its ids
    public static Optional<User> byName(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(name);
            MemorySegment state = Native.callState(arena);
            MemorySegment pw = (MemorySegment) GETPWNAM.invokeExact(state, cname);
            if (pw.equals(MemorySegment.NULL)) return Optional.empty();
            pw = pw.reinterpret(PASSWD_SIZE);
            int uid = pw.get(ValueLayout.JAVA_INT, PW_UID);
            int gid = pw.get(ValueLayout.JAVA_INT, PW_GID);
            return Optional.of(new User(name, uid, gid, groups(arena, cname, gid)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static List<Integer> groups(Arena arena, MemorySegment cname, int gid) throws Throwable {
        int capacity = 64;
        while (true) {
            MemorySegment list = arena.allocate(ValueLayout.JAVA_INT, capacity);
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            count.set(ValueLayout.JAVA_INT, 0, capacity);
            int r = (int) GETGROUPLIST.invokeExact(cname, gid, list, count);
            int n = count.get(ValueLayout.JAVA_INT, 0);
            if (r >= 0) {
                List<Integer> groups = new ArrayList<>(n);
                for (int i = 0; i < n; i++) groups.add(list.getAtIndex(ValueLayout.JAVA_INT, i));
                return groups;
            }
            // too small: getgrouplist said how many there are
            if (n <= capacity) throw new NativeCallException("getgrouplist", 0, "no group count for this user");
            capacity = n;
        }
    }
}
