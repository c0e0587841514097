package dev.deja.device.tracer;

import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Signals;
import dev.deja.device.syscall.SyscallTable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The line form of the protocol (docs/protocol.md): one message per line, no trailing newline here. */
public final class TextCodec implements Codec {
    private static final Pattern SEQ = Pattern.compile("[0-9]+");
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*");
    private static final int MAX_LINE = 16 << 20;

    private final SyscallTable table;

    public TextCodec(SyscallTable table) {
        this.table = table;
    }

    @Override
    public String format(Message m) {
        return switch (m) {
            case Message.Greeting g -> "deja-tracer " + g.version();
            case Message.Hello h -> "hello " + h.name();
            case Message.Subscribe s -> "subscribe " + (s.decide() ? "decide" : "observe") + " " + String.join(" ", s.names());
            case Message.Ready r -> "ready";
            case Message.Event e -> {
                StringBuilder sb = new StringBuilder("event ").append(e.seq());
                e.fields().forEach((k, v) -> sb.append(' ').append(k).append('=').append(Quoting.value(v)));
                yield sb.append(' ').append(e.text()).toString();
            }
            case Message.Continue c -> prefix(c.seq()) + "continue";
            case Message.SkipFail f -> prefix(f.seq()) + "skip-fail " + errnoName(f.errno());
            case Message.SkipOk k -> prefix(k.seq()) + "skip-ok " + k.value();
            case Message.Rewrite r -> {
                StringBuilder sb = new StringBuilder(prefix(r.seq())).append("rewrite");
                if (r.nr() >= 0) sb.append(" nr=").append(nrName(r.nr()));
                r.args().forEach((i, v) -> sb.append(" arg").append(i).append('=').append(v < 0 || v > 0xffff ? "0x" + Long.toHexString(v) : v.toString()));
                yield sb.toString();
            }
            case Message.Deliver d -> prefix(d.seq()) + (d.signo() == 0 ? "suppress" : "deliver " + Signals.name(d.signo()));
            case Message.Set s -> prefix(s.seq()) + "set " + (s.arg() >= 0 ? "arg" + s.arg() : "0x" + Long.toHexString(s.address()))
                    + " " + Quoting.quote(s.data());
            case Message.Peek p -> prefix(p.seq()) + "peek 0x" + Long.toHexString(p.address()) + " " + p.length();
            case Message.Fds f -> prefix(f.seq()) + "fds";
            case Message.Proc p -> prefix(p.seq()) + "proc";
            case Message.Reply r -> {
                StringBuilder sb = new StringBuilder().append(r.seq()).append(" reply ").append(r.about());
                r.values().forEach((k, v) -> sb.append(' ').append(k).append('=').append(Quoting.value(v)));
                yield sb.toString();
            }
            case Message.Error e -> "error " + (e.seq() == 0 ? "-" : Long.toString(e.seq())) + " " + e.message();
        };
    }

    private static String prefix(long seq) {
        return seq == 0 ? "" : seq + " ";
    }

    static String errnoName(int errno) {
        String n = Errno.name(errno);
        return n.equals("E" + errno) ? Integer.toString(errno) : n;
    }

    private String nrName(int nr) {
        String n = table.name(nr);
        return n == null || n.isEmpty() || table.number(n).orElse(-1) != nr ? Integer.toString(nr) : n;
    }

    @Override
    public Message parse(String line) throws ProtocolException {
        if (line.length() > MAX_LINE) throw new ProtocolException("line longer than " + MAX_LINE + " characters");
        String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        l = l.strip();
        if (l.isEmpty()) throw new ProtocolException("empty line");
        Tokens t = new Tokens(l);
        String first = t.word();
        switch (first) {
            case "deja-tracer" -> {
                int v = (int) t.number("version");
                t.end();
                return new Message.Greeting(v);
            }
            case "hello" -> {
                String name = t.rest().strip();
                if (name.isEmpty()) throw new ProtocolException("hello needs a name: 'hello NAME'");
                return new Message.Hello(name);
            }
            case "subscribe" -> {
                String mode = t.word();
                if (!mode.equals("observe") && !mode.equals("decide")) {
                    throw new ProtocolException("subscribe needs observe or decide, got '" + mode + "'");
                }
                List<String> names = new ArrayList<>();
                while (t.more()) names.add(t.word());
                if (names.isEmpty()) throw new ProtocolException("subscribe " + mode + " needs syscall names, %classes, all or @signal/@exit/@spawn/@exec");
                return new Message.Subscribe(mode.equals("decide"), names);
            }
            case "ready" -> {
                t.end();
                return new Message.Ready();
            }
            case "event" -> {
                long seq = t.number("event number");
                Map<String, String> fields = new LinkedHashMap<>();
                while (t.more() && KEY.matcher(t.peekRest()).matches()) {
                    String key = t.key();
                    fields.put(key, t.value());
                }
                String text = t.rest().strip();
                if (text.isEmpty()) throw new ProtocolException("event " + seq + " has no text");
                return new Message.Event(seq, fields, text);
            }
            case "error" -> {
                String s = t.word();
                long seq = s.equals("-") ? 0 : Quoting.number(s, "event number");
                return new Message.Error(seq, t.rest().strip());
            }
            default -> {
            }
        }
        long seq = 0;
        String verb = first;
        if (SEQ.matcher(first).matches()) {
            seq = Quoting.number(first, "event number");
            if (seq == 0) throw new ProtocolException("event numbers start at 1");
            if (!t.more()) throw new ProtocolException("event number " + seq + " without an answer");
            verb = t.word();
        }
        Message m = switch (verb) {
            case "continue" -> new Message.Continue(seq);
            case "skip-fail" -> new Message.SkipFail(seq, errno(t.word()));
            case "skip-ok" -> new Message.SkipOk(seq, t.number("skip-ok value"));
            case "rewrite" -> rewrite(seq, t);
            case "deliver" -> new Message.Deliver(seq, signal(t.word()));
            case "suppress" -> new Message.Deliver(seq, 0);
            case "set" -> {
                String where = t.word();
                if (where.matches("arg[0-5]")) yield new Message.Set(seq, where.charAt(3) - '0', 0, t.quoted());
                long addr = Quoting.number(where, "address (or arg0..arg5)");
                yield new Message.Set(seq, addr, t.quoted());
            }
            case "peek" -> {
                long addr = t.number("address");
                long len = t.number("length");
                if (len < 0 || len > 1 << 20) throw new ProtocolException("peek length must be 0..1048576, got " + len);
                yield new Message.Peek(seq, addr, (int) len);
            }
            case "fds" -> new Message.Fds(seq);
            case "proc" -> new Message.Proc(seq);
            case "reply" -> {
                String about = t.word();
                Map<String, String> values = new LinkedHashMap<>();
                while (t.more()) {
                    String key = t.key();
                    values.put(key, t.value());
                }
                yield new Message.Reply(seq, about, values);
            }
            default -> throw new ProtocolException("unknown message '" + verb + "' (answers: continue, skip-fail, skip-ok,"
                    + " rewrite, deliver, suppress; also set, peek, fds, proc)");
        };
        t.end();
        return m;
    }

