// The contended workload of bench/herd's live part, with Apache Curator's
// InterProcessMutex: for each N, N contenders (threads of this JVM, each with its own
// CuratorFramework and so its own ZooKeeper session) connect, start together, and each
// does K cycles of acquire, hold, release with no think time, on a lock path of their
// own. Handoff latency is ReleaseStart -> the next holder's Acquired on System.nanoTime
// (CLOCK_MONOTONIC). Writes JSON shaped like Google Benchmark's (see docs/bench.md).
//
// usage: java -cp CLASSPATH HerdCurator --connect HOST:PORT [--n 1,2,4] [--cycles K]
//        [--hold-ms H] [--out FILE]
import java.io.FileWriter;
import java.io.IOException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

public final class HerdCurator {
  private static final int SESSION_TIMEOUT_MS = 10000;

  private static final class Stamp {
    final long t;
    final boolean acquired; // true: Acquired, false: ReleaseStart

    Stamp(long t, boolean acquired) {
      this.t = t;
      this.acquired = acquired;
    }
  }

  private static final class Result {
    int n;
    long releases;
    double handoffsPerS, p50, p99, mean;
    int handoffs;
    double wallMs;
  }

  public static void main(String[] args) throws Exception {
    String connect = null;
    String out = null;
    String ns = "1,2,4,8,16,32,64";
    int cycles = 10;
    double holdMs = 5;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println("usage: HerdCurator --connect HOST:PORT [--n 1,2,4] [--cycles K]"
            + " [--hold-ms H] [--out FILE]");
        return;
      }
      if (i + 1 >= args.length) die(a + " needs a value");
      String v = args[++i];
      switch (a) {
        case "--connect": connect = v; break;
        case "--out": out = v; break;
        case "--n": ns = v; break;
        case "--cycles": cycles = Integer.parseInt(v); break;
        case "--hold-ms": holdMs = Double.parseDouble(v); break;
        default: die("unknown argument " + a);
      }
    }
    if (connect == null) die("--connect is required");
    List<Result> results = new ArrayList<>();
    for (String s : ns.split(",")) {
      Result r = run(connect, Integer.parseInt(s.trim()), cycles, holdMs);
      System.err.printf(Locale.ROOT, "curator N=%d handoffs/s=%.1f p50=%.2fms p99=%.2fms%n",
          r.n, r.handoffsPerS, r.p50, r.p99);
      results.add(r);
    }
    String json = toJson(results, cycles, holdMs);
    if (out == null) {
      System.out.print(json);
    } else {
      try (Writer w = new FileWriter(out)) {
        w.write(json);
      }
    }
  }

  private static void die(String msg) {
    System.err.println("HerdCurator: " + msg);
    System.exit(2);
  }

  static Result run(String connect, int n, int cycles, double holdMs) throws Exception {
    String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
    String path = "/lockstep-bench/curator-" + pid + "-" + n;
    long holdNs = (long) (holdMs * 1e6);
    CuratorFramework[] clients = new CuratorFramework[n];
    for (int i = 0; i < n; i++) {
      clients[i] = CuratorFrameworkFactory.builder()
          .connectString(connect)
          .sessionTimeoutMs(SESSION_TIMEOUT_MS)
          .connectionTimeoutMs(SESSION_TIMEOUT_MS)
          .retryPolicy(new RetryNTimes(3, 100))
          .build();
      clients[i].start();
    }
    for (CuratorFramework c : clients) {
      if (!c.blockUntilConnected(60, TimeUnit.SECONDS)) throw new IOException("connect timed out");
    }
    // The lock's directory exists before the clock starts, as in bench/herd.
    try {
      clients[0].create().creatingParentsIfNeeded().forPath(path);
    } catch (KeeperException.NodeExistsException e) {
      // fine
    }
    List<List<Stamp>> stamps = new ArrayList<>();
    for (int i = 0; i < n; i++) stamps.add(new ArrayList<>());
    long[] releases = new long[n];
    String[] errors = new String[n];
    CyclicBarrier start = new CyclicBarrier(n);
    Thread[] threads = new Thread[n];
    long wallStart = System.nanoTime();
    for (int i = 0; i < n; i++) {
      final int me = i;
      threads[i] = new Thread(() -> {
        try {
          InterProcessMutex lock = new InterProcessMutex(clients[me], path);
          List<Stamp> mine = stamps.get(me);
          start.await();
          for (int k = 0; k < cycles; k++) {
            if (!lock.acquire(120, TimeUnit.SECONDS)) throw new IOException("acquire timed out");
            mine.add(new Stamp(System.nanoTime(), true));
            if (holdNs > 0) TimeUnit.NANOSECONDS.sleep(holdNs);
            mine.add(new Stamp(System.nanoTime(), false));
            lock.release();
            releases[me]++;
          }
        } catch (Exception e) {
          errors[me] = e.toString();
        }
      });
      threads[i].start();
    }
    for (Thread t : threads) t.join();
    long wallEnd = System.nanoTime();
    try {
      clients[0].delete().deletingChildrenIfNeeded().forPath(path);
      clients[0].delete().forPath("/lockstep-bench");
    } catch (KeeperException.NotEmptyException | KeeperException.NoNodeException e) {
      // another run still uses the base: fine
    }
    for (CuratorFramework c : clients) c.close();
    for (String e : errors) {
      if (e != null) throw new IOException("contender failed: " + e);
    }

    List<Stamp> all = new ArrayList<>();
    for (List<Stamp> l : stamps) all.addAll(l);
    all.sort((a, b) -> Long.compare(a.t, b.t));
    List<Double> lat = new ArrayList<>();
    boolean holding = false;
    Long released = null;
    long first = 0, last = 0;
    int acquisitions = 0;
    for (Stamp s : all) {
      if (s.acquired) {
        if (holding) throw new IOException("mutual exclusion violated");
        holding = true;
        if (acquisitions++ == 0) first = s.t;
        last = s.t;
        if (released != null) lat.add((s.t - released) / 1e6);
        released = null;
      } else {
        holding = false;
        released = s.t;
      }
    }
    Collections.sort(lat);
    Result r = new Result();
    r.n = n;
    for (long x : releases) r.releases += x;
    r.handoffs = lat.size();
    double span = (last - first) / 1e9;
    r.handoffsPerS = span > 0 ? (acquisitions - 1) / span : 0;
    r.p50 = percentile(lat, 0.50);
    r.p99 = percentile(lat, 0.99);
    double sum = 0;
    for (double x : lat) sum += x;
    r.mean = lat.isEmpty() ? 0 : sum / lat.size();
    r.wallMs = (wallEnd - wallStart) / 1e6;
    return r;
  }

  // Nearest rank, as bench/herd computes it.
  static double percentile(List<Double> sorted, double p) {
    if (sorted.isEmpty()) return 0;
    int rank = (int) Math.ceil(p * sorted.size());
    rank = Math.max(1, Math.min(rank, sorted.size()));
    return sorted.get(rank - 1);
  }

  static String toJson(List<Result> results, int cycles, double holdMs) {
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"context\": {\"peer\": \"curator\", \"library\": \"Apache Curator ")
        .append(CuratorFramework.class.getPackage().getImplementationVersion())
        .append(" InterProcessMutex\", \"java\": \"")
        .append(System.getProperty("java.version"))
        .append("\"},\n  \"benchmarks\": [\n");
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      b.append(String.format(Locale.ROOT,
          "    {\"name\": \"live/curator/N:%d\", \"run_name\": \"live/curator/N:%d\","
              + " \"real_time\": %.3f, \"time_unit\": \"ms\", \"N\": %d, \"cycles\": %d,"
              + " \"hold_ms\": %s, \"releases\": %d, \"handoffs\": %d,"
              + " \"handoffs_per_s\": %.3f, \"p50_ms\": %.4f, \"p99_ms\": %.4f,"
              + " \"mean_ms\": %.4f}%s\n",
          r.n, r.n, r.wallMs, r.n, cycles, Double.toString(holdMs), r.releases, r.handoffs,
          r.handoffsPerS, r.p50, r.p99, r.mean, i + 1 < results.size() ? "," : ""));
    }
    b.append("  ]\n}\n");
    return b.toString();
  }
}
