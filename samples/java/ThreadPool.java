import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * ThreadPool: a fixed pool of 4 threads runs 100 tasks. Each task computes a value, puts it into a
 * ConcurrentHashMap under its own key, and also counts into a plain HashMap shared by all tasks with no
 * lock at all (a data race: updates get lost, natively differently from run to run). Prints the
 * ConcurrentHashMap's size and a checksum of its contents, which do not depend on the interleaving;
 * what the racy map holds does, so it is not printed. Compiled by the build (samples/target/java) for
 * Java 17 and later: {@code java -cp samples/target/java ThreadPool}.
 */
public class ThreadPool {
    private static final int THREADS = 4;
    private static final int TASKS = 100;

    public static void main(String[] args) throws InterruptedException {
        ConcurrentHashMap<Integer, Long> results = new ConcurrentHashMap<>();
        Map<String, Integer> racy = new HashMap<>(); // shared unsynchronized: the lock-free (racy) path
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        for (int i = 0; i < TASKS; i++) {
            int task = i;
            pool.execute(() -> {
                long x = task;
                for (int k = 0; k < 20_000; k++) x = x * 6364136223846793005L + 1442695040888963407L;
                results.put(task, x >>> 16);
                try {
                    racy.merge("bucket" + (task % 8), 1, Integer::sum); // racy on purpose
                } catch (RuntimeException e) {
                    // a racing HashMap may even throw; the race is the point, not its outcome
                }
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(2, TimeUnit.MINUTES)) {
            System.err.println("ThreadPool: the tasks did not finish");
            System.exit(1);
        }
        long checksum = 0;
        for (Map.Entry<Integer, Long> e : results.entrySet()) checksum += e.getKey() * 1_000_003L ^ e.getValue();
        System.out.println("size=" + results.size() + " checksum=" + checksum);
    }
}
