// The line protocol of `lockstep live --client-cmd` (real/blackbox/line_protocol.h): what
// a client may write is read as documented in docs/live.md, and anything else is refused
// with a phrase that says what is wrong.
#include <gtest/gtest.h>

#include <variant>

#include "real/blackbox/client_backend.h"
#include "real/blackbox/line_protocol.h"

namespace lockstep::real::blackbox {
namespace {

using namespace std::chrono_literals;

ClientLine ok(std::string_view line) {
  auto r = parse_client_line(line);
  EXPECT_TRUE(std::holds_alternative<ClientLine>(r))
      << line << ": " << (std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "");
  return std::holds_alternative<ClientLine>(r) ? std::get<ClientLine>(r) : ClientLine{};
}

std::string refused(std::string_view line) {
  auto r = parse_client_line(line);
  EXPECT_TRUE(std::holds_alternative<std::string>(r)) << line;
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "";
}

TEST(BlackboxProtocol, OpsAreOneJsonObjectEach) {
  EXPECT_EQ(acquire_op(2500ms), R"({"op":"acquire","timeout_ms":2500})");
  EXPECT_EQ(release_op(), R"({"op":"release"})");
  EXPECT_EQ(increment_op(), R"({"op":"increment"})");
  EXPECT_EQ(quit_op(), R"({"op":"quit"})");
}

TEST(BlackboxProtocol, ReadsEveryEvent) {
  ClientLine r = ok(R"({"event":"ready","session":"0x1000040998d0004","passwd":"00ff10"})");
  EXPECT_EQ(r.kind, ClientLine::Kind::Ready);
  EXPECT_EQ(r.session, std::optional<int64_t>(0x1000040998d0004));
  EXPECT_EQ(r.passwd, std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(ok(R"({"event":"ready"})").session);
  EXPECT_EQ(ok(R"({"event":"session","session":"abc"})").kind, ClientLine::Kind::Session);

  EXPECT_FALSE(ok(R"({"event":"acquired"})").token);
  EXPECT_EQ(ok(R"({"event":"acquired","token":42})").token, std::optional<uint64_t>(42));
  ClientLine f = ok(R"({"event":"acquire_failed","error":"timeout"})");
  EXPECT_EQ(f.kind, ClientLine::Kind::AcquireFailed);
  EXPECT_EQ(f.error, "timeout");
  EXPECT_EQ(ok(R"({"event":"released"})").kind, ClientLine::Kind::Released);
  EXPECT_EQ(ok("{\"event\":\"lost\"}\r").kind, ClientLine::Kind::Lost);
  ClientLine i = ok(R"({"event":"incremented","read":4,"wrote":5,"accepted":true,"zxid":99})");
  EXPECT_EQ(i.kind, ClientLine::Kind::Incremented);
  EXPECT_EQ(i.read, 4);
  EXPECT_EQ(i.wrote, 5);
  EXPECT_TRUE(i.accepted);
  EXPECT_EQ(i.zxid, std::optional<int64_t>(99));
  EXPECT_FALSE(ok(R"({"event":"incremented","read":4,"wrote":5,"accepted":false})").zxid);
  EXPECT_EQ(ok(R"({"event":"error","error":"boom","extra":[1]})").error, "boom");
}

TEST(BlackboxProtocol, RefusesWhatIsNotTheProtocol) {
  EXPECT_EQ(refused("I hold the lock"), "not JSON");
  EXPECT_EQ(refused("[1,2]"), "not a JSON object");
  EXPECT_EQ(refused(R"({"op":"acquire"})"), "no \"event\" string");
  EXPECT_EQ(refused(R"({"event":"grabbed"})"), "unknown event \"grabbed\"");
  EXPECT_NE(refused(R"({"event":"ready","session":"xyz"})").find("\"session\""), std::string::npos);
  EXPECT_NE(refused(R"({"event":"ready","session":"0x1","passwd":"0"})").find("\"passwd\""),
            std::string::npos);
  EXPECT_NE(refused(R"({"event":"acquired","token":-1})").find("\"token\""), std::string::npos);
  EXPECT_NE(refused(R"({"event":"incremented","read":1,"wrote":2})").find("\"accepted\""),
            std::string::npos);
  EXPECT_NE(refused(R"({"event":"incremented","wrote":2,"accepted":true})").find("\"read\""),
            std::string::npos);
  EXPECT_NE(refused(R"({"event":"incremented","read":"1","wrote":2,"accepted":true})")
                .find("\"read\" is not an integer"),
            std::string::npos);
}

// A hostile or broken client: what it writes is refused with a phrase on one line, never
// a crash, a wrapped-around value or a second line.
TEST(BlackboxProtocol, RefusesWhatNoReaderShouldBeHanded) {
  EXPECT_EQ(refused(R"({"event":"incremented","read":1e999,"wrote":2,"accepted":true})"),
            "not JSON lockstep reads: line 1, column 31: number 1e999 is beyond the range of a "
            "double (about 1.8e308)");
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_NE(refused(deep).find("nested deeper than 64 levels"), std::string::npos);
  EXPECT_EQ(
      refused(R"({"event":"incremented","read":9223372036854775808,"wrote":2,"accepted":true})"),
      "incremented: \"read\" is beyond a 64-bit integer");
  EXPECT_EQ(
      ok(R"({"event":"incremented","read":9223372036854775807,"wrote":-9223372036854775808,"accepted":true})")
          .wrote,
      INT64_MIN);
  EXPECT_EQ(
      refused(R"({"event":"incremented","read":99999999999999999999,"wrote":2,"accepted":true})"),
      "incremented: \"read\" is not an integer");
  EXPECT_EQ(refused(R"({"event":"acquired","token":18446744073709551616})"),
            "\"token\" is not an unsigned integer");
  EXPECT_EQ(refused(R"({"event":"grab\nbed"})"), "unknown event \"grab\\nbed\"");
  EXPECT_EQ(ok(R"({"event":"error","error":"two\nlines\u001b"})").error, "two\\nlines\\u001b");
}

TEST(BlackboxProtocol, CommandIsSplitOnWhitespaceAndMustBeAProgram) {
  EXPECT_EQ(split_command("  /bin/echo  a\tb "), (std::vector<std::string>{"/bin/echo", "a", "b"}));
  EXPECT_EQ(split_command("sh -c x").front(), "sh");  // found on PATH
  EXPECT_THROW(split_command("   "), std::invalid_argument);
  EXPECT_THROW(split_command("/nonexistent/client --x"), std::invalid_argument);
  EXPECT_THROW(split_command("/etc"), std::invalid_argument);
}

}  // namespace
}  // namespace lockstep::real::blackbox
