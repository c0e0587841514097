package dev.deja.device.tracer;

import dev.deja.device.syscall.SyscallTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The JSON Lines form of the protocol: each message is one JSON object on one line, with
 * {@code "msg"} naming it as the text form's verb does ("event", "skip-fail", ...) and the same
 * parts as members (docs/protocol.md has the table). Addresses are "0x..." strings, memory is hex.
 */
public final class JsonCodec implements Codec {
    private static final long SAFE = 1L << 53;
    private final SyscallTable table;

    public JsonCodec(SyscallTable table) {
        this.table = table;
    }

    @Override
    public String format(Message m) {
        Map<String, Object> o = new LinkedHashMap<>();
        switch (m) {
            case Message.Greeting g -> {
                o.put("msg", "deja-tracer");
                o.put("version", (long) g.version());
            }
            case Message.Hello h -> {
                o.put("msg", "hello");
                o.put("name", h.name());
            }
            case Message.Subscribe s -> {
                o.put("msg", "subscribe");
                o.put("mode", s.decide() ? "decide" : "observe");
                o.put("names", s.names());
            }
            case Message.Ready r -> o.put("msg", "ready");
            case Message.Event e -> {
                o.put("msg", "event");
                o.put("seq", e.seq());
                e.fields().forEach((k, v) -> o.put(k, v.matches("-?(0|[1-9][0-9]{0,15})") ? (Object) Long.parseLong(v) : v));
                o.put("text", e.text());
            }
            case Message.Continue c -> answer(o, "continue", c.seq());
            case Message.SkipFail f -> {
                answer(o, "skip-fail", f.seq());
                o.put("errno", TextCodec.errnoName(f.errno()));
            }
            case Message.SkipOk k -> {
                answer(o, "skip-ok", k.seq());
                o.put("value", num(k.value()));
            }
            case Message.Rewrite r -> {
                answer(o, "rewrite", r.seq());
                if (r.nr() >= 0) o.put("nr", table.name(r.nr()) != null && table.number(table.name(r.nr())).orElse(-1) == r.nr()
                        ? table.name(r.nr()) : (Object) (long) r.nr());
                r.args().forEach((i, v) -> o.put("arg" + i, num(v)));
            }
            case Message.Deliver d -> {
                answer(o, d.signo() == 0 ? "suppress" : "deliver", d.seq());
                if (d.signo() != 0) o.put("signal", dev.deja.device.syscall.Signals.name(d.signo()));
            }
            case Message.Set s -> {
                answer(o, "set", s.seq());
                if (s.arg() >= 0) o.put("arg", (long) s.arg());
                else o.put("addr", "0x" + Long.toHexString(s.address()));
                o.put("hex", Quoting.hex(s.data()));
            }
            case Message.Peek p -> {
                answer(o, "peek", p.seq());
                o.put("addr", "0x" + Long.toHexString(p.address()));
                o.put("len", (long) p.length());
            }
            case Message.Fds f -> answer(o, "fds", f.seq());
            case Message.Proc p -> answer(o, "proc", p.seq());
            case Message.Reply r -> {
                o.put("msg", "reply");
                o.put("seq", r.seq());
                o.put("about", r.about());
                o.put("values", r.values());
            }
            case Message.Error e -> {
                o.put("msg", "error");
                o.put("seq", e.seq());
                o.put("message", e.message());
            }
        }
        return Json.write(o);
    }

    private static void answer(Map<String, Object> o, String msg, long seq) {
        o.put("msg", msg);
        if (seq != 0) o.put("seq", seq);
    }

    private static Object num(long v) {
        return v > -SAFE && v < SAFE ? (Object) v : "0x" + Long.toHexString(v);
    }

