package dev.deja.cli.debug;

import dev.deja.device.Tracee;
import dev.deja.formats.event.MappingEvent;
import dev.deja.replayer.stack.ElfFile;
import dev.deja.replayer.stack.ProcessMaps;
import dev.deja.replayer.stack.Unwinder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The program's code at a stop, for the shell's {@code bt}, {@code x/i} and the location line of
 * {@code info}: the live thread's stack unwound through the recorded copies of its objects (the
 * replay maps those copies, so the files behind the live mappings are the recorded bytes), each
 * object named by the path the program mapped. Runs on the replay's tracing thread (inside a
 * {@link LiveReplay#query}), where the thread's registers and memory are reachable.
 */
final class CodeView {
    /** Longest x86-64 instruction: what x/Ni reads per instruction. */
    private static final int MAX_INSN = 15;
    private static final Pattern OBJDUMP_LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t(?:[0-9a-f]{2} ?)+\\s*\\t(.*)$");
    private static final Pattern TARGET = Pattern.compile("^(j\\w+|call|callq|jmpq?)\\s+(?:\\*)?0x([0-9a-f]+)$");

    private final ProcessMaps.Cache cache = new ProcessMaps.Cache();

    /** The thread's address space, its objects named by their recorded paths. */
    ProcessMaps space(Tracee t, List<MappingEvent> recorded) {
        return new ProcessMaps(ProcessMaps.read(t.pid()), t.memory(), cache, m -> recordedName(m, recorded));
    }

    /** The recorded path of the file mapped at {@code m} (replay maps deja's copy there), else its own. */
    static String recordedName(ProcessMaps.Mapping m, List<MappingEvent> recorded) {
        if (!m.path().startsWith("/")) return m.path();
        for (int i = recorded.size() - 1; i >= 0; i--) {
            MappingEvent r = recorded.get(i);
            if (Long.compareUnsigned(m.start(), r.address()) >= 0 && Long.compareUnsigned(m.start(), r.address() + r.length()) < 0) {
                return r.path();
            }
        }
        return m.path();
    }

    /**
     * The files call {@code e} mapped (the recorded MappingEvents after it, before its thread's next
     * call): {@code /usr/lib/x86_64-linux-gnu/libc.so.6 at 0x7ffff7dd4000, 0x26000 bytes from offset 0 (deja's copy: blob 6b4a45...)}.
     */
    static List<String> mappingsMadeBy(List<dev.deja.formats.event.Event> events, dev.deja.formats.event.SyscallEvent e) {
        List<String> out = new ArrayList<>();
        boolean after = false;
        for (dev.deja.formats.event.Event ev : events) {
            if (ev.seq() == e.seq()) {
                after = true;
                continue;
            }
            if (!after || ev.tid() != e.tid()) continue;
            if (ev instanceof dev.deja.formats.event.SyscallEvent) break;
            if (ev instanceof MappingEvent m && !m.path().isEmpty()) {
                out.add(String.format(Locale.ROOT, "%s at 0x%x, 0x%x bytes from offset 0x%x (%s)", m.path(), m.address(), m.length(),
                        m.offset(), m.blob().isEmpty() ? "not copied into the recording" : "deja's copy: blob " + m.blob()));
            }
        }
        return out;
    }

    List<Unwinder.Frame> frames(Tracee t, List<MappingEvent> recorded, int limit) {
        return Unwinder.unwind(t.registers(), t.memory(), space(t, recorded), limit);
    }

    /** bt's lines: the frames and their source lines (addr2line runs here, on the tracing thread). */
    List<String> backtrace(Tracee t, List<MappingEvent> recorded, int limit) {
        List<Unwinder.Frame> frames = frames(t, recorded, limit);
        java.util.Map<Integer, String> sources = sourceLines(frames);
        return frames.stream().map(f -> frameLine(f, sources.get(f.number()))).toList();
    }

    /**
     * Source lines of the frames, by frame number, from the objects' DWARF line tables as binutils'
     * addr2line reads them (a caller at its call instruction, one byte before the return address);
     * frames without line information have none. Runs addr2line once per object, on the tracing
     * thread (see {@link #disassemble}); without addr2line, no lines.
     */
    static java.util.Map<Integer, String> sourceLines(List<Unwinder.Frame> frames) {
        java.util.Map<String, List<Unwinder.Frame>> byFile = new java.util.LinkedHashMap<>();
        for (Unwinder.Frame f : frames) {
            if (f.where().isEmpty() || f.where().get().elf() == null || !f.where().get().mapping().path().startsWith("/")) continue;
            byFile.computeIfAbsent(f.where().get().mapping().path(), k -> new ArrayList<>()).add(f);
        }
        java.util.Map<Integer, String> lines = new java.util.HashMap<>();
        for (var e : byFile.entrySet()) {
            List<String> command = new ArrayList<>(List.of("addr2line", "-e", e.getKey()));
            for (Unwinder.Frame f : e.getValue()) {
                long lookup = f.number() == 0 ? f.pc() : f.pc() - 1;
                command.add("0x" + Long.toHexString(lookup - f.where().get().bias()));
            }
            List<String> answers = run(command);
            for (int i = 0; i < answers.size() && i < e.getValue().size(); i++) {
                String a = answers.get(i).replaceAll(" \\(discriminator \\d+\\)$", "").strip();
                if (!a.startsWith("??") && !a.endsWith(":0") && !a.endsWith(":?")) lines.put(e.getValue().get(i).number(), a);
            }
        }
        return lines;
    }

    /** A binutils tool's output lines; empty when it is missing or fails (source lines are a bonus). */
    private static List<String> run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return List.of();
            }
            return p.exitValue() == 0 ? text.lines().toList() : List.of();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** gdb's bt line: {@code #1  0x0000555555555339 in main+0x9b (/work/samples/target/bin/gdb_header)}. */
    static String frameLine(Unwinder.Frame f, String source) {
        String mark = switch (f.how()) {
            case FRAME_POINTER -> "   (frame pointer, guessed)";
            case AFTER_GUESS -> "   (?: found from a guessed frame)";
            default -> "";
        };
        String symbol = f.function();
        if (f.symbol().isPresent() && !f.symbol().get().contained()) symbol += " (nearest symbol before it)";
        return String.format(Locale.ROOT, "#%-2d 0x%016x in %s (%s)%s%s", f.number(), f.pc(), symbol, f.object(),
                source == null ? "" : " at " + source, mark);
    }

    /** {@code <read+18>}, gdb's way of naming an address in x/i, or "" without a symbol. */
    static String symbolic(ProcessMaps space, long address) {
        Optional<ProcessMaps.Placed> p = space.place(address);
        if (p.isEmpty() || p.get().elf() == null) return "";
        Optional<ElfFile.SymbolHit> s = p.get().elf().symbolAt(address - p.get().bias());
        return s.filter(ElfFile.SymbolHit::contained).map(h -> "<" + h.symbol().name() + "+" + h.offset() + ">").orElse("");
    }

    /**
     * {@code count} instructions from {@code address}, as gdb's x/i prints them ({@code =>} at the
     * thread's pc), disassembled by objdump (binutils: the same libopcodes disassembler as gdb, AT&T
     * syntax) from the bytes read out of the replaying process. objdump runs while the tracing thread
     * waits for it here, so its exit cannot be taken by the tracer's waitpid.
     */
    List<String> disassemble(Tracee t, List<MappingEvent> recorded, long address, int count) {
        byte[] code = new byte[count * MAX_INSN];
        int got = t.memory().read(address, code, 0, code.length);
        if (got <= 0) throw new Debugger.CommandError(String.format(Locale.ROOT, "cannot read memory at 0x%x", address));
        long pc = t.registers()[Debugger.REGISTERS.indexOf("rip")];
        ProcessMaps space = space(t, recorded);
        List<String> out = new ArrayList<>();
        for (String[] insn : objdump(address, code, got)) {
            if (out.size() >= count) break;
            long at = Long.parseUnsignedLong(insn[0], 16);
            String text = insn[1].replaceAll("\\s+#.*$", "").strip();
            Matcher jump = TARGET.matcher(text.replaceAll("\\s+", " "));
            if (jump.matches()) {
                String target = symbolic(space, Long.parseUnsignedLong(jump.group(2), 16));
                if (!target.isEmpty()) text += " " + target;
            }
            String sym = symbolic(space, at);
            out.add(String.format(Locale.ROOT, "%s0x%x%s:\t%s", at == pc ? "=> " : "   ", at, sym.isEmpty() ? "" : " " + sym, text));
        }
        return out;
    }

    /** objdump -D of raw x86-64 bytes placed at {@code address}: (address hex, instruction text) pairs. */
    private static List<String[]> objdump(long address, byte[] code, int length) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("deja-code-", ".bin");
            Files.write(tmp, java.util.Arrays.copyOf(code, length));
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "--insn-width=16",
                    "--adjust-vma=0x" + Long.toHexString(address), tmp.toString())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new Debugger.CommandError("x/i: objdump did not answer in 30 s");
            }
            if (p.exitValue() != 0) throw new Debugger.CommandError("x/i: objdump failed: " + text.strip());
            List<String[]> insns = new ArrayList<>();
            for (String line : text.split("\n")) {
                Matcher m = OBJDUMP_LINE.matcher(line);
                if (m.matches()) insns.add(new String[] {m.group(1), m.group(2)});
            }
            // The last instruction may be cut by the end of the bytes read: objdump says "(bad)".
            return insns;
        } catch (IOException e) {
            throw new Debugger.CommandError("x/i needs objdump (binutils) to disassemble: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Debugger.CommandError("x/i: interrupted while objdump ran");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // a temp file left in java.io.tmpdir: nothing the user needs to hear of
                }
            }
        }
    }
}
