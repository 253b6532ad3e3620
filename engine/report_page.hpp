// `evoprompt report`: one self-contained HTML page over one or more runs,
// with d3 and highlight.js (Debian's libjs-d3, libjs-highlight.js) inlined
// at build time, so that it opens offline.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace evoprompt::engine {

// The page's data: `runs` (each a run_data()) and `groups`: the runs of each
// mode, in first-seen order, with the mean max-fitness-so-far curve and its
// bootstrap 95% band over their search seeds.
nlohmann::json report_data(std::vector<nlohmann::json> runs);

// The whole page, data included.
std::string report_html(const nlohmann::json& data);

}  // namespace evoprompt::engine
