// Apache Curator's InterProcessMutex as a black-box client of `lockstep live
// --client-cmd` (the line protocol of docs/live.md): ops on stdin, events on stdout.
//
// As Curator's documentation tells users, a ConnectionStateListener treats SUSPENDED and
// LOST as "the lock may be gone" and reports `lost`; with --no-listener there is none,
// as many users run it. Built and started by real/clients/curator-lock.
//
// usage: curator-lock [--no-listener]   (environment: LOCKSTEP_ZK, LOCKSTEP_LOCK_PATH,
//        LOCKSTEP_RESOURCE_PATH, LOCKSTEP_RESOURCE_FENCED, LOCKSTEP_SESSION_TIMEOUT_MS)
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

public final class LockstepCurator {
  private static volatile boolean holding = false;
  private static volatile boolean lost = false;
  private static long session = 0;

  private static synchronized void emit(String json) {
    System.out.println(json);
    System.out.flush();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : String.valueOf(s).toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  private static String hex(byte[] bytes) {
    StringBuilder b = new StringBuilder();
    for (byte x : bytes) b.append(String.format("%02x", x & 0xff));
    return b.toString();
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null) {
      System.err.println("LockstepCurator: " + name + " is not set");
      System.exit(2);
    }
    return v;
  }

  // The session's id and password, so lockstep can expire it from outside; again after
  // Curator opened a new session (after an expiry).
  private static synchronized void reportSession(CuratorFramework client, String event)
      throws Exception {
    ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
    long id = zk.getSessionId();
    if (id == session && !event.equals("ready")) return;
    session = id;
    emit("{\"event\":\"" + event + "\",\"session\":\"0x" + Long.toHexString(id)
        + "\",\"passwd\":\"" + hex(zk.getSessionPasswd()) + "\"}");
  }

  private static String why(Exception e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  public static void main(String[] args) throws Exception {
    boolean listener = true;
    for (String a : args) {
      if (a.equals("--no-listener")) listener = false;
      else {
        System.err.println("usage: curator-lock [--no-listener]");
        System.exit(2);
      }
    }
    final String connect = env("LOCKSTEP_ZK");
    final String lockPath = env("LOCKSTEP_LOCK_PATH");
    final String resource = env("LOCKSTEP_RESOURCE_PATH");
    final boolean fenced = "1".equals(System.getenv("LOCKSTEP_RESOURCE_FENCED"));
    final int sessionMs = Integer.parseInt(env("LOCKSTEP_SESSION_TIMEOUT_MS"));

    CuratorFrameworkFactory.Builder builder =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(sessionMs)
            .connectionTimeoutMs(Math.max(sessionMs, 5000))
            .retryPolicy(new ExponentialBackoffRetry(100, 3));
    // A secured run (lockstep live --auth): LOCKSTEP_ZK_AUTH is "digest:USER:PASSWORD"; the
    // session adds that identity and every node Curator creates lets only it write and delete.
    String auth = System.getenv("LOCKSTEP_ZK_AUTH");
    if (auth != null && !auth.isEmpty()) {
      int colon = auth.indexOf(':');
      final List<ACL> acl = new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL);
      acl.addAll(ZooDefs.Ids.READ_ACL_UNSAFE);
      builder =
          builder
              .authorization(
                  auth.substring(0, colon),
                  auth.substring(colon + 1).getBytes(StandardCharsets.UTF_8))
              .aclProvider(
                  new ACLProvider() {
                    @Override
                    public List<ACL> getDefaultAcl() {
                      return acl;
                    }

                    @Override
                    public List<ACL> getAclForPath(String path) {
                      return acl;
                    }
                  });
    }
    CuratorFramework client = builder.build();
    if (listener) {
      client
          .getConnectionStateListenable()
          .addListener(
              (c, state) -> {
                if ((state == ConnectionState.SUSPENDED || state == ConnectionState.LOST)
                    && holding
                    && !lost) {
                  lost = true;
                  emit("{\"event\":\"lost\",\"error\":" + quote(state.toString()) + "}");
                }
              });
    }
    client.start();
    if (!client.blockUntilConnected(60, TimeUnit.SECONDS)) {
      System.err.println("LockstepCurator: not connected within 60s");
      System.exit(1);
    }
    reportSession(client, "ready");
    InterProcessMutex mutex = new InterProcessMutex(client, lockPath);

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.contains("\"quit\"")) break;
      try {
        reportSession(client, "session");
      } catch (Exception e) {
        System.err.println("LockstepCurator: session: " + why(e));
      }
      if (line.contains("\"acquire\"")) {
        long ms = Long.parseLong(line.replaceAll(".*\"timeout_ms\"\\s*:\\s*(\\d+).*", "$1"));
        try {
          lost = false;
          if (mutex.acquire(ms, TimeUnit.MILLISECONDS)) {
            holding = true;
            emit("{\"event\":\"acquired\"}");
          } else {
            emit("{\"event\":\"acquire_failed\",\"error\":\"timeout\"}");
          }
        } catch (Exception e) {
          emit("{\"event\":\"acquire_failed\",\"error\":" + quote(why(e)) + "}");
        }
      } else if (line.contains("\"release\"")) {
        holding = false;
        try {
          mutex.release();
          emit("{\"event\":\"released\"}");
        } catch (Exception e) {
          emit("{\"event\":\"error\",\"error\":" + quote(why(e)) + "}");
        }
      } else if (line.contains("\"increment\"")) {
        if (lost) {
          // An application heeding the listener writes nothing once the lock is gone.
          emit("{\"event\":\"error\",\"error\":\"not written: the lock was lost\"}");
          continue;
        }
        try {
          Stat read = new Stat();
          byte[] data = client.getData().storingStatIn(read).forPath(resource);
          long v = Long.parseLong(new String(data, StandardCharsets.UTF_8).trim());
          byte[] next = Long.toString(v + 1).getBytes(StandardCharsets.UTF_8);
          try {
            Stat wrote =
                fenced
                    ? client.setData().withVersion(read.getVersion()).forPath(resource, next)
                    : client.setData().forPath(resource, next);
            emit("{\"event\":\"incremented\",\"read\":" + v + ",\"wrote\":" + (v + 1)
                + ",\"accepted\":true,\"zxid\":" + wrote.getMzxid() + "}");
          } catch (KeeperException.BadVersionException e) {
            emit("{\"event\":\"incremented\",\"read\":" + v + ",\"wrote\":" + (v + 1)
                + ",\"accepted\":false}");
          }
        } catch (Exception e) {
          emit("{\"event\":\"error\",\"error\":" + quote(why(e)) + "}");
        }
      } else {
        System.err.println("LockstepCurator: unknown op " + line);
      }
    }
    client.close();
    System.exit(0);
  }
}
