package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Wait;
import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.ArgSpec;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.BufferStub;
import dev.deja.device.x86.GuardStub;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The recording's syscall buffer in one process ({@link BufferStub}): a region mapped near the program's
 * code, with a page of code per patched {@code syscall} instruction, a data page and the buffer. The
 * common calls that never wait (a stat, a read of a regular file, getpid...) are then made by the
 * program in the stubs, with no stop, and kept in the buffer, which deja empties at the process's next
 * stop of any kind and records call by call, as if each had stopped. On only while the process has one
 * thread and shares neither memory nor its descriptor table.
 */
final class CallBuffer {
    /** Runs of white space, as /proc's files separate their fields (compiled once: String.split would at every call). */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    /** x86_64 syscall numbers (the device is x86_64 only). */
    private static final int NR_MMAP = 9;
    private static final int PROT_RWX = 0x7;
    private static final int MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE = 0x02 | 0x20 | 0x100000;
    /**
     * Syscall instructions a process patches at most (a page of code each, before the data page; a page is
     * memory only once written): the sites of its libc and loader that any process of the recording used.
     */
    static final int CODE_PAGES = 64;
    /** The buffer's usable bytes: past them the next call stops and deja empties it. */
    static final long BUFFER_BYTES = 1 << 20;
    /** How far a site may be from the stubs' pages (rel32 reach, with room to spare). */
    private static final long REACH = 1L << 30;
    /** Descriptors below this may be marked for the stubs' reads. */
    static final int MAX_MARKED = BufferStub.MAX_FD;
    /** DEJA_NO_BUFFER=1: every call stops (for comparisons). */
    static final boolean ENABLED = System.getenv("DEJA_NO_BUFFER") == null;

    /**
     * The calls a stub may make and keep: none waits for anyone (a read or a close only on a descriptor deja
     * marked as a regular file or a directory, see {@link CallEmulator#nonBlocking}; an open only with
     * O_NONBLOCK or O_DIRECTORY, or of a path the stub's stat finds a regular file or a directory; fcntl only
     * to read flags or set close-on-exec; rt_sigaction with the kernel's sigset size; not rt_sigprocmask, whose
     * mask a signal held in the stub would change under it), none changes what deja
     * tracks of a process in a way it cannot learn from the call afterwards (a close gives back deja's
     * copies of descriptors when the buffer is read, before any call is performed again). And a private
     * {@code mmap}: anonymous, or of a file, after which the stub traps for deja to copy the file.
     */
    static final List<String> CALLS = List.of("read", "pread64", "getdents64", "fstat", "lseek", "newfstatat",
            "statx", "stat", "lstat", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd",
            "uname", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "close", "fcntl",
            "open", "openat", "write", "pwrite64", "brk", "mprotect", "munmap", "rt_sigaction", "prlimit64", "mmap",
            "getrandom", "sysinfo", "set_tid_address", "set_robust_list");
    /**
     * Calls on a marked descriptor only: a read or a write would block on a pipe, a terminal or a socket, a
     * close could wait; a write to a descriptor the process did not open itself (its output) always stops.
     */
    static final List<String> ON_MARKED = List.of("read", "pread64", "close", "write", "pwrite64");
    private static final long F_GETFD = 1;
    private static final long F_SETFD = 2;
    private static final long F_GETFL = 3;
    private static final long O_NONBLOCK = 04000;
    private static final long O_DIRECTORY = 0200000;
    /** rt_sigaction's sigsetsize: any other fails EINVAL before the kernel reads the action. */
    private static final long KERNEL_SIGSET = 8;

