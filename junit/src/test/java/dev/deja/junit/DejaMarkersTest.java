package dev.deja.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.support.descriptor.AbstractTestDescriptor;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestIdentifier;

class DejaMarkersTest {
    private static TestIdentifier test(String display) {
        UniqueId uid = UniqueId.forEngine("junit-jupiter").append("class", "com.acme.CacheTest").append("method", "evicts()");
        return TestIdentifier.from(new AbstractTestDescriptor(uid, display, MethodSource.from("com.acme.CacheTest", "evicts")) {
            @Override
            public Type getType() {
                return Type.TEST;
            }
        });
    }

    @Test
    void marksStartAndEndOnOneLineEach() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DejaMarkers m = new DejaMarkers(out);
        TestIdentifier id = test("evicts\tthe\noldest");
        m.executionStarted(id);
        m.executionFinished(id, TestExecutionResult.failed(new AssertionError("expected: <1>\nbut was: <2>")));
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n", -1);
        assertEquals(3, lines.length);
        assertEquals("deja-test\t1\tstart\ttest\t[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:evicts()]"
                + "\tcom.acme.CacheTest#evicts\tevicts\\tthe\\noldest", lines[0]);
        assertEquals("deja-test\t1\tend\ttest\t[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:evicts()]"
                + "\tcom.acme.CacheTest#evicts\tevicts\\tthe\\noldest\tfailed\tjava.lang.AssertionError: expected: <1>\\nbut was: <2>",
                lines[1]);
        assertEquals("", lines[2]);
    }

    @Test
    void escapesBackslashesAndControlCharacters() {
        StringBuilder sb = new StringBuilder();
        Marker.escape("a\\b\rc\u0001", sb);
        assertEquals("a\\\\b\\rc\\u0001", sb.toString());
    }

    @Test
    void withoutTheVariableNothingIsWritten() {
        DejaMarkers m = new DejaMarkers(null);
        m.executionStarted(test("x")); // must not throw
    }
}
