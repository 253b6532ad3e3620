// The report page's files, embedded by engine/report_page/embed.cmake: ours
// (page.html, page.js) and Debian's d3 and highlight.js.
#pragma once

namespace evoprompt::engine::report_assets {

extern const char page_html[];
extern const char page_js[];
extern const char d3_js[];
extern const char hljs_js[];
extern const char hljs_css[];

}  // namespace evoprompt::engine::report_assets