    /**
     * The plans of {@link #CALLS}, from their schemas: a path argument is kept as it was given, an output
     * argument as the kernel wrote it (a struct's size, or the result's length of a buffer).
     */
    static Map<Integer, BufferStub.Plan> plans(Schemas schemas) {
        Map<Integer, BufferStub.Plan> plans = new HashMap<>();
        for (String name : CALLS) {
            int nr = schemas.table().number(name).orElse(-1);
            if (name.equals("mmap")) {
                // its sixth argument is the offset: its marker goes in the descriptor's high half
                if (nr >= 0) plans.put(nr, BufferStub.Plan.privateMapping(nr));
                continue;
            }
            Schema s = nr < 0 ? null : schemas.get(nr);
            if (s == null || s.unknownWrites() || s.argCount() > 5) continue;
            BufferStub.Plan p = plan(nr, s, ON_MARKED.contains(name), name.equals("close"));
            if (p == null) continue;
            if (name.equals("fcntl")) {
                p = new BufferStub.Plan(nr, -1, -1, 0, -1, false, false, 1, List.of(F_GETFD, F_SETFD, F_GETFL), -1, 0,
                        false, false);
            } else if (name.startsWith("open")) {
                p = new BufferStub.Plan(nr, p.pathArg(), -1, 0, -1, false, false, -1, List.of(), p.pathArg() + 1,
                        O_NONBLOCK | O_DIRECTORY, true, false);
            } else if (name.equals("rt_sigaction")) {
                p = new BufferStub.Plan(nr, -1, p.outArg(), p.outFixed(), -1, false, false, 3, List.of(KERNEL_SIGSET), -1, 0,
                        false, false, p.inArg(), p.inFixed());
            }
            plans.put(nr, p);
        }
        return Map.copyOf(plans);
    }

    /**
     * The plan for schema {@code s}, or null when an argument is memory of another kind than a path or an
     * output (fcntl's argument is memory for a few commands only: its plan takes the others).
     */
    static BufferStub.Plan plan(int nr, Schema s, boolean fdChecked, boolean clearsFd) {
        int path = -1;
        int out = -1;
        int fixed = 0;
        int count = -1;
        boolean input = false;
        int in = -1;
        int inFixed = 0;
        for (int i = 0; i < s.argCount(); i++) {
            ArgSpec a = s.arg(i);
            ArgKind k = a.kind();
            if (!k.memory() || k == ArgKind.FCNTLARG) continue;
            switch (k) {
                case PATH, STR -> {
                    if (path >= 0) return null;
                    path = i;
                }
                case OBUF, OSTR, DENTS, IBUF -> {
                    if (out >= 0) return null;
                    out = i;
                    count = a.n();
                    input = k == ArgKind.IBUF;
                }
                case OUT -> {
                    if (out >= 0 || a.size() <= 0 || a.size() > BufferStub.MAX_OUT) return null;
                    out = i;
                    fixed = a.size();
                }
                case IN -> {
                    if (in >= 0 || a.size() <= 0 || a.size() > BufferStub.MAX_IN) return null;
                    in = i;
                    inFixed = a.size();
                }
                default -> {
                    return null;
                }
            }
        }
        if (in >= 0 && (path >= 0 || input)) return null;
        return new BufferStub.Plan(nr, path, out, fixed, count, fdChecked, clearsFd, -1, List.of(), -1, 0, false, input,
                in, inFixed);
    }

    /** One patched syscall instruction: its stub and the program's bytes the patch replaced. */
    private record Site(BufferStub stub, byte[] original) {
    }

    private final long region;
    private final long dataAddress;
    /** Patched sites by the program's syscall instruction. */
    private final Map<Long, Site> sites;
    /** Stubs by their code page (a site patched again for another call keeps its old page for a thread inside it). */
    private final List<BufferStub> pages;
    /** The calls seen at each syscall instruction of the process, to patch at the next chance. */
    final Map<Long, TreeSet<Integer>> seen;
    /** Descriptors marked in the data page. */
    private final BitSet marked;
    /** Whether the data page says on. */
    boolean on;
    /** Off for good: the process shares its descriptor table, or its code could not be patched. */
    boolean offForGood;
    /** Off while a child shares the process's memory (vfork): until the call that made it returns. */
    boolean sharedWithChild;
    /** Sites that refused a patch (their function jumps through a register...): not tried again. */
    private final java.util.Set<Long> refused;

