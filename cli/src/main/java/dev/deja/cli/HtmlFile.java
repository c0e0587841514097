package dev.deja.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

/**
 * Where {@code report} and {@code diff --html} write a page: standard output for "-", else a file written
 * whole beside its target and renamed into place (a failed run leaves nothing half-written), private to
 * its owner as a recording is (the page holds paths, output and memory the program read).
 */
final class HtmlFile {
    private HtmlFile() {
    }

    @FunctionalInterface
    interface Body {
        void writeTo(Writer out) throws IOException;
    }

    static void write(String target, boolean force, Body body) {
        if (target.equals("-")) {
            try {
                Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
                body.writeTo(out);
                out.flush();
            } catch (IOException e) {
                throw new UserError("cannot write the page to standard output: " + e.getMessage());
            }
            return;
        }
        Path file = Path.of(target).toAbsolutePath();
        if (Files.isDirectory(file)) throw new UserError(target + " is a directory; give a file name such as report.html");
        if (Files.exists(file) && !force) throw new UserError(target + " exists already (--force replaces it)");
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                body.writeTo(out);
            }
            if (force) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                // A hard link fails when the target appeared meanwhile; it is never replaced by accident.
                Files.createLink(file, tmp);
                Files.delete(tmp);
            }
        } catch (FileAlreadyExistsException e) {
            throw new UserError(target + " exists already (--force replaces it)");
        } catch (IOException e) {
            throw new UserError("cannot write " + target + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                System.err.println("deja: cannot remove " + tmp + ": " + e.getMessage());
            }
        }
    }
}
