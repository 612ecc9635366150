// json_quote (core/json.h), the one string escaping of the trace and the live history:
// what it writes reads back as the same string, and it is the escaping nlohmann::json
// writes for the scenario files, byte for byte.
#include "core/json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace lockstep {
namespace {

TEST(JsonQuote, EveryAsciiCharacterAsNlohmannWritesIt) {
  for (int c = 0; c < 0x80; ++c) {
    const std::string s = std::string("a") + static_cast<char>(c) + "b";
    EXPECT_EQ(json_quote(s), nlohmann::json(s).dump()) << "character " << c;
    EXPECT_EQ(nlohmann::json::parse(json_quote(s)).get<std::string>(), s) << "character " << c;
  }
}

TEST(JsonQuote, ShortFormsAndUtf8) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\re\tf\bg\fh"), R"("a\"b\\c\nd\re\tf\bg\fh")");
  EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(json_quote("zxid=\xc3\xa9"), "\"zxid=\xc3\xa9\"");  // UTF-8 passes through
  EXPECT_EQ(json_quote(""), "\"\"");
}

}  // namespace
}  // namespace lockstep
