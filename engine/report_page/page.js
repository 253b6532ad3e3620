// The report page: draws DATA (engine/run_data.cpp, report_page.cpp) with
// d3 (SVG, so that tests can count marks) and highlight.js. Child code is
// hostile text: it only ever goes in through textContent or hljs's escaping.
"use strict";
var DATA = JSON.parse(document.getElementById("data").textContent);
var RUNS = DATA.runs;
var SCORED = { evaluated: 1, filtered_alpha: 1 };
var VERDICT_COLOURS = {
  evaluated: "#1a9850", filtered_alpha: "#a6d96a", duplicate: "#fee08b", compile_error: "#f46d43",
  policy: "#d73027", contract: "#fdae61", runtime_error: "#e08214", crash: "#7f3b08", timeout: "#8073ac",
  oom: "#542788", too_large: "#b2abd2", lm_error: "#999999", pending: "#dddddd", accepted: "#cccccc"
};
var RUN_COLOURS = d3.scale.category10();
// Debian 12 ships highlight.js 9, which otherwise logs an end-of-life notice;
// the page only highlights its own data, offline.
hljs.configure({ hideUpgradeWarningAcceptNoSupportOrSecurityUpdates: true });

function key(r, id) { return "c" + r + "-" + id; }
function el(parent, tag, text, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  parent.appendChild(e);
  return e;
}
function fmt(v, digits) { return v === null || v === undefined ? "" : Number(v).toFixed(digits); }
function childLink(parent, r, c) {
  var a = el(parent, "a", c.name);
  a.href = "#" + key(r, c.id);
  return a;
}
function byId(run) {
  if (!run._byId) { run._byId = {}; run.children.forEach(function (c) { run._byId[c.id] = c; }); }
  return run._byId;
}
function table(parent, headers) {
  var t = el(parent, "table"), tr = el(t, "tr");
  headers.forEach(function (h) { el(tr, "th", h[0], h[1] || ""); });
  return t;
}
function row(t, cells) {
  var tr = el(t, "tr");
  cells.forEach(function (c) {
    var td = el(tr, "td", null, c.cls || "");
    if (c.node) c.node(td); else td.textContent = c.text === undefined ? String(c) : c.text;
  });
  return tr;
}
// An extent that a scale can use: a single value is widened around itself.
function padded(extent) {
  if (extent[0] !== extent[1]) return extent;
  var pad = Math.max(Math.abs(extent[0]) * 0.05, 1e-3);
  return [extent[0] - pad, extent[1] + pad];
}
function frame(parent, width, height, margin) {
  var svg = d3.select(parent).append("svg").attr("width", width + margin.l + margin.r).attr("height", height + margin.t + margin.b);
  return svg.append("g").attr("transform", "translate(" + margin.l + "," + margin.t + ")");
}
function axes(g, x, y, width, height, xlabel, ylabel, xticks) {
  var xa = d3.svg.axis().scale(x).orient("bottom");
  if (xticks) xa.ticks(xticks[0], xticks[1]);
  g.append("g").attr("class", "axis").attr("transform", "translate(0," + height + ")").call(xa);
  g.append("g").attr("class", "axis").call(d3.svg.axis().scale(y).orient("left"));
  g.append("text").attr("x", width / 2).attr("y", height + 36).attr("text-anchor", "middle").text(xlabel);
  g.append("text").attr("transform", "rotate(-90)").attr("x", -height / 2).attr("y", -48).attr("text-anchor", "middle").text(ylabel);
}
function legend(g, items, x0) {
  var lg = g.append("g").attr("class", "legend").attr("transform", "translate(" + x0 + ",0)");
  items.forEach(function (it, i) {
    lg.append("rect").attr("x", 0).attr("y", i * 16).attr("width", 10).attr("height", 10).attr("fill", it[1]);
    lg.append("text").attr("x", 14).attr("y", i * 16 + 9).text(it[0]);
  });
}

