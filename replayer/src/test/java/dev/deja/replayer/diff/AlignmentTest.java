package dev.deja.replayer.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded greedy alignment: its invariants over every small pair of sequences, and its choices. */
class AlignmentTest {

    private static List<String> seq(String s) {
        return s.chars().mapToObj(c -> String.valueOf((char) c)).toList();
    }

    /** The alignment written as diff would: "=x" paired, "<x" only in A, ">x" only in B. */
    private static String show(String a, String b, int window, int confirm) {
        List<String> la = seq(a);
        List<String> lb = seq(b);
        StringBuilder sb = new StringBuilder();
        for (Alignment.Step s : Alignment.align(la, lb, window, confirm)) {
            if (sb.length() > 0) sb.append(' ');
            if (s.paired()) sb.append('=').append(la.get(s.a()));
            else if (s.a() >= 0) sb.append('<').append(la.get(s.a()));
            else sb.append('>').append(lb.get(s.b()));
        }
        return sb.toString();
    }

    @Test
    void equalSequencesPairThroughout() {
        assertEquals("=o =r =w =x", show("orwx", "orwx", 8, 2));
        assertEquals("", show("", "", 8, 2));
    }

    @Test
    void anExtraCallInOneRunResynchronises() {
        assertEquals("=o =r >e =w =x", show("orwx", "orewx", 8, 2));
        assertEquals("=o =r <e =w =x", show("orewx", "orwx", 8, 2));
        assertEquals("=o >p >q >r =w =x", show("owx", "opqrwx", 8, 2));
    }

    @Test
    void aSubstitutionIsOneBalancedBlock() {
        assertEquals("=o <a >b =w =x", show("oawx", "obwx", 8, 2));
        assertEquals("=o <a <c >b >d =w =x", show("oacwx", "obdwx", 8, 2));
    }

    @Test
    void differentTailsAreOneBlock() {
        assertEquals("=o <a <b >c", show("oab", "oc", 8, 2));
        assertEquals("=o >c", show("o", "oc", 8, 2));
        assertEquals("=o <a", show("oa", "o", 8, 2));
    }

    @Test
    void confirmationKeepsOneCommonCallFromResynchronising() {
        // With no confirmation the common 'c' pairs; with two events of confirmation it is part of the block.
        assertEquals("<p >q =c <d <e >k >l", show("pcde", "qckl", 8, 0));
        assertEquals("<p <c <d <e >q >c >k >l", show("pcde", "qckl", 8, 2));
    }

    @Test
    void beyondTheWindowTheRunsPartForGood() {
        assertEquals("=o >1 >2 >3 =w =x", show("owx", "o123wx", 3, 1));
        assertEquals("=o <w <x >1 >2 >3 >w >x", show("owx", "o123wx", 2, 1));
    }

    @Test
    void badParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Alignment.align(List.of(), List.of(), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Alignment.align(List.of(), List.of(), 1, -1));
    }

    /** Every pair of sequences over {a, b} of length up to 5, with several windows and confirmations. */
    @Test
    void everyIndexAppearsOnceInOrderAndPairsHoldEqualKeys() {
        List<String> all = new ArrayList<>();
        for (int len = 0; len <= 5; len++) {
            for (int bits = 0; bits < 1 << len; bits++) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < len; i++) sb.append((bits >> i & 1) == 0 ? 'a' : 'b');
                all.add(sb.toString());
            }
        }
        int checked = 0;
        for (String a : all) {
            for (String b : all) {
                for (int window : new int[] {1, 2, 8}) {
                    for (int confirm : new int[] {0, 2}) {
                        List<String> la = seq(a);
                        List<String> lb = seq(b);
                        List<Alignment.Step> steps = Alignment.align(la, lb, window, confirm);
                        int nextA = 0;
                        int nextB = 0;
                        for (Alignment.Step s : steps) {
                            assertTrue(s.a() >= 0 || s.b() >= 0, "an empty step for " + a + "/" + b);
                            if (s.a() >= 0) assertEquals(nextA++, s.a(), "A out of order for " + a + "/" + b);
                            if (s.b() >= 0) assertEquals(nextB++, s.b(), "B out of order for " + a + "/" + b);
                            if (s.paired()) assertEquals(la.get(s.a()), lb.get(s.b()), "unequal pair for " + a + "/" + b);
                        }
                        assertEquals(la.size(), nextA, "A incomplete for " + a + "/" + b);
                        assertEquals(lb.size(), nextB, "B incomplete for " + a + "/" + b);
                        if (a.equals(b)) assertTrue(steps.stream().allMatch(Alignment.Step::paired), a);
                        checked++;
                    }
                }
            }
        }
        assertEquals(63 * 63 * 6, checked);
    }
}