    private CallBuffer(long region, long dataAddress, Map<Long, Site> sites, List<BufferStub> pages,
                       Map<Long, TreeSet<Integer>> seen, BitSet marked, boolean on, java.util.Set<Long> refused) {
        this.region = region;
        this.dataAddress = dataAddress;
        this.sites = sites;
        this.pages = pages;
        this.seen = seen;
        this.marked = marked;
        this.on = on;
        this.refused = refused;
    }

    /** A process's buffer before any region is mapped: the calls seen are noted. */
    static CallBuffer unmapped() {
        return new CallBuffer(0, 0, new HashMap<>(), new ArrayList<>(), new LinkedHashMap<>(), new BitSet(), false,
                new java.util.HashSet<>());
    }

    /** The same buffer in a forked child, whose memory is a copy of this process's (the buffer emptied before). */
    CallBuffer forChild() {
        Map<Long, TreeSet<Integer>> s = new LinkedHashMap<>();
        seen.forEach((k, v) -> s.put(k, new TreeSet<>(v)));
        CallBuffer c = new CallBuffer(region, dataAddress, new HashMap<>(sites), new ArrayList<>(pages), s,
                (BitSet) marked.clone(), on, new java.util.HashSet<>(refused));
        c.offForGood = offForGood;
        c.unpatched = unpatched;
        c.pending = pending;
        c.reported = reported;
        c.noneServed = noneServed;
        c.sharedWithChild = false;
        c.imported = imported;
        return c;
    }

    /**
     * The buffer of a vfork child, which runs in its parent's memory while the parent waits in the call that
     * made it: the same region, stubs and data page, with the child's calls recorded as the child's. It
     * patches nothing (the code is the parent's) and is given back with {@link #takeBack} when the parent's
     * call returns (the child has exec'd or ended by then).
     */
    CallBuffer lentToChild() {
        CallBuffer c = forChild();
        c.seen.clear();
        c.pending = false;
        c.lent = true;
        return c;
    }

    /** See {@link #lentToChild}. */
    boolean lent;

    /**
     * Back to the parent after a vfork child used it: emptied (what a child killed in a stub left is lost with
     * it), the parent's descriptor marks back in the data page, off until the parent's next chance to turn it on.
     */
    void takeBack(InThreadGuard.CodeWriter code) {
        if (region == 0) return;
        code.write(BufferStub.cursorAddress(dataAddress), word(BufferStub.bufferStart(dataAddress)));
        reported = 0;
        ByteBuffer bits = ByteBuffer.allocate(BufferStub.MAX_FD / 8).order(ByteOrder.LITTLE_ENDIAN);
        long[] words = marked.toLongArray();
        for (int i = 0; i < BufferStub.MAX_FD / 64; i++) bits.putLong(i < words.length ? words[i] : 0);
        code.write(BufferStub.fdWordAddress(dataAddress, 0), bits.array());
        trap(false, code);
        on = true;
        turn(false, code);
    }

    boolean mapped() {
        return region != 0;
    }

    /**
     * Notes call {@code nr} made at the syscall instruction {@code site} (the program's, or a stub's own). The
     * first time a site in a file's code is seen, the sites other processes of the recording patched in that
     * file ({@code known}) are noted with it, read from the process's {@code maps}: the next patching takes
     * them all, and the process's first call at each of them needs no stop.
     */
    void saw(int nr, long site, Map<Integer, BufferStub.Plan> plans, KnownSites known, java.util.function.Supplier<String> maps) {
        if (!plans.containsKey(nr)) return;
        BufferStub inside = stubAt(site);
        long at = inside != null ? inside.syscallAddress() : site;
        if (refused.contains(at)) return;
        Site s = sites.get(at);
        if (s != null && s.stub().numbers().contains(nr)) return; // a stub that did not buffer it this time
        if (seen.computeIfAbsent(at, k -> new TreeSet<>()).add(nr)) pending = true;
        if (!offForGood && !lent && !imported.covers(at)) known.noteInto(this, new KnownSites.Maps(maps.get()), at);
    }