    private Message rewrite(long seq, Tokens t) throws ProtocolException {
        int nr = -1;
        Map<Integer, Long> args = new TreeMap<>();
        while (t.more()) {
            String key = t.key();
            String v = t.value();
            if (key.equals("nr")) {
                OptionalInt n = table.number(v);
                nr = n.isPresent() ? n.getAsInt() : (int) Quoting.number(v, "syscall");
                if (nr < 0) throw new ProtocolException("bad syscall number " + nr);
            } else if (key.matches("arg[0-5]")) {
                args.put(key.charAt(3) - '0', Quoting.number(v, key));
            } else {
                throw new ProtocolException("rewrite takes nr=SYSCALL and arg0..arg5=VALUE, not '" + key + "'");
            }
        }
        if (nr == -1 && args.isEmpty()) throw new ProtocolException("rewrite needs nr= or argN= (use continue to change nothing)");
        return new Message.Rewrite(seq, nr, args);
    }

    static int errno(String s) throws ProtocolException {
        OptionalInt n = Errno.number(s);
        if (n.isPresent()) return n.getAsInt();
        long v = Quoting.number(s, "errno");
        if (v <= 0 || v > 4095) throw new ProtocolException("errno must be 1..4095, got " + v);
        return (int) v;
    }

    static int signal(String s) throws ProtocolException {
        OptionalInt n = Signals.number(s);
        if (n.isPresent()) return n.getAsInt();
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProtocolException("unknown signal '" + s + "'");
        }
        if (v < 0 || v > 64) throw new ProtocolException("signal must be 0..64, got " + v);
        return (int) v;
    }

    /** A cursor over one line's space-separated tokens, quoted strings included. */
    private static final class Tokens {
        private final String s;
        private int at;

        Tokens(String s) {
            this.s = s;
        }

        private void skip() {
            while (at < s.length() && s.charAt(at) == ' ') at++;
        }

        boolean more() {
            skip();
            return at < s.length();
        }

        String peekRest() {
            skip();
            return s.substring(at);
        }

        String word() throws ProtocolException {
            skip();
            if (at >= s.length()) throw new ProtocolException("line ends too early: '" + s + "'");
            int start = at;
            while (at < s.length() && s.charAt(at) != ' ') at++;
            return s.substring(start, at);
        }

        long number(String what) throws ProtocolException {
            return Quoting.number(word(), what);
        }

        String key() throws ProtocolException {
            skip();
            int eq = s.indexOf('=', at);
            int sp = s.indexOf(' ', at);
            if (eq < 0 || (sp >= 0 && sp < eq) || eq == at) throw new ProtocolException("expected KEY=VALUE at column " + (at + 1));
            String k = s.substring(at, eq);
            at = eq + 1;
            return k;
        }

        String value() throws ProtocolException {
            if (at < s.length() && s.charAt(at) == '"') {
                int[] end = new int[1];
                byte[] b = Quoting.unquote(s, at, end);
                at = end[0];
                if (at < s.length() && s.charAt(at) != ' ') throw new ProtocolException("a space must follow a quoted value at column " + (at + 1));
                return new String(b, StandardCharsets.UTF_8);
            }
            int start = at;
            while (at < s.length() && s.charAt(at) != ' ') at++;
            return s.substring(start, at);
        }

        byte[] quoted() throws ProtocolException {
            skip();
            int[] end = new int[1];
            byte[] b = Quoting.unquote(s, at, end);
            at = end[0];
            return b;
        }

        String rest() {
            skip();
            String r = s.substring(at);
            at = s.length();
            return r;
        }

        void end() throws ProtocolException {
            if (more()) throw new ProtocolException("unexpected '" + peekRest() + "' at the end of the line");
        }
    }
}
