#include "report_page.hpp"

#include <stdexcept>

#include "bootstrap.hpp"
#include "report_page/assets.hpp"

namespace evoprompt::engine {

using nlohmann::json;

json report_data(std::vector<json> runs) {
  json groups = json::array();
  std::vector<std::string> modes;
  for (const auto& run : runs) {
    const std::string mode = run.at("mode");
    if (std::find(modes.begin(), modes.end(), mode) == modes.end()) modes.push_back(mode);
  }
  for (const auto& mode : modes) {
    std::vector<int> members;
    std::vector<std::vector<double>> curves;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (runs[i].at("mode") == mode) {
        members.push_back(static_cast<int>(i));
        curves.push_back(runs[i].at("best_so_far").get<std::vector<double>>());
      }
    const BootstrapBand band = bootstrap_mean_band(curves);
    groups.push_back({{"mode", mode}, {"runs", members}, {"mean", band.mean}, {"lo", band.lo}, {"hi", band.hi}});
  }
  return {{"runs", std::move(runs)}, {"groups", std::move(groups)}};
}

std::string report_html(const json& data) {
  // '<' only ever occurs inside JSON strings: escaped, no text of a child
  // can close the data's <script> element.
  std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string escaped;
  escaped.reserve(text.size());
  for (const char ch : text) {
    if (ch == '<') escaped += "\\u003c";
    else escaped += ch;
  }
  const std::pair<const char*, const char*> parts[] = {{"@@STYLE_HLJS@@", report_assets::hljs_css},
                                                       {"@@SCRIPT_D3@@", report_assets::d3_js},
                                                       {"@@SCRIPT_HLJS@@", report_assets::hljs_js},
                                                       {"@@SCRIPT_PAGE@@", report_assets::page_js},
                                                       {"@@DATA@@", escaped.c_str()}};
  // One pass over the template: inserted text is never searched for markers.
  const std::string page = report_assets::page_html;
  std::string out;
  out.reserve(page.size() + escaped.size() + (2u << 20));
  std::size_t at = 0;
  while (true) {
    std::size_t best = std::string::npos;
    const std::pair<const char*, const char*>* which = nullptr;
    for (const auto& p : parts) {
      const std::size_t found = page.find(p.first, at);
      if (found < best) best = found, which = &p;
    }
    if (!which) break;
    out.append(page, at, best - at);
    out += which->second;
    at = best + std::char_traits<char>::length(which->first);
  }
  out.append(page, at, std::string::npos);
  return out;
}

}  // namespace evoprompt::engine
