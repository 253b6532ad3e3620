#include "extract.hpp"

#include <regex>

#include "prompt.hpp"

namespace evoprompt::codegen {
namespace {

// The fenced block that defines the struct; else, when the text opens with a
// fence, that block; else the text without its fence lines (a continuation
// that closes with ``` after the code).
std::string unfence(const std::string& text, const std::regex& head) {
  static const std::regex fence(R"(```[^\n]*\n([\s\S]*?)(```|$))");
  static const std::regex fence_line(R"((^|\n)[ \t]*```[^\n]*)");
  const auto first = std::sregex_iterator(text.begin(), text.end(), fence);
  for (auto it = first; it != std::sregex_iterator(); ++it)
    if (std::regex_search((*it)[1].first, (*it)[1].second, head)) return (*it)[1].str();
  const auto lead = text.find_first_not_of(" \t\r\n");
  if (first != std::sregex_iterator() && lead != std::string::npos && text.compare(lead, 3, "```") == 0)
    return (*first)[1].str();
  return std::regex_replace(text, fence_line, "$1");
}

// Index just past the '}' that closes the '{' at `open`, skipping comments,
// strings and character literals; npos when the text ends first.
std::size_t matching_brace(const std::string& s, std::size_t open, int& depth_left) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      i = s.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      i = s.find("*/", i + 2);
      if (i == std::string::npos) break;
      ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < s.size() && s[i] != c; ++i)
        if (s[i] == '\\') ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  depth_left = depth;
  return std::string::npos;
}

std::string struct_name(const std::string& opening) {
  static const std::regex name(R"(struct\s+([A-Za-z_][A-Za-z0-9_]*))");
  std::smatch m;
  return std::regex_search(opening, m, name) ? m[1].str() : "Model";
}

}  // namespace

Extraction extract_child(const std::string& completion, const std::string& opening) {
  Extraction out;
  std::string text = completion.substr(0, completion.find(kStopSequence));
  const std::string name = struct_name(opening);
  const std::regex head("\\bstruct\\s+" + name + "\\b[^{;]*\\{");
  text = unfence(text, head);

  // Chat models often repeat the opening line; completion models continue it.
  std::smatch m;
  std::size_t open;
  if (std::regex_search(text, m, head)) {
    const bool fenced_or_leading = text.find_first_not_of(" \t\r\n") == static_cast<std::size_t>(m.position());
    out.code = fenced_or_leading ? text : text.substr(static_cast<std::size_t>(m.position()));
    open = out.code.find('{', static_cast<std::size_t>(fenced_or_leading ? m.position() : 0));
  } else {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      out.code = opening + text;
      out.problem = "empty completion";
      return out;
    }
    out.code = opening + text;
    open = opening.rfind('{');
  }

  int depth_left = 0;
  const std::size_t close = matching_brace(out.code, open, depth_left);
  if (close == std::string::npos) {
    out.problem = "completion ends before the closing '};' of struct " + name + " (" +
                  std::to_string(depth_left) + " brace" + (depth_left == 1 ? "" : "s") + " open)";
    return out;
  }
  const std::size_t semi = out.code.find_first_not_of(" \t\r\n", close);
  if (semi == std::string::npos || out.code[semi] != ';') {
    out.code.resize(close);
    out.problem = "struct " + name + " closes without ';'";
    return out;
  }
  out.code.resize(semi + 1);
  out.code += "\n";
  out.complete = true;
  return out;
}

}  // namespace evoprompt::codegen