    @Override
    public Message parse(String line) throws ProtocolException {
        Map<String, Object> o = Json.parseObject(line);
        Object msgObj = o.get("msg");
        if (!(msgObj instanceof String msg)) throw new ProtocolException("a JSON message needs \"msg\": a string");
        long seq = o.containsKey("seq") ? number(o, "seq") : 0;
        if (seq < 0) throw new ProtocolException("seq must not be negative");
        return switch (msg) {
            case "deja-tracer" -> new Message.Greeting((int) number(o, "version"));
            case "hello" -> {
                String n = string(o, "name");
                if (n.isBlank()) throw new ProtocolException("hello needs a name");
                yield new Message.Hello(n);
            }
            case "subscribe" -> {
                String mode = string(o, "mode");
                if (!mode.equals("observe") && !mode.equals("decide")) throw new ProtocolException("mode must be observe or decide");
                if (!(o.get("names") instanceof List<?> l) || l.isEmpty()) throw new ProtocolException("subscribe needs \"names\": a non-empty array");
                List<String> names = new ArrayList<>();
                for (Object x : l) {
                    if (!(x instanceof String s)) throw new ProtocolException("names must be strings");
                    names.add(s);
                }
                yield new Message.Subscribe(mode.equals("decide"), names);
            }
            case "ready" -> new Message.Ready();
            case "event" -> {
                Map<String, String> fields = new LinkedHashMap<>();
                for (Map.Entry<String, Object> e : o.entrySet()) {
                    if (e.getKey().equals("msg") || e.getKey().equals("seq") || e.getKey().equals("text")) continue;
                    if (e.getValue() instanceof List<?> || e.getValue() instanceof Map<?, ?>) throw new ProtocolException("event fields are strings or numbers");
                    fields.put(e.getKey(), String.valueOf(e.getValue()));
                }
                yield new Message.Event(seq, fields, string(o, "text"));
            }
            case "continue" -> new Message.Continue(seq);
            case "skip-fail" -> new Message.SkipFail(seq, TextCodec.errno(scalar(o, "errno")));
            case "skip-ok" -> new Message.SkipOk(seq, number(o, "value"));
            case "rewrite" -> {
                int nr = -1;
                if (o.containsKey("nr")) {
                    String v = scalar(o, "nr");
                    OptionalInt n = table.number(v);
                    nr = n.isPresent() ? n.getAsInt() : (int) Quoting.number(v, "nr");
                    if (nr < 0) throw new ProtocolException("bad syscall number " + nr);
                }
                Map<Integer, Long> args = new TreeMap<>();
                for (String k : o.keySet()) {
                    if (k.matches("arg[0-5]")) args.put(k.charAt(3) - '0', number(o, k));
                    else if (!k.equals("msg") && !k.equals("seq") && !k.equals("nr")) throw new ProtocolException("rewrite takes nr and arg0..arg5, not \"" + k + "\"");
                }
                if (nr == -1 && args.isEmpty()) throw new ProtocolException("rewrite needs nr or argN");
                yield new Message.Rewrite(seq, nr, args);
            }
            case "deliver" -> new Message.Deliver(seq, TextCodec.signal(scalar(o, "signal")));
            case "suppress" -> new Message.Deliver(seq, 0);
            case "set" -> {
                byte[] data = o.containsKey("hex") ? Quoting.unhex(string(o, "hex"))
                        : string(o, "data").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (o.containsKey("arg")) {
                    long arg = number(o, "arg");
                    if (arg < 0 || arg > 5) throw new ProtocolException("\"arg\" must be 0..5");
                    yield new Message.Set(seq, (int) arg, 0, data);
                }
                yield new Message.Set(seq, number(o, "addr"), data);
            }
            case "peek" -> {
                long len = number(o, "len");
                if (len < 0 || len > 1 << 20) throw new ProtocolException("peek len must be 0..1048576");
                yield new Message.Peek(seq, number(o, "addr"), (int) len);
            }
            case "fds" -> new Message.Fds(seq);
            case "proc" -> new Message.Proc(seq);
            case "reply" -> {
                Map<String, String> values = new LinkedHashMap<>();
                if (o.get("values") instanceof Map<?, ?> vm) vm.forEach((k, v) -> values.put(String.valueOf(k), String.valueOf(v)));
                yield new Message.Reply(seq, string(o, "about"), values);
            }
            case "error" -> new Message.Error(seq, string(o, "message"));
            default -> throw new ProtocolException("unknown message \"" + msg + "\"");
        };
    }

    private static String string(Map<String, Object> o, String key) throws ProtocolException {
        if (!(o.get(key) instanceof String s)) throw new ProtocolException("\"" + key + "\" must be a string");
        return s;
    }

    private static String scalar(Map<String, Object> o, String key) throws ProtocolException {
        Object v = o.get(key);
        if (v instanceof String s) return s;
        if (v instanceof Long l) return Long.toString(l);
        throw new ProtocolException("\"" + key + "\" is missing or not a string or number");
    }

    private static long number(Map<String, Object> o, String key) throws ProtocolException {
        Object v = o.get(key);
        if (v instanceof Long l) return l;
        if (v instanceof String s) return Quoting.number(s, key);
        throw new ProtocolException("\"" + key + "\" is missing or not a number");
    }

    /** Just enough JSON: one object per line; strings, integers, booleans, null, arrays and objects. */
    static final class Json {
        private final String s;
        private int at;

        private Json(String s) {
            this.s = s;
        }

        static Map<String, Object> parseObject(String line) throws ProtocolException {
            Json j = new Json(line);
            j.ws();
            if (j.at >= line.length() || line.charAt(j.at) != '{') throw new ProtocolException("a JSON message must be an object");
            Object v = j.value(0);
            j.ws();
            if (j.at != line.length()) throw new ProtocolException("trailing characters after the JSON object at column " + (j.at + 1));
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            return m;
        }

