package dev.deja.device.tracer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * strace -yy's details of a descriptor: a socket as its protocol and addresses
 * ({@code TCP:[127.0.0.1:40000->127.0.0.1:80]}, {@code UNIX:[4242,"/run/x.sock"]}), a device as
 * {@code /dev/null<char 1:3>}. Read from /proc/PID/net; anything not found stays as the plain link.
 */
final class FdDetails {
    private FdDetails() {
    }

    static String of(Path proc, Path fd, String target) {
        if (target.startsWith("socket:[") && target.endsWith("]")) {
            String inode = target.substring(8, target.length() - 1);
            String found = socket(proc.resolve("net"), inode);
            return found != null ? found : target;
        }
        if (target.startsWith("/dev/")) {
            try {
                int mode = (Integer) Files.getAttribute(fd, "unix:mode");
                long r = (Long) Files.getAttribute(fd, "unix:rdev");
                String type = (mode & 0xF000) == 0x2000 ? "char" : (mode & 0xF000) == 0x6000 ? "block" : null;
                if (type == null) return target;
                long major = ((r >>> 8) & 0xfff) | ((r >>> 32) & ~0xfffL);
                long minor = (r & 0xff) | ((r >>> 12) & ~0xffL);
                return target + "<" + type + " " + major + ":" + minor + ">";
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
                return target; // gone, or no unix attributes here: the plain path, as -y
            }
        }
        return target;
    }

    private static String socket(Path net, String inode) {
        for (String proto : List.of("tcp", "tcp6", "udp", "udp6")) {
            String found = inet(net.resolve(proto), proto, inode);
            if (found != null) return found;
        }
        try {
            for (String line : Files.readAllLines(net.resolve("unix"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 7 && f[6].equals(inode)) {
                    return "UNIX:[" + inode + (f.length >= 8 ? ",\"" + f[7] + "\"" : "") + "]";
                }
            }
        } catch (IOException e) {
            return null; // no /proc/PID/net/unix: the plain socket:[inode]
        }
        return null;
    }

    private static String inet(Path table, String proto, String inode) {
        List<String> lines;
        try {
            lines = Files.readAllLines(table);
        } catch (IOException e) {
            return null;
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[9].equals(inode)) continue;
            String name = proto.startsWith("tcp") ? (proto.endsWith("6") ? "TCPv6" : "TCP") : (proto.endsWith("6") ? "UDPv6" : "UDP");
            String local = address(f[1]);
            String remote = address(f[2]);
            boolean connected = !remote.endsWith(":0");
            return name + ":[" + local + (connected ? "->" + remote : "") + "]";
        }
        return null;
    }

    /** "0100007F:1F90" as 127.0.0.1:8080; an IPv6 address in brackets. */
    private static String address(String hexAddr) {
        int colon = hexAddr.indexOf(':');
        String host = hexAddr.substring(0, colon);
        int port = Integer.parseInt(hexAddr.substring(colon + 1), 16);
        if (host.length() == 8) {
            long v = Long.parseLong(host, 16);
            return String.format(Locale.ROOT, "%d.%d.%d.%d:%d", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff, port);
        }
        int[] groups = new int[8];
        for (int w = 0; w < 4; w++) {
            long v = Long.parseLong(host.substring(w * 8, w * 8 + 8), 16);
            // each 32-bit word is in host (little-endian) order
            int b0 = (int) (v & 0xff), b1 = (int) ((v >> 8) & 0xff), b2 = (int) ((v >> 16) & 0xff), b3 = (int) ((v >> 24) & 0xff);
            groups[w * 2] = (b0 << 8) | b1;
            groups[w * 2 + 1] = (b2 << 8) | b3;
        }
        int bestAt = -1, bestLen = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) j++;
            if (j - i > bestLen) {
                bestAt = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestAt) {
                text.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') text.append(':');
            text.append(Integer.toHexString(groups[i]));
        }
        return "[" + text + "]:" + port;
    }
}
