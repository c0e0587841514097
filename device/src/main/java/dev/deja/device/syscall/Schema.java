package dev.deja.device.syscall;

import java.util.List;

/**
 * The model of one syscall: its arguments, what memory they name, and how its result reads.
 *
 * @param name          the syscall name
 * @param nr            its number on the schema's architecture
 * @param ret           how to print the result: d, u, x, o, fd, pid, none
 * @param args          one spec per kernel argument
 * @param unknownWrites true when the kernel may write memory deja cannot size
 */
public record Schema(String name, int nr, String ret, List<ArgSpec> args, boolean unknownWrites) {

    public Schema {
        args = List.copyOf(args);
    }

    public int argCount() {
        return args.size();
    }

    public ArgSpec arg(int i) {
        return args.get(i);
    }

    /** The schema as its line in schemas.txt. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(' ').append(ret);
        for (ArgSpec a : args) sb.append(' ').append(a);
        if (unknownWrites) sb.append(" !unknown-writes");
        return sb.toString();
    }
}
