// A secured run (`lockstep live --auth digest:USER:PASSWORD`, real/zk_auth.h) on a real
// ZooKeeper: the nodes it creates let only its identity create, write and delete, so a
// client without it (or with another) gets NoAuth; anyone may still read. Skipped without
// LOCKSTEP_ZK.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "properties/live_harness.h"
#include "real/zk_auth.h"

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;

ZkOptions as(const std::string& identity) {
  std::string why;
  auto auth = parse_zk_auth(identity, why);
  EXPECT_TRUE(auth) << why;
  ZkOptions options;
  options.auth = auth;
  return options;
}

// What each kind of client may do to a node that a secured session created.
struct Attempts {
  Error read_lock = Error::SystemError, read_child = Error::SystemError;
  Error create_child = Error::SystemError, write_child = Error::SystemError;
  Error delete_child = Error::SystemError;
};

Task<Attempts> attempt_all(Env& env, ZkStore& store, std::string lock, std::string child) {
  Attempts a;
  ConnectReply c = co_await store.connect(env, 10s);
  if (c.err != Error::Ok) co_return a;
  a.read_lock = (co_await c.session->children(lock)).err;
  a.read_child = (co_await c.session->get(child)).err;
  a.create_child = (co_await c.session->create(lock + "/intruder-", "", CreateMode::Ephemeral)).err;
  a.write_child = (co_await c.session->set(child, "stolen")).err;
  a.delete_child = co_await c.session->remove(child);
  co_await c.session->close();
  co_return a;
}

// The secured session's side: the lock node and one child, made through ensure_path and
// create as the algorithms make theirs; and, at the end, everything removed again.
Task<std::string> make_lock(Env& env, ZkStore& store, std::string lock) {
  ConnectReply c = co_await store.connect(env, 10s);
  if (c.err != Error::Ok) co_return "";
  std::string child;
  if (co_await ensure_path(*c.session, lock) == Error::Ok) {
    CreateReply r =
        co_await c.session->create(lock + "/lock-", "", CreateMode::PersistentSequential);
    if (r.err == Error::Ok) child = r.path;
  }
  co_await c.session->close();
  co_return child;
}

Task<Error> remove_all(Env& env, ZkStore& store, std::string path) {
  ConnectReply c = co_await store.connect(env, 10s);
  if (c.err != Error::Ok) co_return c.err;
  Error e = co_await remove_recursive(*c.session, path);
  co_await c.session->close();
  co_return e;
}

TEST(LiveAcl, OnlyTheRunsIdentityMayCreateWriteOrDelete) {
  if (!zk_address()) GTEST_SKIP() << "LOCKSTEP_ZK is not set";
  setenv("LOCKSTEP_ZK_LOG", "off", 0);
  EventLoop loop;
  LiveEnv env(loop, 0);
  const std::string base = "/lockstep-acl-test-" + std::to_string(::getpid());
  const std::string lock = base + "/locks/a";
  ZkStore owner(zk_address(), as("digest:alice:secret"));
  const std::string child = run_task(env, make_lock(env, owner, lock), 30s);
  ASSERT_FALSE(child.empty());

  ZkStore anonymous(zk_address());
  Attempts a = run_task(env, attempt_all(env, anonymous, lock, child), 30s);
  EXPECT_EQ(a.read_lock, Error::Ok);
  EXPECT_EQ(a.read_child, Error::Ok);
  EXPECT_EQ(a.create_child, Error::NoAuth);
  EXPECT_EQ(a.write_child, Error::NoAuth);
  EXPECT_EQ(a.delete_child, Error::NoAuth);

  // Another identity is no better than none; the right password of the same user is.
  ZkStore stranger(zk_address(), as("digest:alice:guess"));
  Attempts s = run_task(env, attempt_all(env, stranger, lock, child), 30s);
  EXPECT_EQ(s.read_child, Error::Ok);
  EXPECT_EQ(s.write_child, Error::NoAuth);
  EXPECT_EQ(s.delete_child, Error::NoAuth);

  ZkStore colleague(zk_address(), as("digest:alice:secret"));
  Attempts c = run_task(env, attempt_all(env, colleague, lock, child), 30s);
  EXPECT_EQ(c.create_child, Error::Ok);
  EXPECT_EQ(c.write_child, Error::Ok);
  EXPECT_EQ(c.delete_child, Error::Ok);

  EXPECT_EQ(run_task(env, remove_all(env, owner, base), 30s), Error::Ok);
  EXPECT_EQ(exists_on(zk_address(), base), Error::NoNode);
}