    /** The code already looked up in {@link KnownSites} (mapped file ranges, or a range of no file). */
    private Ranges imported = new Ranges(new long[0]);

    /** Disjoint [start, end) pairs, in the order they were looked up. */
    private record Ranges(long[] bounds) {
        boolean covers(long at) {
            for (int i = 0; i < bounds.length; i += 2) if (at >= bounds[i] && at < bounds[i + 1]) return true;
            return false;
        }

        Ranges with(long start, long end) {
            long[] b = Arrays.copyOf(bounds, bounds.length + 2);
            b[bounds.length] = start;
            b[bounds.length + 1] = end;
            return new Ranges(b);
        }
    }

    /**
     * The syscall instructions patched in the recording so far, by the file they are in (its device and inode)
     * and their offset in it, with the calls their stubs buffer: what a process of one executable or library
     * calls at, the next process of it calls at too (a compiler, an assembler, a shell started over and over).
     */
    static final class KnownSites {
        private final Map<String, Map<Long, TreeSet<Integer>>> byFile = new HashMap<>();
        /** The function around each known site: its start's offset in the file, and its code. */
        private final Map<String, Map<Long, FileFunction>> functions = new HashMap<>();
        /** Stubs built, for the next process of the same program. */
        private final StubMemo<BufferStub> stubs = new StubMemo<>();

        /** {@link BufferStub#build}, or the same stub built before from the same code for the same places. */
        BufferStub stub(byte[] function, long functionAddress, long syscallAddress, long codeAddress, long dataAddress,
                        List<BufferStub.Plan> plans, long marker) throws GuardStub.Refused {
            return stubs.get(function, List.copyOf(plans),
                    () -> BufferStub.build(function, functionAddress, syscallAddress, codeAddress, dataAddress, plans, marker),
                    functionAddress, syscallAddress, codeAddress, dataAddress, marker);
        }

        private record FileFunction(long startOffset, byte[] text) {
        }

        /** A line of /proc/PID/maps: its range, and the file offset and file (device and inode) of a file's. */
        private record Line(long start, long end, long offset, String file) {
        }

        /** A process's /proc/PID/maps with the ranges read once, for the lookups of one patching. */
        static final class Maps {
            private final List<String> lines;
            private final long[] bounds;

            Maps(String maps) {
                lines = maps.lines().toList();
                bounds = new long[2 * lines.size()];
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    int dash = line.indexOf('-');
                    int sp = line.indexOf(' ');
                    if (dash <= 0 || sp <= dash) continue; // an empty range: never holds anything
                    bounds[2 * i] = Long.parseUnsignedLong(line.substring(0, dash), 16);
                    bounds[2 * i + 1] = Long.parseUnsignedLong(line.substring(dash + 1, sp), 16);
                }
            }

            /** The line that holds {@code at} (a file of 0 for memory of no file), or null. */
            private Line holding(long at) {
                for (int i = 0; i < lines.size(); i++) {
                    long start = bounds[2 * i];
                    long end = bounds[2 * i + 1];
                    if (at < start || at >= end) continue;
                    String[] f = SPACES.split(lines.get(i).trim(), 6);
                    // start-end perms offset dev inode [path]: an inode of 0 is memory of no file
                    if (f.length < 6 || f[4].equals("0") || !f[5].startsWith("/")) return new Line(start, end, -1, null);
                    return new Line(start, end, Long.parseUnsignedLong(f[2], 16), f[3] + " " + f[4]);
                }
                return null;
            }
        }