        private void ws() {
            while (at < s.length() && " \t\r\n".indexOf(s.charAt(at)) >= 0) at++;
        }

        private ProtocolException bad(String what) {
            return new ProtocolException("bad JSON at column " + (at + 1) + ": " + what);
        }

        private Object value(int depth) throws ProtocolException {
            if (depth > 16) throw bad("nested too deep");
            ws();
            if (at >= s.length()) throw bad("unexpected end");
            char c = s.charAt(at);
            switch (c) {
                case '{' -> {
                    at++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (at < s.length() && s.charAt(at) == '}') {
                        at++;
                        return m;
                    }
                    while (true) {
                        ws();
                        if (at >= s.length() || s.charAt(at) != '"') throw bad("expected a member name");
                        String k = string();
                        ws();
                        if (at >= s.length() || s.charAt(at) != ':') throw bad("expected ':'");
                        at++;
                        if (m.put(k, value(depth + 1)) != null) throw bad("duplicate member \"" + k + "\"");
                        ws();
                        if (at < s.length() && s.charAt(at) == ',') {
                            at++;
                            continue;
                        }
                        if (at < s.length() && s.charAt(at) == '}') {
                            at++;
                            return m;
                        }
                        throw bad("expected ',' or '}'");
                    }
                }
                case '[' -> {
                    at++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (at < s.length() && s.charAt(at) == ']') {
                        at++;
                        return l;
                    }
                    while (true) {
                        l.add(value(depth + 1));
                        ws();
                        if (at < s.length() && s.charAt(at) == ',') {
                            at++;
                            continue;
                        }
                        if (at < s.length() && s.charAt(at) == ']') {
                            at++;
                            return l;
                        }
                        throw bad("expected ',' or ']'");
                    }
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", at)) {
                        at += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", at)) {
                        at += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", at)) {
                        at += 4;
                        return null;
                    }
                    int start = at;
                    if (at < s.length() && s.charAt(at) == '-') at++;
                    while (at < s.length() && Character.isDigit(s.charAt(at))) at++;
                    if (at < s.length() && (s.charAt(at) == '.' || s.charAt(at) == 'e' || s.charAt(at) == 'E')) {
                        throw bad("only integers are used in this protocol");
                    }
                    if (at == start || (at == start + 1 && s.charAt(start) == '-')) throw bad("unexpected '" + c + "'");
                    try {
                        return Long.parseLong(s.substring(start, at));
                    } catch (NumberFormatException e) {
                        throw bad("integer out of range");
                    }
                }
            }
        }

        private String string() throws ProtocolException {
            at++;
            StringBuilder sb = new StringBuilder();
            while (at < s.length()) {
                char c = s.charAt(at++);
                if (c == '"') return sb.toString();
                if (c < 0x20) throw bad("control character in a string");
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (at >= s.length()) break;
                char e = s.charAt(at++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (at + 4 > s.length()) throw bad("short \\u escape");
                        try {
                            sb.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        } catch (NumberFormatException x) {
                            throw bad("bad \\u escape");
                        }
                        at += 4;
                    }
                    default -> throw bad("unknown escape \\" + e);
                }
            }
            throw bad("unterminated string");
        }

        static String write(Object v) {
            StringBuilder sb = new StringBuilder();
            write(sb, v);
            return sb.toString();
        }

        private static void write(StringBuilder sb, Object v) {
            switch (v) {
                case null -> sb.append("null");
                case String s -> {
                    sb.append('"');
                    for (int i = 0; i < s.length(); i++) {
                        char c = s.charAt(i);
                        switch (c) {
                            case '"' -> sb.append("\\\"");
                            case '\\' -> sb.append("\\\\");
                            case '\n' -> sb.append("\\n");
                            case '\t' -> sb.append("\\t");
                            case '\r' -> sb.append("\\r");
                            default -> {
                                if (c < 0x20 || c == 0x7f) sb.append(String.format("\\u%04x", (int) c));
                                else sb.append(c);
                            }
                        }
                    }
                    sb.append('"');
                }
                case Map<?, ?> m -> {
                    sb.append('{');
                    boolean first = true;
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        if (!first) sb.append(',');
                        first = false;
                        write(sb, String.valueOf(e.getKey()));
                        sb.append(':');
                        write(sb, e.getValue());
                    }
                    sb.append('}');
                }
                case List<?> l -> {
                    sb.append('[');
                    for (int i = 0; i < l.size(); i++) {
                        if (i > 0) sb.append(',');
                        write(sb, l.get(i));
                    }
                    sb.append(']');
                }
                default -> sb.append(v);
            }
        }
    }
}