TEST(LiveAcl, BadIdentitiesAreRefusedWithOneLine) {
  for (const char* bad : {"alice:secret", "sasl:alice:secret", "digest:alice", "digest::pw",
                          "digest:alice:", "digest:al\nice:pw"}) {
    std::string why;
    EXPECT_FALSE(parse_zk_auth(bad, why)) << bad;
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(why.find("secret"), std::string::npos) << "the password is never echoed";
  }
  std::string why;
  auto ok = parse_zk_auth("digest:alice:pa:ss", why);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->credentials, "alice:pa:ss");
}

// Children of `path` on the server, read without any identity; empty if none or no node.
std::vector<std::string> children_of(const std::string& path) {
  EventLoop loop;
  LiveEnv env(loop, 0);
  ZkStore store(zk_address());
  auto list = [](Env& env, ZkStore& store, std::string path) -> Task<std::vector<std::string>> {
    ConnectReply c = co_await store.connect(env, 10s);
    if (c.err != Error::Ok) co_return std::vector<std::string>{};
    ChildrenReply r = co_await c.session->children(path);
    co_await c.session->close();
    co_return r.children;
  };
  return run_task(env, list(env, store, path), 30s);
}

Error delete_anonymously(const std::string& path) {
  EventLoop loop;
  LiveEnv env(loop, 0);
  ZkStore store(zk_address());
  auto remove = [](Env& env, ZkStore& store, std::string path) -> Task<Error> {
    ConnectReply c = co_await store.connect(env, 10s);
    if (c.err != Error::Ok) co_return c.err;
    Error e = co_await c.session->remove(path);
    co_await c.session->close();
    co_return e;
  };
  return run_task(env, remove(env, store, path), 30s);
}

// The whole run secured: while `lockstep live --auth ... LOCK` holds the lock, a client
// without the identity cannot delete the holder's node; the run is unharmed and cleans up
// (its own sessions have the identity).
class SecuredRun : public LiveRunner, public ::testing::WithParamInterface<const char*> {
 protected:
  // The flags that name the lock: lockstep's own algorithm, or an adapter of real/clients.
  std::vector<std::string> lock_flags() const {
    const std::string lock = GetParam();
    if (lock == "recipe") return {"--algo", "recipe"};
    return {"--client-cmd", clients_dir() + "/" + lock, "--client-logs", ::testing::TempDir()};
  }
};

TEST_P(SecuredRun, AnUnauthenticatedClientCannotDeleteAnothersLockNode) {
  const std::string lock = GetParam();
  if ((lock == "kazoo-lock" || lock == "template-client.py") && !have_kazoo())
    GTEST_SKIP() << "python3-kazoo is not installed";
  if (lock == "curator-lock") {
    ASSERT_EQ(run_program(clients_dir() + "/curator-lock", {"--compile"}, {}, 180s).first, 0);
  }
  const std::string lock_path = "/acl-" + std::to_string(::getpid()) + "-" + lock;
  std::vector<std::string> args = {"--store",     std::string("zk:") + zk_address(),
                                   "--auth",      "digest:lockstep:s3cret",
                                   "--clients",   "2",
                                   "--cycles",    "2",
                                   "--hold",      "1500ms",
                                   "--lock-path", lock_path};
  for (auto& f : lock_flags()) args.push_back(f);
  std::atomic<bool> done{false};
  Outcome run;
  std::thread runner([&] {
    run = live(args, zk_address());
    done = true;
  });
  // The run's root is /lockstep/live-<its pid>-<ns>; find its lock's nodes.
  Error tried = Error::Nothing;
  std::string victim;
  for (int i = 0; i < 600 && !done && victim.empty(); ++i) {
    for (const auto& root : children_of("/lockstep")) {
      const std::string dir = "/lockstep/" + root + lock_path;
      auto nodes = children_of(dir);
      if (!nodes.empty()) {
        victim = dir + "/" + nodes.front();
        tried = delete_anonymously(victim);
        break;
      }
    }
    if (victim.empty()) std::this_thread::sleep_for(50ms);
  }
  runner.join();
  ASSERT_FALSE(victim.empty()) << "never saw the run's lock nodes\n" << run.out;
  EXPECT_EQ(tried, Error::NoAuth) << victim;
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_TRUE(run.passed("mutual-exclusion")) << run.out;
  EXPECT_EQ(count(run, "acquired"), 4) << run.out;
}

INSTANTIATE_TEST_SUITE_P(Locks, SecuredRun,
                         ::testing::Values("recipe", "kazoo-lock", "curator-lock",
                                           "template-client.py"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name = name.substr(0, name.find('.'));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

}  // namespace
}  // namespace lockstep::real
