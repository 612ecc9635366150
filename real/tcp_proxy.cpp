#include "real/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "real/live_env.h"

namespace lockstep::real {

namespace {

// What one connection may hold in one direction before the forwarder stops reading it.
constexpr size_t kMaxQueued = 4 << 20;

struct Chunk {
  Time due{0};
  std::string bytes;
  size_t sent = 0;
};

// One direction of a connection: read from `from`, written to `to`.
struct Pipe {
  int from = -1, to = -1;
  std::deque<Chunk> queue;
  size_t queued = 0;
  Time last_due{0};
  bool eof = false;      // `from` has nothing more
  bool shut = false;     // and `to` was told so
  bool blocked = false;  // the last write to `to` would have blocked
  bool broken = false;   // `to` is gone: what is queued is dropped
};

struct Conn {
  int client = 0, server = 0;
  int inside = -1, outside = -1;  // the client's socket, the server's
  Pipe up, down;                  // inside -> outside, outside -> inside
  uint32_t mask_inside = 0, mask_outside = 0;
  bool done() const { return (up.shut || up.broken) && (down.shut || down.broken); }
};

struct Listener {
  int client = 0, server = 0;
  sockaddr_in target{};
};

}  // namespace

struct ProxyHub::Loop {
  ProxyHub& hub;
  int epfd = -1;
  int wake = -1;
  std::atomic<bool> stop{false};
  std::mutex mu;  // listeners: added from other threads
  std::unordered_map<int, Listener> listeners;
  std::vector<std::unique_ptr<Conn>> conns;
  std::mt19937_64 rng{static_cast<uint64_t>(::getpid()) ^
                      static_cast<uint64_t>(steady_now().count())};

  explicit Loop(ProxyHub& h) : hub(h) {
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, wake, &ev);
  }
  ~Loop() {
    for (auto& c : conns) close_conn(*c);
    for (auto& [fd, l] : listeners) ::close(fd);
    ::close(wake);
    ::close(epfd);
  }
  void close_conn(Conn& c) {
    if (c.inside >= 0) ::close(c.inside);
    if (c.outside >= 0) ::close(c.outside);
    c.inside = c.outside = -1;
  }

  Duration delay(int client, int server) {
    auto [lo, hi] = hub.latency(client, server);
    if (hi <= Duration(0)) return Duration(0);
    std::uniform_int_distribution<int64_t> d(lo.count(), hi.count());
    return Duration(d(rng));
  }

  void accept_from(int fd) {
    Listener l;
    {
      std::lock_guard lock(mu);
      auto it = listeners.find(fd);
      if (it == listeners.end()) return;
      l = it->second;
    }
    for (;;) {
      int in = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (in < 0) return;
      // The server is on loopback: a blocking connect is answered at once (refused when
      // nothing listens, and then the client's connection goes too).
      int out = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (out < 0 ||
          ::connect(out, reinterpret_cast<const sockaddr*>(&l.target), sizeof l.target) != 0) {
        if (out >= 0) ::close(out);
        ::close(in);
        continue;
      }
      ::fcntl(out, F_SETFL, ::fcntl(out, F_GETFL) | O_NONBLOCK);
      // What is read goes out at once, as the ZooKeeper client's own socket does: with
      // Nagle's wait for an ACK, each small message could sit for a delayed ACK's 40 ms.
      const int one = 1;
      ::setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->client = l.client;
      c->server = l.server;
      c->inside = in;
      c->outside = out;
      c->up.from = c->down.to = in;
      c->up.to = c->down.from = out;
      for (int s : {in, out}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = s;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
      }
      c->mask_inside = c->mask_outside = EPOLLIN;
      conns.push_back(std::move(c));
    }
  }

  Conn* conn_of(int fd) {
    for (auto& c : conns)
      if (c->inside == fd || c->outside == fd) return c.get();
    return nullptr;
  }

  void read_into(Conn& c, Pipe& p) {
    if (p.eof || p.queued >= kMaxQueued) return;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(p.from, buf, sizeof buf);
      if (n > 0) {
        const Time now = steady_now();
        Chunk ch;
        ch.due = std::max(p.last_due, now + delay(c.client, c.server));
        p.last_due = ch.due;
        ch.bytes.assign(buf, static_cast<size_t>(n));
        p.queued += ch.bytes.size();
        p.queue.push_back(std::move(ch));
        if (p.queued >= kMaxQueued) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      p.eof = true;  // end of file, or a reset: nothing more comes from this side
      return;
    }
  }

