/* gome report: plot, tree, filters and lazily built step details.
 * All text from the run is untrusted (model output, code, logs): it only ever reaches the page
 * through textContent / createTextNode, never through innerHTML. */
(function () {
  "use strict";
  performance.mark("gome-start");
  var DATA = JSON.parse(document.getElementById("gome-data").textContent);
  var RUN = DATA.run;
  var STEPS = {};
  DATA.steps.forEach(function (s) { STEPS[s.id] = s; });
  var MEMORY = {};
  DATA.memory.forEach(function (m) { MEMORY[m.id] = m; });
  var SVGNS = "http://www.w3.org/2000/svg";
  var COLORS = ["#0969da", "#d1242f", "#1a7f37", "#8250df", "#bc4c00",
                "#1b7c83", "#bf3989", "#4d2d00", "#57606a", "#6639ba"];

  // ---------------------------------------------------------------- helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function svg(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function fmtScore(v) {
    if (v === null || v === undefined || typeof v !== "number") { return v == null ? "—" : String(v); }
    var s = v.toPrecision(6);
    if (s.indexOf("e") < 0 && s.indexOf(".") >= 0) { s = s.replace(/0+$/, "").replace(/\.$/, ""); }
    return s;
  }
  function fmtGain(v) {
    if (v === null || v === undefined) { return ""; }
    return (v >= 0 ? "+" : "") + Number(v.toPrecision(4));
  }
  function fmtDur(sec) {
    if (sec === null || sec === undefined) { return "—"; }
    var s = Math.round(Math.max(0, sec)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var long = h || RUN.clock_hours;  // a run over an hour: every time reads h:mm:ss
    var r = s % 60, mm = (long ? String(m).padStart(2, "0") : String(m));
    return (long ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }
  function fmtSpan(sec) {  // a length of time, e.g. "4m 10s"
    if (sec === null || sec === undefined) { return "—"; }
    if (sec < 60) { return sec.toFixed(sec < 10 ? 1 : 0) + "s"; }
    var s = Math.round(sec), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + "h " + String(m).padStart(2, "0") + "m" : m + "m " + String(s % 60).padStart(2, "0") + "s";
  }
  function fmtMoney(v) {
    if (v === null || v === undefined) { return "—"; }
    return v >= 0.995 || v === 0 ? "$" + v.toFixed(2) : "$" + v.toFixed(4);
  }
  function kv(parent, pairs) {
    var dl = add(parent, el("dl", "kv"));
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      add(dl, el("dt", null, p[0]));
      var dd = add(dl, el("dd"));
      if (p[1] instanceof Node) { dd.appendChild(p[1]); } else { dd.textContent = String(p[1]); }
    });
    return dl;
  }
  function stepLink(id) {
    var a = el("a", "steplink", "#" + id);
    a.href = "#step-" + id;
    a.setAttribute("data-step", String(id));
    return a;
  }
  function pre(cls, text) { return el("pre", cls, text); }

  // ---------------------------------------------------------------- step details
  function renderDiff(text) {
    var p = el("pre", "diff");
    var lines = text.replace(/\n$/, "").split("\n");
    lines.forEach(function (line) {
      var cls = "ctx";
      if (line.indexOf("+++") === 0 || line.indexOf("---") === 0) { cls = "meta"; }
      else if (line.indexOf("@@") === 0) { cls = "hunk"; }
      else if (line.charAt(0) === "+") { cls = "add"; }
      else if (line.charAt(0) === "-") { cls = "del"; }
      p.appendChild(el("span", cls, line === "" ? " " : line));
    });
    return p;
  }

  function renderOutcome(box, o, title) {
    add(box, el("h4", null, title));
    kv(box, [["status", o.status + (o.exit_code !== null && o.exit_code !== undefined ? " (exit " + o.exit_code + ")" : "")],
             ["message", o.message], ["wall time", fmtSpan(o.wall_time_s)],
             ["peak memory", o.peak_memory_mb ? Math.round(o.peak_memory_mb) + " MB" : null],
             ["time limit", o.time_limit_s ? fmtSpan(o.time_limit_s) : null]]);
    if (o.scores) { add(box, el("div", "muted", "scores.json")); add(box, pre("code", JSON.stringify(o.scores, null, 2))); }
    var tbInErr = o.traceback && o.stderr_tail && o.stderr_tail.indexOf(o.traceback.trim()) >= 0;
    if (o.traceback && !tbInErr) { add(box, el("div", "muted", "traceback")); add(box, pre("log err", o.traceback)); }
    if (o.stderr_tail) { add(box, el("div", "muted", "stderr (tail)")); add(box, pre("log err", o.stderr_tail)); }
    if (o.stdout_tail) { add(box, el("div", "muted", "stdout (tail)")); add(box, pre("log", o.stdout_tail)); }
  }

  function renderBody(s, body) {
    var top = kv(body, [
      ["decision", s.decision + (s.reason ? " — " + s.reason : "")],
      ["score", s.score !== null ? fmtScore(s.score) + (s.gain !== null ? "  (" + fmtGain(s.gain) + ")" : "") : null],
      ["validation", s.valid ? null : s.validation_message],
      ["trace · index", "trace " + s.trace + " · step " + s.index + " · " + s.kind],
      ["written from", s.base_id !== null ? stepLink(s.base_id) : null],
      ["after", s.parent_id !== null && s.parent_id !== s.base_id ? stepLink(s.parent_id) : null],
      ["run clock", fmtDur(s.elapsed_start_s) + " → " + fmtDur(s.elapsed_end_s) +
        (s.elapsed_end_s !== null ? "  (took " + fmtSpan(s.elapsed_end_s - s.elapsed_start_s) + ")" : "")],
      ["LLM", s.tokens_in || s.tokens_out || s.cost_usd ? fmtMoney(s.cost_usd) + " · " + s.tokens_in + " tokens in · " + s.tokens_out + " out" : null],
      ["seed", s.seed]]);
    top.classList.add("head");

    var g = s.gradient;
    if (g && (g.problems.length || g.analysis)) {
      add(body, el("h4", null, "Gradient: what is wrong" + (g.noisy ? " (noisy: replaced on purpose)" : "")));
      if (g.analysis) { add(body, el("p", null, g.analysis)); }
      var ul = add(body, el("ul"));
      g.problems.forEach(function (p) {
        var li = add(ul, el("li", "problem"));
        add(li, el("span", "cap", p.caption));
        add(li, el("span", "cat", p.category + " · " + p.expected_impact + " impact · from " + p.source));
        add(li, el("div", null, p.statement));
        if (p.evidence && p.evidence.length) {
          var ev = add(li, el("ul", "evidence"));
          p.evidence.forEach(function (e) { add(ev, el("li", null, e)); });
        }
      });
    }

    if (s.hypotheses && s.hypotheses.length) {
      add(body, el("h4", null, "Hypotheses"));
      var chosen = s.selection ? s.selection.hypothesis.statement : null;
      var t = add(body, el("table", "hyps"));
      var hr = add(add(t, el("thead")), el("tr"));
      ["problem", "hypothesis", "component", "align", "impact", "novel", "feasible", "risk/rew", "score"].forEach(function (h, i) {
        add(hr, el("th", i >= 3 ? "num" : null, h));
      });
      var tb = add(t, el("tbody"));
      s.hypotheses.forEach(function (h) {
        var tr = add(tb, el("tr", h.statement === chosen ? "chosen" : null));
        [h.problem, h.statement, h.component].forEach(function (v) { add(tr, el("td", null, v)); });
        ["alignment", "impact", "novelty", "feasibility", "risk_reward"].forEach(function (k) {
          add(tr, el("td", "num", h.scores[k]));
        });
        add(tr, el("td", "num", h.weighted));
      });
    }

    if (s.selection) {
      add(body, el("h4", null, "Choice and why"));
      var ch = add(body, el("div", "choice"));
      add(ch, el("div", null, s.selection.hypothesis.statement)).style.fontWeight = "600";
      if (s.selection.reason) { add(ch, el("div", null, s.selection.reason)); }
      var used = (s.memory_used || []).concat(s.selection.memory_used || []).filter(function (v, i, a) { return a.indexOf(v) === i; });
      if (used.length) {
        var mu = add(ch, el("div", "muted", "drew on success memory: "));
        used.forEach(function (mid) {
          var m = MEMORY[mid];
          var gain = m && m.gain !== null && m.gain !== undefined ? " (gain " + fmtGain(m.gain) + ")" : "";
          add(mu, el("span", null, "[" + mid + "] " + (m ? m.hypothesis + gain : "") + "  "));
        });
      }
    }

    add(body, el("h4", null, "Change"));
    kv(body, [["summary", s.summary], ["approach", s.approach],
              ["fixes", s.fixes && s.fixes.length ? s.fix_attempts + " attempt(s): " + s.fixes.join("; ") : null]]);
    if (s.diff) {
      var from = s.base_id !== null ? s.base_id : s.parent_id;
      add(body, el("div", "muted", from !== null ? "diff against step #" + from + ", the solution it was written from" : "diff (new solution)"));
      add(body, renderDiff(s.diff));
    } else {
      add(body, el("div", "muted", "no code change recorded"));
    }

    if (s.review && (s.review.veto || s.review.reason || (s.review.concerns || []).length)) {
      add(body, el("h4", null, "Review" + (s.review.veto ? ": veto" : "")));
      if (s.review.reason) { add(body, el("p", null, s.review.reason)); }
      var cu = add(body, el("ul"));
      (s.review.concerns || []).forEach(function (c) { add(cu, el("li", null, c)); });
    }
    if (s.debug_outcome) {  // secondary evidence: folded, with its gist in the title
      var dbg = add(body, el("details", "block"));
      add(dbg, el("summary", null, "Debug run on a subsample: " + s.debug_outcome.status + ", " +
        fmtSpan(s.debug_outcome.wall_time_s)));
      renderOutcome(dbg, s.debug_outcome, "Debug run (subsample)");
    }
    if (s.outcome) { renderOutcome(body, s.outcome, "Outcome"); }
    else { add(body, el("h4", null, "Outcome")); add(body, el("div", "muted", s.status === "running" ? "still running" : "no run recorded")); }

    if (s.calls && s.calls.length) {
      add(body, el("h4", null, "LLM calls"));
      var ct = add(body, el("table", "hyps"));
      var ch2 = add(add(ct, el("thead")), el("tr"));
      ["operator", "model", "tokens in", "tokens out", "cost", "latency"].forEach(function (h, i) { add(ch2, el("th", i >= 2 ? "num" : null, h)); });
      var cb = add(ct, el("tbody"));
      s.calls.forEach(function (c) {  // [operator, model, in, out, cost, latency, error]
        var tr = add(cb, el("tr"));
        add(tr, el("td", null, c[0] + (c[6] ? " (failed: " + c[6] + ")" : "")));
        add(tr, el("td", null, c[1]));
        add(tr, el("td", "num", c[2]));
        add(tr, el("td", "num", c[3]));
        add(tr, el("td", "num", fmtMoney(c[4])));
        add(tr, el("td", "num", c[5] ? c[5].toFixed(1) + " s" : ""));
      });
    }
  }

  function ensureBody(details) {
    var body = details.querySelector(".body");
    if (body.getAttribute("data-built")) { return; }
    body.setAttribute("data-built", "1");
    var s = STEPS[details.getAttribute("data-step-id")];
    if (s) { renderBody(s, body); }
  }

  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (d && d.classList && d.classList.contains("step") && d.open) { ensureBody(d); }
  }, true);

  // ---------------------------------------------------------------- filters
  var fTrace = document.getElementById("f-trace");
  var fText = document.getElementById("f-text");
  var fCount = document.getElementById("f-count");
  var stepEls = Array.prototype.slice.call(document.querySelectorAll("details.step"));
  var traceEls = Array.prototype.slice.call(document.querySelectorAll("#explorer .trace"));

  function applyFilters() {
    var trace = fTrace.value;
    var allowed = {};
    document.querySelectorAll("#f-decisions input").forEach(function (i) { allowed[i.value] = i.checked; });
    var text = fText.value.trim().toLowerCase();
    var shown = 0;
    stepEls.forEach(function (d) {
      var ok = (!trace || d.getAttribute("data-trace") === trace) &&
        allowed[d.getAttribute("data-decision")] !== false &&
        (!text || d.querySelector("summary").textContent.toLowerCase().indexOf(text) >= 0);
      d.hidden = !ok;
      if (ok) { shown += 1; }
    });
    traceEls.forEach(function (t) { t.hidden = !t.querySelector("details.step:not([hidden])"); });
    fCount.textContent = shown === stepEls.length ? shown + " steps" : shown + " of " + stepEls.length + " steps";
    document.getElementById("no-match").hidden = shown > 0;
  }
  fTrace.addEventListener("change", applyFilters);
  fText.addEventListener("input", applyFilters);
  document.querySelectorAll("#f-decisions input").forEach(function (i) { i.addEventListener("change", applyFilters); });
  document.getElementById("collapse-all").addEventListener("click", function () {
    stepEls.forEach(function (d) { d.open = false; });
  });

  function openStep(id) {
    var d = document.getElementById("step-" + id);
    if (!d) { return; }
    if (d.hidden) {
      fTrace.value = ""; fText.value = "";
      document.querySelectorAll("#f-decisions input").forEach(function (i) { i.checked = true; });
      applyFilters();
    }
    ensureBody(d);
    d.open = true;
    d.scrollIntoView({ block: "start" });
    d.classList.remove("flash");
    void d.offsetWidth;
    d.classList.add("flash");
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("[data-step]") : null;
    if (!a) { return; }
    ev.preventDefault();
    var id = a.getAttribute("data-step");
    history.replaceState(null, "", "#step-" + id);
    openStep(id);
  });

  // ---------------------------------------------------------------- plot
  function niceStep(span, n) {
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }
  function drawPlot() {
    var box = document.getElementById("plot");
    var steps = DATA.steps.filter(function (s) { return s.elapsed_end_s !== null; });
    var scored = steps.filter(function (s) { return s.score !== null; });
    if (!scored.length && !steps.length) {
      box.appendChild(el("p", "muted", "No step has finished yet."));
      return;
    }
    var acc = scored.filter(function (s) { return s.decision === "accepted"; });
    var base = (acc.length ? acc : scored).map(function (s) { return s.score; });
    var lo = base.length ? Math.min.apply(null, base) : 0, hi = base.length ? Math.max.apply(null, base) : 1;
    var span = hi - lo || Math.abs(hi) * 0.1 || 1;
    scored.forEach(function (s) {  // include other scores unless they are far outliers
      if (s.score >= lo - span && s.score <= hi + span) { lo = Math.min(lo, s.score); hi = Math.max(hi, s.score); }
    });
    span = hi - lo || Math.abs(hi) * 0.1 || 1;
    lo -= span * 0.06; hi += span * 0.06;
    var tmax = Math.max(RUN.time_used_s || 0, Math.max.apply(null, steps.map(function (s) { return s.elapsed_end_s; }))) || 1;
    var W = 960, H = 320, L = 64, R = 150, T = 14, B = 56, FAIL = 16;
    var pw = W - L - R, ph = H - T - B - FAIL;
    function X(t) { return L + pw * t / tmax; }
    function Y(v) { return T + ph * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)); }
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, id: "plot-svg" }, box);
    var grid = svg("g", { "class": "grid" }, root), axis = svg("g", { "class": "axis" }, root);
    var ys = niceStep(hi - lo, 5);
    for (var v = Math.ceil(lo / ys) * ys; v <= hi; v += ys) {
      svg("line", { x1: L, x2: L + pw, y1: Y(v), y2: Y(v) }, grid);
      var ty = svg("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end" }, axis);
      ty.textContent = fmtScore(Number(v.toPrecision(6)));
    }
    var cands = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200, 86400];
    var xs = cands.filter(function (c) { return tmax / c <= 8; })[0] || niceStep(tmax, 8);
    for (var t = 0; t <= tmax + 1e-9; t += xs) {
      svg("line", { x1: X(t), x2: X(t), y1: T, y2: T + ph }, grid);
      var tx = svg("text", { x: X(t), y: H - B + FAIL + 16, "text-anchor": "middle" }, axis);
      tx.textContent = fmtDur(t);  // the same clock as the step list's "ended at"
    }
    svg("line", { x1: L, x2: L + pw, y1: T + ph, y2: T + ph }, axis);
    var xl = svg("text", { x: L + pw / 2, y: H - 8, "text-anchor": "middle" }, axis);
    xl.textContent = RUN.clock_hours ? "run time (h:mm:ss)" : "run time (m:ss)";
    var yl = svg("text", { x: 14, y: T + ph / 2, "text-anchor": "middle", transform: "rotate(-90 14 " + (T + ph / 2) + ")" }, axis);
    yl.textContent = RUN.metric + (RUN.higher_is_better ? " (higher is better)" : " (lower is better)");
    var fy = T + ph + FAIL - 2;
    var fl = svg("text", { x: L - 6, y: fy + 4, "text-anchor": "end" }, axis);
    fl.textContent = "failed";

    var traces = {};
    steps.forEach(function (s) { (traces[s.trace] = traces[s.trace] || []).push(s); });
    var ids = Object.keys(traces).map(Number).sort(function (a, b) { return a - b; });
    var legend = svg("g", { "class": "legend" }, root);
    var dense = steps.length > 150, rAcc = dense ? 2.6 : 4.5, rOther = dense ? 1.8 : 3;
    ids.forEach(function (tr, k) {
      var color = COLORS[tr % COLORS.length];
      var list = traces[tr].slice().sort(function (a, b) { return a.elapsed_end_s - b.elapsed_end_s; });
      var best = null, d = "", tEnd = 0;
      list.forEach(function (s) {
        tEnd = Math.max(tEnd, s.elapsed_end_s);
        if (s.decision !== "accepted" || s.score === null) { return; }
        var improves = best === null || (RUN.higher_is_better ? s.score > best : s.score < best);
        if (!improves) { return; }
        d += best === null ? "M" + X(s.elapsed_end_s) + " " + Y(s.score)
          : " H" + X(s.elapsed_end_s) + " V" + Y(s.score);
        best = s.score;
      });
      var g = svg("g", { "class": "series", "data-trace": String(tr) }, root);
      if (d) { svg("path", { d: d + " H" + X(tEnd), fill: "none", stroke: color, "stroke-width": 2, "class": "best-line" }, g); }
      list.forEach(function (s) {
        var p, tip = "#" + s.id + " · trace " + s.trace + " · " + s.kind + " · " + s.decision +
          (s.score !== null ? " · " + fmtScore(s.score) : "") + " · " + fmtDur(s.elapsed_end_s) +
          (s.summary ? "\n" + s.summary : "");
        var x = X(s.elapsed_end_s);
        if (s.score === null) {
          p = svg("path", { d: "M" + (x - 3) + " " + (fy - 3) + " l6 6 m0 -6 l-6 6", stroke: color, "stroke-width": 1.5, opacity: 0.55 }, g);
        } else if (s.decision === "accepted") {
          p = svg("circle", { cx: x, cy: Y(s.score), r: rAcc, fill: color, stroke: "#fff", "stroke-width": dense ? 0.6 : 1.5 }, g);
        } else {
          p = svg("circle", { cx: x, cy: Y(s.score), r: rOther, fill: "#fff", stroke: color, "stroke-width": 1.2, opacity: dense ? 0.35 : 0.5 }, g);
        }
        if (s.id === (RUN.final_step_id !== null ? RUN.final_step_id : RUN.best_step_id) && s.score !== null) {
          svg("circle", { cx: x, cy: Y(s.score), r: 9, fill: "none", stroke: color, "stroke-width": 1.5, "class": "best-ring" }, g);
        }
        p.setAttribute("class", "pt");
        p.setAttribute("data-step", String(s.id));
        svg("title", {}, p).textContent = tip;
      });
      var ly = T + 10 + k * 18;
      svg("line", { x1: L + pw + 14, x2: L + pw + 34, y1: ly, y2: ly, stroke: color, "stroke-width": 2 }, legend);
      var lt = svg("text", { x: L + pw + 40, y: ly + 4 }, legend);
      lt.textContent = "trace " + tr + (best !== null ? " · " + fmtScore(best) : "");
    });
  }

  // ---------------------------------------------------------------- tree
  function drawTree() {
    var box = document.getElementById("tree");
    if (!box) { return; }
    var kids = {}, roots = [];
    DATA.steps.forEach(function (s) {
      if (s.parent_id !== null && STEPS[s.parent_id]) { (kids[s.parent_id] = kids[s.parent_id] || []).push(s); }
      else { roots.push(s); }
    });
    var best = RUN.final_step_id !== null ? RUN.final_step_id : RUN.best_step_id;
    var stack = [[roots, box]];
    while (stack.length) {  // iterative, so that deep debug chains cannot overflow the stack
      var item = stack.pop(), ul = add(item[1], el("ul"));
      item[0].forEach(function (s) {
        var li = add(ul, el("li"));
        var n = add(li, el("span", "node dec-" + s.decision + (s.id === best ? " best" : "")));
        n.setAttribute("data-step", String(s.id));
        add(n, el("span", "idx", "#" + s.id));
        add(n, el("span", null, s.kind));
        add(n, el("span", null, fmtScore(s.score)));
        add(n, el("span", "badge", s.decision));
        if (s.summary) { add(n, el("span", "what", s.summary)); }
        n.title = s.summary || "";
        if (kids[s.id]) { stack.push([kids[s.id], li]); }
      });
    }
  }

  drawPlot();
  drawTree();
  if (/^#step-\d+$/.test(location.hash)) { openStep(location.hash.slice(6)); }
  document.body.setAttribute("data-ready", "1");
  performance.mark("gome-ready");
})();
