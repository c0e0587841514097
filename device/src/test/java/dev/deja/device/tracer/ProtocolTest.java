package dev.deja.device.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProtocolTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private final TextCodec text = new TextCodec(TABLE);
    private final JsonCodec json = new JsonCodec(TABLE);

    private static List<Message> samples() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("pid", "4242");
        fields.put("tid", "4243");
        fields.put("uid", "1000");
        fields.put("exe", "/usr/bin/my cat");
        fields.put("args", "0x2,0x7ffd1234,0xc,0x0,0x0,0x0");
        Map<String, String> reply = new LinkedHashMap<>();
        reply.put("0", "/dev/pts/0");
        reply.put("1", "pipe:[123]");
        reply.put("3", "/tmp/a \"quoted\" name\n");
        reply.put("empty", "");
        return List.of(
                new Message.Greeting(1),
                new Message.Hello("fault injector"),
                new Message.Subscribe(false, List.of("write", "%file", "@exit")),
                new Message.Subscribe(true, List.of("all")),
                new Message.Ready(),
                new Message.Event(17, fields, "write(2, \"this is data\", 12)"),
                new Message.Event(18, Map.of("pid", "1"), "--- SIGINT {si_signo=SIGINT, si_code=SI_USER} ---"),
                new Message.Continue(17),
                new Message.Continue(0),
                new Message.SkipFail(17, 5),
                new Message.SkipFail(17, 4000),
                new Message.SkipOk(17, 12),
                new Message.SkipOk(17, -1),
                new Message.Rewrite(17, -1, Map.of(0, 4L)),
                new Message.Rewrite(17, 39, Map.of(0, 4L, 5, -1L, 2, 0x7ffd12345678L)),
                new Message.Rewrite(17, 999, Map.of()),
                new Message.Deliver(20, 15),
                new Message.Deliver(20, 0),
                new Message.Deliver(20, 40),
                new Message.Set(17, 0x7ffd1234L, "some data".getBytes(StandardCharsets.UTF_8)),
                new Message.Set(17, -4096L, new byte[]{0, 1, (byte) 0xff, '"', '\\', '\n', 'a', (byte) 0x80}),
                new Message.Set(17, 0x1000, new byte[0]),
                new Message.Set(17, 1, 0, "set 1 \"some data\"".getBytes(StandardCharsets.UTF_8)),
                new Message.Peek(17, 0x7ffd1234L, 12),
                new Message.Fds(17),
                new Message.Proc(0),
                new Message.Reply(17, "fds", reply),
                new Message.Error(17, "event 17 was already answered"),
                new Message.Error(0, "unknown message 'frobnicate'"));
    }

    @Test
    void everyMessageRoundTripsThroughTheTextForm() throws Exception {
        for (Message m : samples()) {
            String line = text.format(m);
            assertTrue(!line.contains("\n"), line);
            assertEquals(m, text.parse(line), line);
        }
    }

    @Test
    void everyMessageRoundTripsThroughTheJsonForm() throws Exception {
        for (Message m : samples()) {
            String line = json.format(m);
            assertTrue(!line.contains("\n") && line.startsWith("{"), line);
            assertEquals(m, json.parse(line), line);
        }
    }

    @Test
    void theIssueExamplesParse() throws Exception {
        assertEquals(new Message.Continue(17), text.parse("17 continue"));
        assertEquals(new Message.SkipFail(17, 5), text.parse("17 skip-fail EIO"));
        assertEquals(new Message.SkipOk(17, 12), text.parse("17 skip-ok 12"));
        assertEquals(new Message.Rewrite(17, -1, Map.of(0, 4L)), text.parse("17 rewrite arg0=4"));
        assertArrayEquals("some data".getBytes(StandardCharsets.UTF_8),
                ((Message.Set) text.parse("17 set 0x7ffd1234 \"some data\"")).data());
        assertEquals(new Message.Peek(0, 0x7ffd1234L, 12), text.parse("peek 0x7ffd1234 12"));
        assertEquals(new Message.Set(17, 1, 0, "some data".getBytes(StandardCharsets.UTF_8)), text.parse("17 set arg1 \"some data\""));
        assertEquals(new Message.Fds(0), text.parse("fds"));
        assertEquals(new Message.Proc(0), text.parse("proc"));
        Message.Event e = (Message.Event) text.parse("event 17 pid=4242 tid=4242 uid=1000 exe=/usr/bin/cat write(2, \"this is data\", 12)");
        assertEquals(17, e.seq());
        assertEquals("/usr/bin/cat", e.fields().get("exe"));
        assertEquals("write(2, \"this is data\", 12)", e.text());
        assertEquals(new Message.Rewrite(9, 1, Map.of(0, 4L)), text.parse("9 rewrite nr=write arg0=4"));
        assertEquals(new Message.SkipFail(3, 2), text.parse("3 skip-fail 2"));
        assertEquals(new Message.Deliver(3, 10), text.parse("3 deliver SIGUSR1"));
        assertEquals(new Message.Deliver(3, 10), text.parse("3 deliver USR1"));
        assertEquals(new Message.Continue(17), text.parse("  17   continue \r"));
        assertEquals(new Message.SkipFail(17, 5), json.parse("{\"msg\":\"skip-fail\",\"seq\":17,\"errno\":5}"));
        assertEquals(new Message.SkipOk(17, 12), json.parse("{ \"seq\" : \"17\", \"msg\" : \"skip-ok\", \"value\" : 12 }"));
        assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8),
                ((Message.Set) json.parse("{\"msg\":\"set\",\"seq\":1,\"addr\":4096,\"data\":\"hi\"}")).data());
    }

    @Test
    void escapesDecodeAsStraceWritesThem() throws Exception {
        Message.Set s = (Message.Set) text.parse("1 set 0x10 \"a\\0b\\x41\\101\\n\\t\\\\\\\"é\"");
        assertArrayEquals(new byte[]{'a', 0, 'b', 'A', 'A', '\n', '\t', '\\', '"', (byte) 0xc3, (byte) 0xa9}, s.data());
    }

    @Test
    void malformedTextIsRefusedWithAMessage() {
        List<String> bad = List.of("", "   ", "frobnicate", "17", "17 frobnicate", "17 skip-fail", "17 skip-fail EWHAT",
                "17 skip-fail 0", "17 skip-fail 5000", "17 skip-ok", "17 skip-ok twelve", "17 rewrite",
                "17 rewrite arg6=1", "17 rewrite foo=1", "17 rewrite nr=nosuchcall", "17 rewrite arg0=zz",
                "17 set 0x10", "17 set 0x10 unquoted", "17 set 0x10 \"unterminated", "17 set 0x10 \"\\q\"",
                "17 set zz \"x\"", "17 set arg6 \"x\"", "17 peek 0x10", "17 peek 0x10 -1", "17 peek 0x10 99999999", "17 continue now",
                "0 continue", "17 deliver SIGNOPE", "17 deliver 65", "subscribe", "subscribe watch write",
                "subscribe decide", "hello", "ready now", "event x write()", "event 17 pid=1", "deja-tracer one",
                "99999999999999999999 continue");
        for (String line : bad) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> text.parse(line), line);
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), line);
        }
    }

    @Test
    void malformedJsonIsRefusedWithAMessage() {
        List<String> bad = List.of("{", "{}", "[]", "{\"msg\":1}", "{\"msg\":\"continue\",\"seq\":-1}",
                "{\"msg\":\"skip-fail\",\"seq\":1}", "{\"msg\":\"skip-ok\",\"seq\":1,\"value\":1.5}",
                "{\"msg\":\"set\",\"seq\":1,\"addr\":\"0x10\",\"hex\":\"abc\"}", "{\"msg\":\"set\",\"seq\":1,\"addr\":\"0x10\",\"hex\":\"zz\"}",
                "{\"msg\":\"rewrite\",\"seq\":1}", "{\"msg\":\"rewrite\",\"seq\":1,\"arg9\":1}",
                "{\"msg\":\"continue\"} trailing", "{\"msg\":\"continue\",\"msg\":\"continue\"}", "{\"msg\":\"nope\"}",
                "{\"msg\":\"subscribe\",\"mode\":\"decide\",\"names\":[]}", "{\"msg\":\"hello\",\"name\":\"\"}",
                "{\"msg\":\"continue\",\"seq\":\"x\"}", "{\"msg\":\"s\\q\"}");
        for (String line : bad) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> json.parse(line), line);
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), line);
        }
    }

    @Test
    void fieldValuesWithSpacesAreQuotedAndComeBack() throws Exception {
        Message.Event e = new Message.Event(5, Map.of("exe", "/opt/my app/bin"), "getpid()");
        String line = text.format(e);
        assertEquals("event 5 exe=\"/opt/my app/bin\" getpid()", line);
        assertEquals(e, text.parse(line));
    }
}
