package dev.deja.cli;

/** Where {@code deja replay --gdb} listens: HOST:PORT, :PORT or PORT (then on 127.0.0.1). */
record GdbAddress(String host, int port) {
    static final String DEFAULT = "127.0.0.1:50505";
    private static final String LOOPBACK = "127.0.0.1";

    static boolean looksLikeOne(String s) {
        int colon = s.lastIndexOf(':');
        String port = colon < 0 ? s : s.substring(colon + 1);
        return !port.isEmpty() && port.chars().allMatch(Character::isDigit);
    }

    static GdbAddress parse(String s) {
        if (!looksLikeOne(s)) throw new UserError("--gdb " + s + ": not HOST:PORT or PORT");
        int colon = s.lastIndexOf(':');
        String host = colon <= 0 ? LOOPBACK : s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) throw new UserError("--gdb " + s + ": the port must be 0 to 65535");
        return new GdbAddress(host, port);
    }
}