  void flush(Pipe& p, Time now) {
    while (!p.broken && !p.blocked && !p.queue.empty() && p.queue.front().due <= now) {
      Chunk& ch = p.queue.front();
      ssize_t n = ::send(p.to, ch.bytes.data() + ch.sent, ch.bytes.size() - ch.sent, MSG_NOSIGNAL);
      if (n > 0) {
        ch.sent += static_cast<size_t>(n);
        if (ch.sent == ch.bytes.size()) {
          p.queued -= ch.bytes.size();
          p.queue.pop_front();
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        p.blocked = true;
        return;
      }
      p.broken = true;
    }
    if (p.broken) {
      p.queue.clear();
      p.queued = 0;
    }
    if (p.eof && p.queue.empty() && !p.shut && !p.broken) {
      ::shutdown(p.to, SHUT_WR);
      p.shut = true;
    }
  }

  void update_mask(int fd, uint32_t& current, const Pipe& reading, const Pipe& writing) {
    if (fd < 0) return;
    uint32_t want = 0;
    if (!reading.eof && reading.queued < kMaxQueued) want |= EPOLLIN;
    if (writing.blocked && !writing.broken) want |= EPOLLOUT;
    if (want == current) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    current = want;
  }

  int wait_ms(Time now) const {
    Time next = Time::max();
    for (const auto& c : conns)
      for (const Pipe* p : {&c->up, &c->down})
        if (!p->queue.empty() && !p->blocked && !p->broken)
          next = std::min(next, p->queue.front().due);
    if (next == Time::max()) return 1000;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
  }

  void run() {
    std::vector<epoll_event> events(64);
    while (!stop.load()) {
      int n =
          ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_ms(steady_now()));
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<size_t>(i)].data.fd;
        const uint32_t what = events[static_cast<size_t>(i)].events;
        if (fd == wake) {
          uint64_t v;
          (void)::read(wake, &v, sizeof v);
          continue;
        }
        bool listener;
        {
          std::lock_guard lock(mu);
          listener = listeners.count(fd) != 0;
        }
        if (listener) {
          accept_from(fd);
          continue;
        }
        Conn* c = conn_of(fd);
        if (!c) continue;
        Pipe& reading = fd == c->inside ? c->up : c->down;
        Pipe& writing = fd == c->inside ? c->down : c->up;
        if (what & EPOLLOUT) writing.blocked = false;
        if (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_into(*c, reading);
        if (what & (EPOLLHUP | EPOLLERR)) {
          // Gone both ways: nothing more can be written to it either. It leaves the epoll
          // set (a hung-up socket is reported whatever the mask), and is closed with the rest.
          reading.eof = true;
          writing.broken = true;
          writing.queue.clear();
          writing.queued = 0;
          ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
          (fd == c->inside ? c->mask_inside : c->mask_outside) = 0xffffffff;
        }
      }
      const Time now = steady_now();
      for (size_t i = 0; i < conns.size();) {
        Conn& c = *conns[i];
        flush(c.up, now);
        flush(c.down, now);
        // A side that reset mid-way: what it would have read is moot too.
        if (c.up.broken) c.down.eof = true;
        if (c.down.broken) c.up.eof = true;
        if (c.done()) {
          close_conn(c);
          conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        if (c.mask_inside != 0xffffffff) update_mask(c.inside, c.mask_inside, c.up, c.down);
        if (c.mask_outside != 0xffffffff) update_mask(c.outside, c.mask_outside, c.down, c.up);
        ++i;
      }
    }
  }
};

ProxyHub::ProxyHub() : loop_(std::make_unique<Loop>(*this)) {
  thread_ = std::thread([this] { loop_->run(); });
}

ProxyHub::~ProxyHub() {
  loop_->stop = true;
  uint64_t one = 1;
  (void)::write(loop_->wake, &one, sizeof one);
  thread_.join();
}

std::string ProxyHub::forward(int client, int server, const sockaddr_in& at,
                              const sockaddr_in& target, int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || ::listen(fd, 64) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return "cannot listen for client " + std::to_string(client) + ": " + why;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port = ntohs(bound.sin_port);
  {
    std::lock_guard lock(loop_->mu);
    loop_->listeners[fd] = Listener{.client = client, .server = server, .target = target};
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(loop_->epfd, EPOLL_CTL_ADD, fd, &ev);
  return "";
}

void ProxyHub::set_latency(int client, int server, Duration min, Duration max) {
  std::lock_guard lock(mu_);
  if (max <= Duration(0))
    latency_.erase({client, server});
  else
    latency_[{client, server}] = {min, max};
}

std::pair<Duration, Duration> ProxyHub::latency(int client, int server) const {
  std::lock_guard lock(mu_);
  auto it = latency_.find({client, server});
  return it == latency_.end() ? std::pair<Duration, Duration>{} : it->second;
}

}  // namespace lockstep::real
