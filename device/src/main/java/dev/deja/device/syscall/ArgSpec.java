package dev.deja.device.syscall;

/**
 * One argument of a schema.
 *
 * @param kind   what the argument is
 * @param name   the flag/enum table (FLAGS, ENUM) or struct name (IN, OUT, ...), else null
 * @param n      the index of the argument that bounds or counts it, or -1
 * @param size   the struct size on the schema's architecture, or 0
 */
public record ArgSpec(ArgKind kind, String name, int n, int size) {

    public static ArgSpec parse(String token, Arch arch) {
        String[] p = token.split(":");
        ArgKind kind = ArgKind.parse(p[0]);
        String name = null;
        int n = -1;
        int size = 0;
        switch (kind) {
            case FLAGS, ENUM -> name = p[1];
            case IN, OUT, IO -> {
                name = p[1];
                size = Structs.size(name, arch);
            }
            case INARR, OUTARR, OUTRET, IOARR, CIN -> {
                name = p[1];
                size = Structs.size(name, arch);
                n = Integer.parseInt(p[2]);
            }
            case FILEHANDLE -> size = 8;
            default -> {
                if (p.length > 1) n = Integer.parseInt(p[1]);
            }
        }
        return new ArgSpec(kind, name, n, size);
    }

    @Override
    public String toString() {
        return kind.token + (name != null ? ":" + name : "") + (n >= 0 ? ":" + n : "");
    }
}