// Runs ------------------------------------------------------------------
function drawRuns() {
  var t = table(document.getElementById("runs"), [["run", "l"], ["task", "l"], ["mode", "l"], ["search seed"], ["LM", "l"],
    ["status", "l"], ["samples"], ["evaluated"]]);
  RUNS.forEach(function (run) {
    var scored = run.children.filter(function (c) { return c.kind !== "seed" && SCORED[c.verdict]; }).length;
    row(t, [{ text: run.label, cls: "l" }, { text: run.task, cls: "l" }, { text: run.mode, cls: "l" }, run.search_seed,
      { text: run.lm, cls: "l" }, { text: run.status, cls: "l" }, run.samples_used + " of " + run.budget, scored]);
  });
}

// Pareto front (Fig. 2a) ------------------------------------------------
function drawPareto() {
  var pts = [];
  RUNS.forEach(function (run, r) {
    var top = {}; run.top.forEach(function (id) { top[id] = 1; });
    run.children.forEach(function (c) {
      if (SCORED[c.verdict] && c.params_used > 0) pts.push({ r: r, c: c, top: !!top[c.id] });
    });
  });
  var W = 720, H = 380, M = { l: 64, r: 170, t: 10, b: 46 };
  var g = frame(document.getElementById("pareto"), W, H, M);
  if (!pts.length) { g.append("text").attr("y", 20).text("no child has been scored yet"); return; }
  var xs = d3.extent(pts, function (p) { return p.c.params_used; });
  var x = d3.scale.log().domain(xs[0] === xs[1] ? [xs[0] / 2, xs[1] * 2] : xs).range([0, W]).nice();
  var y = d3.scale.linear().domain(padded(d3.extent(pts, function (p) { return p.c.val_acc; }))).range([H, 0]).nice();
  axes(g, x, y, W, H, "used parameters (log)", "best validation accuracy", [6, ",d"]);
  RUNS.forEach(function (run, r) {
    var ids = byId(run), front = run.front.map(function (id) { return ids[id]; });
    if (front.length < 1) return;
    var line = d3.svg.line().interpolate("step-after")
      .x(function (c) { return x(c.params_used); }).y(function (c) { return y(c.val_acc); });
    g.append("path").attr("class", "front").attr("d", line(front)).attr("fill", "none")
      .attr("stroke", RUNS.length > 1 ? RUN_COLOURS(r) : "#555").attr("stroke-dasharray", "4,3");
  });
  var marks = g.append("g").attr("class", "pareto-points");
  marks.selectAll("circle").data(pts).enter().append("circle").attr("class", "pareto-point")
    .attr("cx", function (p) { return x(p.c.params_used); }).attr("cy", function (p) { return y(p.c.val_acc); })
    .attr("r", function (p) { return p.c.kind === "seed" || p.top ? 5.5 : 3.5; })
    .attr("fill", function (p) { return p.c.kind === "seed" ? "#ff7f00" : p.top ? "#e41a1c" : RUNS.length > 1 ? RUN_COLOURS(p.r) : "#377eb8"; })
    .attr("fill-opacity", function (p) { return p.c.kind === "seed" || p.top ? 1 : 0.55; })
    .attr("stroke", function (p) { return p.c.kind === "seed" ? "#000" : "none"; })
    .on("click", function (p) { location.hash = key(p.r, p.c.id); })
    .append("title").text(function (p) {
      return RUNS[p.r].label + " " + p.c.name + ": " + p.c.params_used + " params, val " + fmt(p.c.val_acc, 4) + ", fitness " + fmt(p.c.fitness, 1);
    });
  var items = [["seed", "#ff7f00"], ["top p (the answer)", "#e41a1c"]];
  if (RUNS.length > 1) RUNS.forEach(function (run, r) { items.push([run.label, RUN_COLOURS(r)]); });
  else items.push(["other child", "#377eb8"]);
  items.push(["Pareto front (dashed)", "#555"]);
  legend(g, items, W + 16);
}

