package dev.deja.cli;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;

/** Opening the recording a command names (a path, a name under deja's home, or the latest). */
final class RecordingArg {
    private RecordingArg() {
    }

    static Recording open(String nameOrPath) {
        try {
            return Recording.open(Recordings.resolve(nameOrPath));
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
    }
}
