#include "tasks/option_table.hpp"

#include <cerrno>
#include <cstdlib>

namespace evoprompt::tasks {

bool option_value_fits(const OptionField& f, const nlohmann::json& v) {
  switch (f.type) {
    case OptionType::integer: return v.is_number_integer();
    case OptionType::unsigned_integer: return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
    case OptionType::real: return v.is_number();
    case OptionType::text: return v.is_string();
  }
  return false;
}

nlohmann::json parse_option_text(const OptionField& f, const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  auto bad = [&](const char* what) {
    return std::invalid_argument(f.flag + ": '" + text + "' is not " + what);
  };
  switch (f.type) {
    case OptionType::integer: {
      const long long v = std::strtoll(begin, &end, 10);
      if (text.empty() || *end || errno) throw bad("an integer");
      return v;
    }
    case OptionType::unsigned_integer: {
      const long long v = std::strtoll(begin, &end, 10);
      if (text.empty() || *end || errno || v < 0 || v > 0xffffffffLL) throw bad("a non-negative integer");
      return static_cast<std::uint64_t>(v);
    }
    case OptionType::real: {
      const double v = std::strtod(begin, &end);
      if (text.empty() || *end || errno) throw bad("a number");
      return v;
    }
    case OptionType::text: return text;
  }
  return nullptr;
}

}  // namespace evoprompt::tasks