// Max fitness so far (Fig. 2b), mean and bootstrap 95% band per group ------
function drawCurve() {
  var W = 720, H = 320, M = { l: 64, r: 230, t: 10, b: 46 };
  var g = frame(document.getElementById("curve"), W, H, M);
  var all = [];
  RUNS.forEach(function (run) { all = all.concat(run.best_so_far); });
  DATA.groups.forEach(function (gr) { all = all.concat(gr.lo, gr.hi); });
  if (!all.length) { g.append("text").attr("y", 20).text("no child has been evaluated yet"); return; }
  var n = d3.max(RUNS, function (run) { return run.best_so_far.length; });
  var x = d3.scale.linear().domain([1, Math.max(2, n)]).range([0, W]);
  var y = d3.scale.linear().domain(padded(d3.extent(all))).range([H, 0]).nice();
  axes(g, x, y, W, H, "children evaluated", "max fitness so far");
  var items = [];
  DATA.groups.forEach(function (gr, i) {
    var colour = RUN_COLOURS(i);
    var pts = gr.mean.map(function (m, j) { return { x: j + 1, m: m, lo: gr.lo[j], hi: gr.hi[j] }; });
    if (gr.runs.length > 1) {
      g.append("path").attr("class", "band").attr("fill", colour).attr("fill-opacity", 0.2)
        .attr("d", d3.svg.area().x(function (p) { return x(p.x); }).y0(function (p) { return y(p.lo); })
          .y1(function (p) { return y(p.hi); }).interpolate("step-after")(pts));
    }
    gr.runs.forEach(function (r) {
      var curve = RUNS[r].best_so_far.map(function (v, j) { return { x: j + 1, v: v }; });
      g.append("path").attr("class", "run-curve").attr("fill", "none").attr("stroke", colour).attr("stroke-opacity", 0.35)
        .attr("d", d3.svg.line().interpolate("step-after").x(function (p) { return x(p.x); }).y(function (p) { return y(p.v); })(curve));
    });
    g.append("path").attr("class", "mean-curve").attr("fill", "none").attr("stroke", colour).attr("stroke-width", 2)
      .attr("d", d3.svg.line().interpolate("step-after").x(function (p) { return x(p.x); }).y(function (p) { return y(p.m); })(pts));
    items.push([gr.mode + ": mean of " + gr.runs.length + " run" + (gr.runs.length > 1 ? "s, 95% band" : ""), colour]);
  });
  legend(g, items, W + 16);
}

// Per round -----------------------------------------------------------------
function drawRounds() {
  var root = document.getElementById("rounds");
  RUNS.forEach(function (run, r) {
    el(root, "h3", run.label);
    var verdicts = {};
    run.rounds.forEach(function (rd) { Object.keys(rd.verdicts).forEach(function (v) { verdicts[v] = 1; }); });
    var names = Object.keys(verdicts).sort();
    var W = Math.max(240, run.rounds.length * 48), H = 160, M = { l: 64, r: 170, t: 10, b: 46 };
    var div = el(root, "div", null, "plot");
    var g = frame(div, W, H, M);
    var x = d3.scale.ordinal().domain(run.rounds.map(function (rd) { return rd.round; })).rangeRoundBands([0, W], 0.2);
    var y = d3.scale.linear().domain([0, Math.max(1, d3.max(run.rounds, function (rd) { return rd.samples; }))]).range([H, 0]).nice();
    axes(g, x, y, W, H, "round", "children");
    run.rounds.forEach(function (rd) {
      var base = 0;
      names.forEach(function (v) {
        var count = rd.verdicts[v] || 0;
        if (!count) return;
        g.append("rect").attr("class", "verdict-bar").attr("x", x(rd.round)).attr("width", x.rangeBand())
          .attr("y", y(base + count)).attr("height", y(base) - y(base + count)).attr("fill", VERDICT_COLOURS[v] || "#888")
          .append("title").text("round " + rd.round + ": " + count + " " + v);
        base += count;
      });
    });
    legend(g, names.map(function (v) { return [v, VERDICT_COLOURS[v] || "#888"]; }), W + 16);
    var t = table(root, [["round"], ["children"], ["kept"], ["best fitness"], ["median fitness"], ["LM tokens (prompt + completion)"],
      ["LM s"], ["tune loss before"], ["tune loss after"], ["tuning", "l"]]);
    run.rounds.forEach(function (rd) {
      var tune = rd.tune || {};
      var tuning = tune.tuned ? "tuned" : (tune.detail || (rd.finished ? "none" : "round running"));
      row(t, [rd.round, rd.samples, rd.samples ? fmt(100 * rd.kept / rd.samples, 0) + "%" : "", fmt(rd.best_fitness, 1),
        fmt(rd.median_fitness, 1), rd.prompt_tokens + " + " + rd.completion_tokens, fmt(rd.lm_ms / 1000, 1),
        tune.tuned ? fmt(tune.loss_before, 4) : "", tune.tuned ? fmt(tune.loss_after, 4) : "", { text: tuning, cls: "l wrap" }]);
    });
  });
}

