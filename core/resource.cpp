#include "core/resource.h"

#include <algorithm>
#include <charconv>

#include "core/locks/common.h"

namespace lockstep {

namespace {

// A versioned set loses a race only when another writer got in between our get and our
// set; with a handful of clients that settles in a few rounds. The cap only guards
// against a livelock turning into a hang.
constexpr int kMaxVersionRaces = 64;
// Creating the node's parents retries ConnectionLoss this long (local clock) before the
// read gives up; the critical section is no place to wait for a reconnection.
constexpr Duration kEnsureBudget = std::chrono::seconds(1);

bool outcome_unknown(Error e) { return e == Error::ConnectionLoss || e == Error::OperationTimeout; }

std::string err_text(Error e) { return std::string(error_name(e)); }

}  // namespace

std::string format_resource(const ResourceState& s) {
  return std::to_string(s.max_token) + " " + std::to_string(s.value);
}

std::optional<ResourceState> parse_resource(std::string_view data) {
  ResourceState s;
  const char* p = data.data();
  const char* end = p + data.size();
  auto r1 = std::from_chars(p, end, s.max_token);
  if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ' ') return std::nullopt;
  auto r2 = std::from_chars(r1.ptr + 1, end, s.value);
  if (r2.ec != std::errc() || r2.ptr != end) return std::nullopt;
  return s;
}

std::string resource_path(std::string_view lock_path) {
  return std::string(lock_path) + "-resource";
}

FencedResource::FencedResource(Env& env, std::shared_ptr<Session> session, std::string path,
                               bool fenced)
    : env_(env), session_(std::move(session)), path_(std::move(path)), fenced_(fenced) {}

Task<Error> FencedResource::ensure() {
  const std::string parent = parent_path(path_);
  if (parent != "/") {
    Error made = co_await locks::ensure_path(env_, *session_, parent, env_.now() + kEnsureBudget);
    if (made != Error::Ok) co_return made;
  }
  CreateReply created =
      co_await session_->create(path_, format_resource({}), CreateMode::Persistent);
  co_return created.err == Error::NodeExists ? Error::Ok : created.err;
}

Task<GetReply> FencedResource::get_or_create() {
  GetReply got = co_await session_->get(path_);
  if (got.err != Error::NoNode) co_return got;
  Error made = co_await ensure();
  if (made != Error::Ok) {
    GetReply failed;
    failed.err = made;
    co_return failed;
  }
  co_return co_await session_->get(path_);
}

Task<ResourceRead> FencedResource::read(std::optional<uint64_t> token) {
  ResourceRead r;
  for (int round = 0; round < kMaxVersionRaces; ++round) {
    GetReply got = co_await get_or_create();
    if (got.err != Error::Ok) {
      r.err = got.err;
      co_return r;
    }
    auto state = parse_resource(got.data);
    if (!state) {
      r.err = Error::DataInconsistency;
      co_return r;
    }
    r.value = state->value;
    r.version = got.stat.version;
    r.max_token = state->max_token;
    if (!fenced_ || !token || *token == state->max_token) co_return r;
    if (*token < state->max_token) {
      r.stale = true;
      co_return r;
    }
    // Register the newer token, conditioned on the version just read, so the value this
    // read returns is still the stored one when the registration lands.
    SetReply reg =
        co_await session_->set(path_, format_resource({*token, state->value}), got.stat.version);
    if (reg.err == Error::Ok) {
      r.version = reg.stat.version;
      r.max_token = *token;
      co_return r;
    }
    if (reg.err != Error::BadVersion) {
      // Not knowing whether the registration landed is harmless (it only raises the
      // fence), but the read has not certainly happened: report it failed.
      r.err = reg.err;
      co_return r;
    }
  }
  r.err = Error::BadVersion;
  co_return r;
}

Task<ResourceWrite> FencedResource::write(int64_t value, std::optional<uint64_t> token) {
  ResourceWrite w;
  w.value = value;
  auto failed = [&w](Error e) {
    w.err = e;
    w.outcome = outcome_unknown(e) ? WriteOutcome::Unknown : WriteOutcome::Failed;
    w.reason = err_text(e);
  };
  // The fencing checker orders accepted writes by their zxid.
  auto accepted = [&w](uint64_t mark, const Stat& stat) {
    w.outcome = WriteOutcome::Accepted;
    w.max_token = mark;
    w.mzxid = stat.mzxid;
  };

  if (!fenced_) {
    // Blind overwrite: the token is kept in the node for the record, never compared.
    const uint64_t mark = token.value_or(0);
    SetReply set = co_await session_->set(path_, format_resource({mark, value}), -1);
    if (set.err == Error::NoNode) {
      // Written before anyone read it (a read failed): create it, then overwrite.
      Error made = co_await ensure();
      if (made == Error::Ok)
        set = co_await session_->set(path_, format_resource({mark, value}), -1);
      else
        set.err = made;
    }
    if (set.err != Error::Ok) {
      failed(set.err);
      co_return w;
    }
    accepted(mark, set.stat);
    co_return w;
  }

  for (int round = 0; round < kMaxVersionRaces; ++round) {
    GetReply got = co_await get_or_create();
    if (got.err != Error::Ok) {
      // A failed get applied nothing, whatever its error.
      w.err = got.err;
      w.reason = err_text(got.err);
      co_return w;
    }
    auto state = parse_resource(got.data);
    if (!state) {
      w.err = Error::DataInconsistency;
      w.reason = "resource node holds \"" + got.data + "\"";
      co_return w;
    }
    if (token && *token < state->max_token) {
      w.outcome = WriteOutcome::Refused;
      w.max_token = state->max_token;
      w.reason =
          "token " + std::to_string(*token) + " < max_token " + std::to_string(state->max_token);
      co_return w;
    }
    const uint64_t mark = token ? std::max(*token, state->max_token) : state->max_token;
    SetReply set = co_await session_->set(path_, format_resource({mark, value}), got.stat.version);
    if (set.err == Error::BadVersion) continue;  // someone wrote in between: compare again
    if (set.err != Error::Ok) {
      failed(set.err);
      co_return w;
    }
    accepted(mark, set.stat);
    co_return w;
  }
  w.err = Error::BadVersion;
  w.reason = "lost " + std::to_string(kMaxVersionRaces) + " version races in a row";
  co_return w;
}

}  // namespace lockstep
