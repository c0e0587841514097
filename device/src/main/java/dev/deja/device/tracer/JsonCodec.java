package dev.deja.device.tracer;

import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.json.Json;
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
        Map<String, Object> o = parseObject(line);
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

    /** One JSON object per line, through deja's one JSON reader. */
    private static Map<String, Object> parseObject(String line) throws ProtocolException {
        Object v;
        try {
            v = Json.parse(line);
        } catch (Json.SyntaxException e) {
            throw new ProtocolException("bad JSON at column " + (e.offset() + 1) + ": " + e.getMessage());
        }
        if (!(v instanceof Map<?, ?> m)) throw new ProtocolException("a JSON message must be an object");
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) m;
        return object;
    }
}
