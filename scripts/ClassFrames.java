import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites the Java 5 class files of a jar (class file version 49) as Java 6 ones (50) with stack map
 * frames computed by ASM, in place; nothing else in them changes. JDK 25's AOT cache cannot hold a
 * class file older than 50 (the verifier it needs runs only when the class is loaded), and picocli
 * ships Java 5 class files: rewritten, its ~190 classes come from the cache instead of being read and
 * verified at every start (about 0.08 s of each command, docs/performance.md "Start time"). A class
 * whose frames the JVM rejects still loads: for version 50 it falls back to the old verifier.
 *
 * <p>Run by scripts/install.sh: {@code java -cp ASM_JAR scripts/ClassFrames.java JAR}. Prints how many
 * classes it rewrote; leaves a jar with no Java 5 class untouched.
 */
public final class ClassFrames {
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java -cp ASM_JAR ClassFrames.java JAR");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
        int rewritten = 0;
        try (ZipInputStream in = new ZipInputStream(new FileInputStream(jar.toFile()));
             ZipOutputStream out = new ZipOutputStream(new FileOutputStream(tmp.toFile()))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                byte[] bytes = in.readAllBytes();
                if (e.getName().endsWith(".class") && major(bytes) < Opcodes.V1_6) {
                    bytes = withFrames(bytes);
                    rewritten++;
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        }
        if (rewritten == 0) {
            Files.delete(tmp);
        } else {
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        System.out.println(rewritten);
    }

    private static int major(byte[] c) {
        return c.length < 8 ? Integer.MAX_VALUE : ((c[6] & 0xff) << 8) | (c[7] & 0xff);
    }

    private static byte[] withFrames(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        // No reader passed to the writer: every method is written anew, so every one gets its frames.
        // Common super classes are found by loading the classes: the jar must be on the class path.
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public void visit(int version, int access, String name, String signature, String superName,
                              String[] interfaces) {
                super.visit(Opcodes.V1_6, access, name, signature, superName, interfaces);
            }
        }, 0);
        return writer.toByteArray();
    }
}
