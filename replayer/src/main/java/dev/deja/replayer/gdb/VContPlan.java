package dev.deja.replayer.gdb;

import java.util.ArrayList;
import java.util.List;

/**
 * The actions of a {@code vCont} packet ({@code vCont;s:p1a.1b;c}): for each thread, the first action
 * that names it (or names every thread) applies, as the protocol says. Signals in {@code C}/{@code S}
 * are accepted and not delivered (the replay delivers the recorded signals only).
 */
record VContPlan(List<Entry> entries) {
    /** What a thread is told to do; {@link #NONE} when no action names it (gdb's scheduler-locking). */
    enum Action { CONTINUE, STEP, STOP, NONE }

    record Entry(Action action, GdbThreadId thread) {
    }

    VContPlan {
        entries = List.copyOf(entries);
    }

    /** Parses what follows {@code vCont;}; IllegalArgumentException for an action deja does not serve. */
    static VContPlan parse(String actions) {
        List<Entry> entries = new ArrayList<>();
        for (String a : actions.split(";")) {
            if (a.isEmpty()) throw new IllegalArgumentException("an empty action");
            int colon = a.indexOf(':');
            String verb = colon < 0 ? a : a.substring(0, colon);
            Action action = switch (verb.charAt(0)) {
                case 'c', 'C' -> Action.CONTINUE;
                case 's', 'S' -> Action.STEP;
                case 't' -> Action.STOP;
                default -> throw new IllegalArgumentException("the action '" + verb + "'");
            };
            boolean withSignal = verb.charAt(0) == 'C' || verb.charAt(0) == 'S';
            if (withSignal ? verb.length() < 2 || !hex(verb.substring(1)) : verb.length() != 1) {
                throw new IllegalArgumentException("the action '" + verb + "'");
            }
            GdbThreadId thread = colon < 0 ? new GdbThreadId(GdbThreadId.ALL, GdbThreadId.ALL) : GdbThreadId.parse(a.substring(colon + 1));
            entries.add(new Entry(action, thread));
        }
        return new VContPlan(entries);
    }

    private static boolean hex(String s) {
        for (int i = 0; i < s.length(); i++) if (Character.digit(s.charAt(i), 16) < 0) return false;
        return true;
    }

    /** The action for thread {@code tid} of process {@code pid}. */
    Action actionFor(int pid, int tid) {
        for (Entry e : entries) if (e.thread().matches(pid, tid)) return e.action();
        return Action.NONE;
    }
}