// Lineage: rows are rounds (seeds on top), edges from each prompt's parents --
function drawLineage() {
  var root = document.getElementById("lineage");
  RUNS.forEach(function (run, r) {
    el(root, "h3", run.label);
    var ids = byId(run), retired = {};
    run.rounds.forEach(function (rd) { (rd.selected || []).forEach(function (id) { retired[id] = 1; }); });
    var rows = {};
    run.children.forEach(function (c) { (rows[c.round] = rows[c.round] || []).push(c); });
    var levels = Object.keys(rows).map(Number).sort(function (a, b) { return a - b; });
    var widest = d3.max(levels, function (l) { return rows[l].length; }) || 1;
    var step = 14, W = Math.max(300, widest * step), H = Math.max(1, levels.length - 1) * 90, M = { l: 64, r: 20, t: 14, b: 14 };
    var pos = {};
    levels.forEach(function (l, li) {
      var list = rows[l], offset = (W - list.length * step) / 2 + step / 2;
      list.forEach(function (c, i) { pos[c.id] = { x: offset + i * step, y: li * 90 }; });
    });
    // By rank among the run's scored children: one huge seed must not turn
    // every other node the same green.
    var fit = run.children.filter(function (c) { return SCORED[c.verdict]; }).map(function (c) { return c.fitness; })
      .sort(function (a, b) { return a - b; });
    var shade = d3.scale.linear().domain([0, 0.5, 1]).range(["#d73027", "#fee08b", "#1a9850"]);
    var colour = function (f) { return shade(fit.length > 1 ? d3.bisectLeft(fit, f) / (fit.length - 1) : 1); };
    var div = el(root, "div", null, "plot");
    var g = frame(div, W, H, M);
    levels.forEach(function (l, li) {
      g.append("text").attr("x", -8).attr("y", li * 90 + 4).attr("text-anchor", "end").text(l < 0 ? "seeds" : "round " + l);
    });
    var edges = [];
    run.children.forEach(function (c) {
      (c.parent_ids || []).forEach(function (p) { if (pos[p] && pos[c.id]) edges.push([pos[p], pos[c.id]]); });
    });
    g.append("g").selectAll("line").data(edges).enter().append("line").attr("class", "lineage-edge")
      .attr("x1", function (e) { return e[0].x; }).attr("y1", function (e) { return e[0].y; })
      .attr("x2", function (e) { return e[1].x; }).attr("y2", function (e) { return e[1].y; });
    g.append("g").attr("class", "lineage-nodes").selectAll("circle").data(run.children).enter().append("circle")
      .attr("class", function (c) { return "lineage-node" + (retired[c.id] ? " retired" : ""); })
      .attr("cx", function (c) { return pos[c.id].x; }).attr("cy", function (c) { return pos[c.id].y; })
      .attr("r", function (c) { return c.kind === "seed" || retired[c.id] ? 6 : 4.5; })
      .attr("fill", function (c) { return SCORED[c.verdict] ? colour(c.fitness) : "#ccc"; })
      .on("click", function (c) { location.hash = key(r, c.id); })
      .append("title").text(function (c) {
        return c.name + ": " + c.verdict + (SCORED[c.verdict] ? ", fitness " + fmt(c.fitness, 1) : "") + (retired[c.id] ? " (chosen as a parent, then retired)" : "");
      });
    el(root, "p", "Colour: rank by fitness among the run's scored children, red (worst) to green (best); grey: not scored. A black ring: chosen as a parent, then retired.", "note");
  });
}