        /** Site {@code at}, in function {@code f}, was patched for {@code numbers} in a process with {@code maps}. */
        void learned(Maps maps, long at, AheadAnswers.Function f, List<Integer> numbers) {
            Line l = maps.holding(at);
            if (l == null || l.file() == null) return;
            long offset = l.offset() + (at - l.start());
            byFile.computeIfAbsent(l.file(), k -> new HashMap<>()).computeIfAbsent(offset, k -> new TreeSet<>()).addAll(numbers);
            functions.computeIfAbsent(l.file(), k -> new HashMap<>())
                    .put(offset, new FileFunction(l.offset() + (f.start() - l.start()), f.text()));
        }

        /**
         * The function around known site {@code at} as another process read it, at this process's address (its
         * bytes are checked against this process's memory before a patch), or null.
         */
        AheadAnswers.Function function(Maps maps, long at) {
            Line l = maps.holding(at);
            if (l == null || l.file() == null) return null;
            Map<Long, FileFunction> known = functions.get(l.file());
            FileFunction f = known == null ? null : known.get(l.offset() + (at - l.start()));
            if (f == null || f.startOffset() < l.offset()) return null;
            return new AheadAnswers.Function(l.start() + (f.startOffset() - l.offset()), f.text(), null);
        }

        /** The known sites of the file holding {@code at}, noted in {@code b} as if seen; its range looked up. */
        void noteInto(CallBuffer b, Maps maps, long at) {
            Line l = maps.holding(at);
            if (l == null) return;
            b.imported = b.imported.with(l.start(), l.end());
            Map<Long, TreeSet<Integer>> known = l.file() == null ? null : byFile.get(l.file());
            if (known == null) return;
            for (Map.Entry<Long, TreeSet<Integer>> e : known.entrySet()) {
                long offset = e.getKey() - l.offset();
                if (offset < 0 || offset >= l.end() - l.start()) continue;
                long site = l.start() + offset;
                if (b.refused.contains(site)) continue;
                Site s = b.sites.get(site);
                if (s != null && s.stub().numbers().containsAll(e.getValue())) continue;
                if (b.seen.computeIfAbsent(site, k -> new TreeSet<>()).addAll(e.getValue())) b.pending = true;
            }
        }
    }

    /**
     * Whether a call was seen at a syscall instruction whose stub does not buffer it yet (cheap: a flag the
     * calls seen set and a patching clears).
     */
    boolean wantsPatching() {
        return pending;
    }

    /** Set when a call is seen where no stub buffers it; cleared once a patching has dealt with every site. */
    private boolean pending;

    private boolean anySiteWaiting() {
        for (Map.Entry<Long, TreeSet<Integer>> e : seen.entrySet()) {
            Site s = sites.get(e.getKey());
            if (refused.contains(e.getKey())) continue;
            if (s == null || !s.stub().numbers().containsAll(e.getValue())) return true;
        }
        return false;
    }

    /**
     * Maps the region for a process stopped at a call's exit ({@code tid}, its syscall instruction at
     * {@code site}), through an injected mmap at {@code syscallInsn}: the data page on, empty. Null when no
     * room is in reach of the program's code, or the mmap fails.
     */
    CallBuffer map(Ptrace ptrace, Wait wait, int tid, int pid, long syscallInsn, long site, InThreadGuard.CodeWriter code) {
        long size = CODE_PAGES * (long) BufferStub.PAGE + BufferStub.PAGE + BUFFER_BYTES + BufferStub.MAX_ENTRY;
        long at = InThreadGuard.freeSpaceNear(InThreadGuard.maps(pid), site, size);
        if (at == 0) return null;
        long got = RemoteSyscall.through(ptrace, wait, tid, syscallInsn, NR_MMAP, at, size, PROT_RWX,
                MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE, -1, 0);
        if (got != at) return null;
        long data = at + CODE_PAGES * (long) BufferStub.PAGE;
        code.write(data, BufferStub.dataPage(data, BUFFER_BYTES + BufferStub.MAX_ENTRY));
        CallBuffer b = new CallBuffer(at, data, new HashMap<>(), new ArrayList<>(), seen, new BitSet(), true, refused);
        b.offForGood = offForGood;
        b.pending = pending;
        b.imported = imported;
        return b;
    }

    /**
     * Patches the syscall instructions seen with calls their stubs do not buffer yet, while code pages last,
     * in a process stopped with {@code regs} (its only thread). A thread standing inside bytes patched goes
     * on from its stub's copy of the instructions after them.
     */
    void patch(TraceeMemory memory, String maps, Map<Long, AheadAnswers.Function> functions, InThreadGuard.CodeWriter code,
              Map<Integer, BufferStub.Plan> plans, long marker, Ptrace ptrace, int tid, long[] regs, KnownSites known,
              boolean debug) {
        KnownSites.Maps parsed = new KnownSites.Maps(maps);
        long rip = regs[X86Regs.RIP];
        int firstNewPage = pages.size();
        for (Map.Entry<Long, TreeSet<Integer>> e : seen.entrySet()) {
            long at = e.getKey();
            Site old = sites.get(at);
            if (refused.contains(at) || old != null && old.stub().numbers().containsAll(e.getValue())) continue;
            if (pages.size() >= CODE_PAGES) {
                refused.add(at); // no page left for it, for good
                continue;
            }
            String why = null;
            if (Math.abs(at - region) >= REACH) why = "out of reach of the stubs";
            AheadAnswers.Function f = why != null ? null : functions.computeIfAbsent(at, a -> {
                AheadAnswers.Function k = known.function(parsed, a);
                return k != null ? k : asBeforePatches(AheadAnswers.function(memory, maps, a));
            });
            if (f != null && f.refused() != null) why = f.refused();
            BufferStub stub = null;
            byte[] original = null;
            if (why == null) {
                TreeSet<Integer> nrs = new TreeSet<>(e.getValue());
                if (old != null) nrs.addAll(old.stub().numbers());
                List<BufferStub.Plan> list = new ArrayList<>();
                for (int nr : nrs) list.add(plans.get(nr));
                try {
                    stub = known.stub(f.text(), f.start(), at, region + pages.size() * (long) BufferStub.PAGE,
                            dataAddress, list, marker);
                    int from = (int) (stub.patchAddress() - f.start());
                    original = Arrays.copyOfRange(f.text(), from, from + stub.patch().length);
                    byte[] now = new byte[original.length];
                    boolean same = memory.read(stub.patchAddress(), now, 0, now.length) == now.length
                            && (Arrays.equals(now, original) || old != null && Arrays.equals(now, old.stub().patch())
                            && stub.patchAddress() == old.stub().patchAddress());
                    if (!same) {
                        functions.remove(at); // other code there since it was read
                        why = "the code changed";
                    }
                } catch (GuardStub.Refused r) {
                    why = r.getMessage();
                }
            }
            if (why != null) {
                refused.add(at);
                if (debug) System.err.println("deja: buffer tid " + tid + " no stub at 0x" + Long.toHexString(at) + ": " + why);
                continue;
            }
            boolean inside = rip > stub.patchAddress() && rip < stub.patchAddress() + stub.patch().length;
            if (inside && rip != at + 2) continue; // stopped amid those instructions: patched at a later stop
            code.write(stub.patchAddress(), stub.patch()); // its stub goes in below, before the thread runs
            pages.add(stub);
            sites.put(at, new Site(stub, old != null ? old.original() : original));
            known.learned(parsed, at, f, stub.numbers());
            if (inside) {
                // Back from the call inside bytes now patched: on from the stub's copy of the instructions after it.
                long[] moved = regs.clone();
                moved[X86Regs.RIP] = stub.tailAddress();
                ptrace.setRegs(tid, moved);
                regs[X86Regs.RIP] = moved[X86Regs.RIP];
                rip = moved[X86Regs.RIP];
            }
        }
        if (pages.size() > firstNewPage) {
            // The new stubs' pages are consecutive: one write for all (a write into the process is a syscall).
            byte[] all = new byte[(pages.size() - firstNewPage - 1) * BufferStub.PAGE + pages.getLast().code().length];
            for (int i = firstNewPage; i < pages.size(); i++) {
                byte[] c = pages.get(i).code();
                System.arraycopy(c, 0, all, (i - firstNewPage) * BufferStub.PAGE, c.length);
            }
            code.write(pages.get(firstNewPage).codeAddress(), all);
        }
        pending = anySiteWaiting();
    }

    /**
     * Function {@code f} as read from the process, with the bytes of the sites already patched in it put back
     * as they were: the code a stub for another site of it relocates and checks, and the code other processes
     * of the same file get from {@link KnownSites}.
     */
    private AheadAnswers.Function asBeforePatches(AheadAnswers.Function f) {
        if (f.text() == null || sites.isEmpty()) return f;
        byte[] text = null;
        for (Site s : sites.values()) {
            long from = s.stub().patchAddress() - f.start();
            if (from < 0 || from + s.original().length > f.text().length) continue;
            if (text == null) text = f.text().clone();
            System.arraycopy(s.original(), 0, text, (int) from, s.original().length);
        }
        return text == null ? f : new AheadAnswers.Function(f.start(), text, f.refused());
    }

    /** Whether {@code address} is a program's syscall instruction a stub's patch replaced. */
    boolean patchedCallAt(long address) {
        return sites.containsKey(address) && !unpatched;
    }

    /** The program's code back at every patched site (its process gets a second thread): off for good. */
    private boolean unpatched;

    /**
     * Whether nothing more can come into the buffer: the code was put back at a stop of the process's only
     * thread, after the buffer was read at that stop (a thread then stopped in a stub was not writing an entry).
     */
    boolean drained() {
        return unpatched && reported == 0;
    }

    void unpatch(TraceeMemory memory, InThreadGuard.CodeWriter code) {
        offForGood = true;
        if (region == 0 || unpatched) return;
        unpatched = true;
        turn(false, code);
        for (Site s : sites.values()) {
            BufferStub stub = s.stub();
            byte[] now = new byte[s.original().length];
            if (memory.read(stub.patchAddress(), now, 0, now.length) == now.length && !Arrays.equals(now, s.original())) {
                code.write(stub.patchAddress(), s.original());
            }
        }
    }

    /** The stub whose code page holds {@code address}, or null. */
    BufferStub stubAt(long address) {
        if (region == 0 || address < region || address >= region + CODE_PAGES * (long) BufferStub.PAGE) return null;
        int page = (int) ((address - region) / BufferStub.PAGE);
        return page < pages.size() ? pages.get(page) : null;
    }

    /** Bytes of the buffer already reported: a thread stopped inside a stub keeps its entries where they are. */
    private long reported;

    /**
     * The calls kept since the last time; the thread is stopped, at {@code rip}. The buffer is emptied unless
     * the thread is writing an entry in a stub (a signal's stop): the entry is then still being written where
     * the cursor stands, and the next time reads on from there.
     */
    List<BufferStub.Entry> take(TraceeMemory memory, InThreadGuard.CodeWriter code, java.util.function.LongSupplier rip) {
        if (region == 0) return List.of();
        byte[] word = new byte[8];
        long cursorAt = BufferStub.cursorAddress(dataAddress);
        // Unreadable: the process was killed in its stop (its memory is going); the calls since its last stop go with it.
        if (memory.read(cursorAt, word, 0, 8) != 8) return List.of();
        long cursor = ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long start = BufferStub.bufferStart(dataAddress);
        if (cursor < start || cursor > start + BUFFER_BYTES + BufferStub.MAX_ENTRY || cursor < start + reported) {
            throw new DeviceException("the call buffer's cursor at 0x" + Long.toHexString(cursorAt) + " is 0x"
                    + Long.toHexString(cursor) + ", outside its buffer: the program wrote over it");
        }
        if (cursor == start + reported) return List.of();
        byte[] bytes = new byte[(int) (cursor - start - reported)];
        if (memory.read(start + reported, bytes, 0, bytes.length) != bytes.length) {
            throw new DeviceException("cannot read the call buffer at 0x" + Long.toHexString(start + reported));
        }
        long at = rip.getAsLong();
        BufferStub in = stubAt(at);
        if (in == null || !in.inEntry(at)) {
            code.write(cursorAt, word(start));
            reported = 0;
        } else {
            reported = cursor - start;
        }
        try {
            return BufferStub.entries(bytes);
        } catch (IllegalArgumentException e) {
            throw new DeviceException("the call buffer at 0x" + Long.toHexString(start) + " does not parse: "
                    + e.getMessage() + " (the program wrote over it)");
        }
    }

    /** The data page's on/off word as {@code want}. */
    void turn(boolean want, InThreadGuard.CodeWriter code) {
        if (region == 0 || want == on) return;
        on = want;
        code.write(BufferStub.enabledAddress(dataAddress), word(want ? 1 : 0));
    }

    /** Marks descriptor {@code fd}: a read of it may be made in a stub. */
    void mark(int fd, InThreadGuard.CodeWriter code) {
        if (region == 0 || fd < 0 || fd >= BufferStub.MAX_FD || marked.get(fd)) return;
        marked.set(fd);
        writeFdWord(fd, code);
    }

    /** Unmarks descriptors {@code from} to {@code to} (a close, a dup2 over one). */
    void unmark(long from, long to, InThreadGuard.CodeWriter code) {
        if (region == 0 || from < 0) return;
        long last = Math.min(to, BufferStub.MAX_FD - 1);
        for (int fd = marked.nextSetBit((int) Math.min(from, BufferStub.MAX_FD)); fd >= 0 && fd <= last;
             fd = marked.nextSetBit(fd + 1)) {
            marked.clear(fd);
            writeFdWord(fd, code);
        }
    }

    /** A stub closed descriptor {@code fd}, its mark cleared in the data page already. */
    void closedInStub(long fd) {
        if (fd >= 0 && fd < BufferStub.MAX_FD) marked.clear((int) fd);
    }

    private void writeFdWord(int fd, InThreadGuard.CodeWriter code) {
        long bits = 0;
        int base = fd / 64 * 64;
        for (int i = 0; i < 64; i++) if (marked.get(base + i)) bits |= 1L << i;
        code.write(BufferStub.fdWordAddress(dataAddress, fd), word(bits));
    }

    /** Whether the data page says no file system is served by a process (opens mark their descriptors in the stub). */
    private Boolean noneServed;

    void noneServed(boolean none, InThreadGuard.CodeWriter code) {
        if (region == 0 || Boolean.valueOf(none).equals(noneServed)) return;
        noneServed = none;
        code.write(BufferStub.noneServedAddress(dataAddress), word(none ? 1 : 0));
    }

    /** A descriptor an open in a stub returned: marked or not as deja finds it (the stub may have marked it). */
    void opened(int fd, boolean nonBlocking, InThreadGuard.CodeWriter code) {
        if (region == 0 || fd < 0 || fd >= BufferStub.MAX_FD) return;
        marked.set(fd, nonBlocking);
        writeFdWord(fd, code);
    }

    /** Sets the trap word: the stub a thread is in ends through its int3. */
    void trap(boolean set, InThreadGuard.CodeWriter code) {
        code.write(BufferStub.trapAddress(dataAddress), word(set ? 1 : 0));
    }

    private static byte[] word(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
