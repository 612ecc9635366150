#include "core/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace lockstep {

namespace {

void escape_into(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += quotes ? "\\\"" : "\"";
        break;
      case '\\':
        out += quotes ? "\\\\" : "\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  escape_into(out, s, true);
  return out + "\"";
}

std::string one_line(std::string_view s) {
  std::string out;
  escape_into(out, s, false);
  return out;
}

std::optional<std::string> json_limits_problem(std::string_view text) {
  int line = 1;
  size_t line_start = 0;
  int depth = 0;
  auto at = [&](size_t i, const std::string& what) {
    return "line " + std::to_string(line) + ", column " + std::to_string(i - line_start + 1) +
           ": " + what;
  };
  auto is_number_char = [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (c == '"') {
      // A string, escapes included; an unterminated one is the parser's to report.
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\')
          ++i;
        else if (text[i] == '\n')
          ++line, line_start = i + 1;
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      for (i += 2;
           i < text.size() && !(text[i] == '*' && i + 1 < text.size() && text[i + 1] == '/'); ++i)
        if (text[i] == '\n') ++line, line_start = i + 1;
      ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return at(i, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (the limit)");
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i;
      while (end < text.size() && is_number_char(text[end])) ++end;
      const std::string token(text.substr(i, end - i));
      // strtod reads what the parser would, or a prefix of it; only an infinity matters.
      if (std::isinf(std::strtod(token.c_str(), nullptr))) {
        std::string shown = token.size() > 40 ? token.substr(0, 37) + "..." : token;
        return at(i, "number " + shown + " is beyond the range of a double (about 1.8e308)");
      }
      i = end - 1;
    }
  }
  return std::nullopt;
}

}  // namespace lockstep