// The answer ------------------------------------------------------------------
function drawTop() {
  var root = document.getElementById("top");
  RUNS.forEach(function (run, r) {
    el(root, "h3", run.label);
    var ids = byId(run);
    var reeval = run.top.some(function (id) { return ids[id].reeval; });
    var headers = [["rank"], ["child", "l"], ["params"], ["val acc"], ["test acc"], ["fitness"]];
    if (reeval) headers = headers.concat([["trainings"], ["val mean ± sd"], ["test mean ± sd"], ["fitness mean ± sd"]]);
    var t = table(root, headers);
    t.className = "top-table";
    run.top.forEach(function (id, i) {
      var c = ids[id], cells = [i + 1, { node: function (td) { childLink(td, r, c); }, cls: "l" }, c.params_used,
        fmt(c.val_acc, 4), fmt(c.test_acc, 4), fmt(c.fitness, 1)];
      if (reeval) {
        var s = c.reeval;
        cells = cells.concat(s ? [s.trainings, fmt(s.val_mean, 4) + " ± " + fmt(s.val_sd, 4), fmt(s.test_mean, 4) + " ± " + fmt(s.test_sd, 4),
          fmt(s.fitness_mean, 1) + " ± " + fmt(s.fitness_sd, 1)] : ["", "", "", ""]);
      }
      row(t, cells);
    });
    if (!run.top.length) el(root, "p", "No child has entered the history yet.", "note");
    if (run.reeval_top.length) {
      el(root, "p", "Re-evaluated: ranked by mean fitness over every training.", "note");
      var t2 = table(root, [["rank"], ["child", "l"], ["trainings"], ["val mean ± sd"], ["test mean ± sd"], ["fitness mean ± sd"]]);
      run.reeval_top.forEach(function (id, i) {
        var c = ids[id], s = c.reeval;
        row(t2, [i + 1, { node: function (td) { childLink(td, r, c); }, cls: "l" }, s.trainings, fmt(s.val_mean, 4) + " ± " + fmt(s.val_sd, 4),
          fmt(s.test_mean, 4) + " ± " + fmt(s.test_sd, 4), fmt(s.fitness_mean, 1) + " ± " + fmt(s.fitness_sd, 1)]);
      });
    }
  });
}

function drawChildren() {
  var root = document.getElementById("children");
  RUNS.forEach(function (run, r) {
    el(root, "h3", run.label);
    var t = table(root, [["child", "l"], ["round"], ["kind", "l"], ["verdict", "l"], ["params"], ["val acc"], ["test acc"], ["fitness"]]);
    run.children.forEach(function (c) {
      var s = SCORED[c.verdict];
      row(t, [{ node: function (td) { childLink(td, r, c); }, cls: "l" }, c.round, { text: c.kind, cls: "l" }, { text: c.verdict, cls: "l" },
        s ? c.params_used : "", s ? fmt(c.val_acc, 4) : "", s ? fmt(c.test_acc, 4) : "", s ? fmt(c.fitness, 1) : ""]);
    });
  });
}

