package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class FdTableTest {
    private final Timeline t = Events.timeline();

    private static String show(List<FdTable.Open> fds) {
        StringBuilder b = new StringBuilder();
        for (FdTable.Open o : fds) b.append(o.fd()).append('=').append(o.what()).append(o.cloexec() ? " [cloexec]" : "").append(" @").append(o.openedAt()).append('\n');
        return b.toString();
    }

    @Test
    void opensDupsPipesClosesForksAndExecs() {
        String inherited = "0=stdin (inherited) @-1\n1=stdout (inherited) @-1\n2=stderr (inherited) @-1\n";
        assertEquals(inherited, show(FdTable.before(t, 100, 3)));
        // the failed open adds nothing; the relative open is resolved against its directory descriptor
        assertEquals(inherited + "3=/etc/app.conf [cloexec] @3\n", show(FdTable.before(t, 100, 5)));
        assertEquals(inherited + "3=/etc/app.conf [cloexec] @3\n4=/etc/app.conf/data.txt @5\n", show(FdTable.before(t, 100, 6)));
        assertEquals(inherited + "3=/etc/app.conf [cloexec] @3\n5=pipe read end [cloexec] @9\n6=pipe write end [cloexec] @9\n"
                + "10=/etc/app.conf/data.txt (dup of fd 4) @10\n", show(FdTable.before(t, 100, 12)));
        // the child has its parent's table at the fork; its exec drops the close-on-exec descriptors
        assertEquals(show(FdTable.before(t, 100, 12)), show(FdTable.before(t, 200, 14)));
        assertEquals(inherited + "10=/etc/app.conf/data.txt (dup of fd 4) @10\n", show(FdTable.before(t, 200, 16)));
        assertEquals("", show(FdTable.before(t, 999, 20)));
    }
}