// One child: code, diffs against its parents, metrics, verdict ---------------
function lineDiff(a, b) {
  var A = a.split("\n"), B = b.split("\n"), n = A.length, m = B.length;
  if (n * m > 4e6) return [["note", "(too long to diff)"]];
  var L = [];
  for (var i = 0; i <= n; i++) { L.push(new Int32Array(m + 1)); }
  for (i = n - 1; i >= 0; i--)
    for (var j = m - 1; j >= 0; j--) L[i][j] = A[i] === B[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  var out = [];
  i = 0; j = 0;
  while (i < n && j < m) {
    if (A[i] === B[j]) { out.push(["same", A[i]]); i++; j++; }
    else if (L[i + 1][j] >= L[i][j + 1]) out.push(["del", A[i++]]);
    else out.push(["add", B[j++]]);
  }
  while (i < n) out.push(["del", A[i++]]);
  while (j < m) out.push(["add", B[j++]]);
  return out;
}

function showChild() {
  var root = document.getElementById("child");
  var m = /^#c(\d+)-(\d+)$/.exec(location.hash);
  if (!m || !RUNS[+m[1]]) return;
  var r = +m[1], run = RUNS[r], c = byId(run)[+m[2]];
  if (!c) return;
  root.textContent = "";
  el(root, "h3", run.label + " / " + c.name + " (" + c.kind + ", round " + c.round + ")");
  var t = table(root, [["verdict", "l"], ["rule", "l"], ["params used"], ["params total"], ["val acc"], ["best step"], ["test acc"], ["fitness"],
    ["temperature"], ["compile ms"], ["train ms"]]);
  row(t, [{ text: c.verdict, cls: "l " + (SCORED[c.verdict] ? "verdict-evaluated" : "verdict-bad") }, { text: c.rule, cls: "l" }, c.params_used,
    c.params_total, fmt(c.val_acc, 4), c.best_step, fmt(c.test_acc, 4), fmt(c.fitness, 1), fmt(c.temperature, 2), fmt(c.compile_ms, 0),
    fmt(c.train_ms, 0)]);
  if (c.reeval) {
    var s = c.reeval;
    el(root, "p", "Over " + s.trainings + " trainings: val " + fmt(s.val_mean, 4) + " ± " + fmt(s.val_sd, 4) + ", test " + fmt(s.test_mean, 4) +
      " ± " + fmt(s.test_sd, 4) + ", fitness " + fmt(s.fitness_mean, 1) + " ± " + fmt(s.fitness_sd, 1));
  }
  if (c.message) el(root, "p", c.message);
  if (c.diagnostics && c.diagnostics.length) el(root, "pre", c.diagnostics.join("\n"), "diagnostics");
  var parents = el(root, "p", c.parent_ids && c.parent_ids.length ? "Parents: " : "No parents (a seed).");
  (c.parent_ids || []).forEach(function (p, i) {
    var pc = byId(run)[p];
    if (i) parents.appendChild(document.createTextNode(", "));
    if (pc) childLink(parents, r, pc); else parents.appendChild(document.createTextNode("#" + p));
  });
  el(root, "h3", "Code");
  var code = el(el(root, "pre"), "code", null, "hljs cpp");
  code.innerHTML = hljs.highlight("cpp", c.source || "", true).value;  // hljs escapes the text
  (c.parent_ids || []).forEach(function (p) {
    var pc = byId(run)[p];
    if (!pc) return;
    el(root, "h3", "Diff against parent " + pc.name);
    var pre = el(root, "pre", null, "diff");
    lineDiff(pc.source || "", c.source || "").forEach(function (d) {
      el(pre, "div", (d[0] === "add" ? "+ " : d[0] === "del" ? "- " : "  ") + d[1], d[0]);
    });
  });
  root.scrollIntoView();
}

drawRuns();
drawPareto();
drawCurve();
drawRounds();
drawLineage();
drawTop();
drawChildren();
window.addEventListener("hashchange", showChild);
showChild();
document.body.setAttribute("data-rendered", "true");
