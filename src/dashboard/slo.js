"use strict";
// Renders /slo.json. Every figure goes into an element with a stable id or data-field and the
// raw number in data-value, so tests can compare the page with the JSON it was drawn from.

const REFRESH_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = ["svg", "polyline", "line", "text", "g"].includes(tag)
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function raw(x) { return x === null || x === undefined ? "" : String(x); }
function pct(x, digits) { return x === null || x === undefined ? "–" : (x * 100).toFixed(digits) + " %"; }
function burn(x) { return x.toFixed(2) + "×"; }
function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 1 ? (s * 1000).toFixed(1) + " ms" : s.toFixed(2) + " s";
}
function mib(bytes) { return bytes === null || bytes === undefined ? "–" : (bytes / 1048576).toFixed(1) + " MiB"; }
function duration(total) {
  const d = Math.floor(total / 86400), h = Math.floor(total % 86400 / 3600);
  const m = Math.floor(total % 3600 / 60), s = total % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

// The colour of a burn rate in a window: red above a page pair's factor for that window, amber
// above a ticket pair's factor or above 1 (spending faster than the objective allows).
function burnState(slo, window, rate) {
  let page = Infinity, ticket = Infinity;
  for (const alert of slo.alerts) {
    for (const c of alert.conditions) {
      if (c.long !== window && c.short !== window) continue;
      if (alert.severity === "page") page = Math.min(page, c.factor);
      else ticket = Math.min(ticket, c.factor);
    }
  }
  if (rate > page) return "bad";
  if (rate > ticket || rate > 1) return "warn";
  return "ok";
}

function sliClass(slo) {
  if (slo.sli === null) return "";
  if (slo.status === "page") return "bad";
  if (slo.status === "ticket" || belowObjective(slo)) return "warn";
  return "ok";
}

// One scope's row of headline figures: this instance's, or the fleet's (`prefix` "fleet-").
function figureRow(scope, note, slo, figures, prefix) {
  const remaining = figures.error_budget_remaining;
  const fill = el("div", {
    class: "fill " + (remaining <= 0 ? "bad" : remaining < 0.25 ? "warn" : ""),
    style: `width: ${Math.max(0, Math.min(1, remaining)) * 100}%`,
  });
  return [
    el("div", { class: "scope" }, scope, el("small", {}, note)),
    el("div", { class: "figure" },
      el("div", { class: "label" }, `SLI, ${slo.window}`),
      el("div", { class: "value " + sliClass({ ...slo, sli: figures.sli, status: figures.status }), "data-field": prefix + "sli", "data-value": raw(figures.sli) }, pct(figures.sli, 3))),
    el("div", { class: "figure" },
      el("div", { class: "label" }, "error budget left"),
      el("div", { class: "value", "data-field": prefix + "budget-remaining", "data-value": raw(remaining) }, pct(remaining, Math.abs(remaining) >= 10 ? 0 : 1)),
      el("div", { class: "bar" }, fill)),
    el("div", { class: "figure" },
      el("div", { class: "label" }, `burn rate, ${slo.window}`),
      el("div", { class: "value", "data-field": prefix + "burn-rate-window", "data-value": raw(figures.burn_rate) }, burn(figures.burn_rate)),
      el("div", { class: "sub", "data-field": prefix + "events", "data-good": figures.good, "data-total": figures.total }, `${figures.good} good of ${figures.total}`)),
  ];
}

// The SLO window's error budget burning down (Pyrra's main graph): x is time before now over
// the part of the window with data, y the share of the budget left (below 0: overspent).
function budgetChart(slo, history, source) {
  const W = 640, H = 130, L = 52, R = 8, T = 8, B = 20;
  const ago = history.seconds_ago, left = history.remaining;
  const last = left.length ? left[left.length - 1] : null;
  const svg = el("svg", {
    class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `error budget left, ${slo.name}`,
    "data-field": "budget-chart", "data-source": source, "data-last": raw(last), "data-points": left.length,
  });
  if (!left.length) return svg;
  const span = Math.max(1, ...ago);
  // Down to the lowest point, but no further than twice the budget spent: below that the line
  // rests on the floor, labelled as such, so that a small budget is still readable.
  const lowest = Math.min(...left), lo = lowest < 0 ? Math.max(-1, lowest) : 0, hi = 1;
  const x = s => L + (1 - s / span) * (W - L - R);
  const y = v => T + (hi - Math.max(lo, Math.min(hi, v))) / (hi - lo) * (H - T - B);
  const levels = lo < 0 ? [1, 0, lo] : [1, 0.5, 0];
  for (const v of levels) {
    svg.append(el("line", { class: v === 0 ? "zero" : "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    const floor = v === lo && lowest < lo ? "≤ " : "";
    svg.append(el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, `${floor}${Math.round(v * 100)} %`));
  }
  for (const f of [1, 2 / 3, 1 / 3, 0]) {
    const s = Math.round(span * f);
    svg.append(el("text", { x: x(s), y: H - 5, "text-anchor": f === 1 ? "start" : f === 0 ? "end" : "middle" }, s ? `-${duration(s)}` : "now"));
  }
  const state = last <= 0 ? "bad" : last < 0.25 ? "warn" : "ok";
  const points = ago.map((s, i) => `${x(s).toFixed(1)},${y(left[i]).toFixed(1)}`);
  svg.append(el("polyline", { class: `budget-line ${state}`, points: points.join(" ") }));
  return svg;
}

function sloCard(slo, fleet) {
  const threshold = slo.threshold_seconds !== null ? ` · under ${seconds(slo.threshold_seconds)}`
    : slo.limit_bytes !== null ? ` · under ${mib(slo.limit_bytes)}`
    : slo.psi_threshold !== null ? ` · every column's PSI over ${slo.drift_window} under ${slo.psi_threshold}` : "";
  const scope = slo.model ? ` · model ${slo.model}` : "";
  const windows = slo.windows;
  const fleetWindow = w => fleet ? fleet.windows.find(f => f.window === w.window) : undefined;
  const head = el("tr", {}, el("th", {}, "window"),
    ...windows.map(w => el("th", { title: w.covered_seconds < w.seconds ? `measured over ${duration(w.covered_seconds)} so far` : "" }, w.window)));
  const sliRow = el("tr", {}, el("td", {}, "SLI"),
    ...windows.map(w => el("td", { "data-field": "window-sli", "data-window": w.window, "data-value": raw(w.sli) }, pct(w.sli, 2))));
  const burnRow = el("tr", {}, el("td", {}, "burn rate"),
    ...windows.map(w => el("td", {
      "data-field": "burn-rate", "data-window": w.window, "data-value": raw(w.burn_rate),
      "data-state": burnState(slo, w.window, w.burn_rate),
    }, burn(w.burn_rate))));
  const eventsRow = el("tr", {}, el("td", {}, "events"),
    ...windows.map(w => el("td", { "data-field": "window-events", "data-window": w.window, "data-value": raw(w.total) }, w.total)));
  const rows = [sliRow, burnRow, eventsRow];
  if (fleet) {
    rows.push(
      el("tr", { class: "fleet-row" }, el("td", {}, "fleet SLI"),
        ...windows.map(w => { const f = fleetWindow(w); return el("td", { "data-field": "fleet-window-sli", "data-window": w.window, "data-value": raw(f && f.sli) }, pct(f && f.sli, 2)); })),
      el("tr", { class: "fleet-row" }, el("td", {}, "fleet burn"),
        ...windows.map(w => {
          const f = fleetWindow(w);
          return el("td", {
            "data-field": "fleet-burn-rate", "data-window": w.window, "data-value": raw(f && f.burn_rate),
            "data-state": f ? burnState(slo, w.window, f.burn_rate) : undefined,
          }, f ? burn(f.burn_rate) : "–");
        })),
      el("tr", { class: "fleet-row" }, el("td", {}, "fleet events"),
        ...windows.map(w => { const f = fleetWindow(w); return el("td", { "data-field": "fleet-window-events", "data-window": w.window, "data-value": raw(f && f.total) }, f ? f.total : "–"); })));
  }
  const alerts = slo.alerts.map(a => {
    const state = !a.enabled ? "off" : a.firing ? a.severity : "ok";
    const text = `${a.severity}: ${!a.enabled ? "off" : a.firing ? "FIRING" : "ok"}`;
    const how = a.conditions.map(c =>
      `${c.factor}× over ${c.long} (${c.long_burn_rate.toFixed(2)}×) and ${c.short} (${c.short_burn_rate.toFixed(2)}×)` +
      (c.enough_events ? "" : `, ${c.long_events} < ${a.min_events} events`)).join("; ");
    return el("span", { class: "pill", "data-field": "alert", "data-severity": a.severity, "data-state": state, title: how }, text);
  });
  const figures = figureRow("this instance", `up ${duration(slo.covered_seconds)}`, slo, slo, "");
  if (fleet) {
    figures.push(...figureRow("fleet", `${duration(fleet.covered_seconds)} of data`, slo, fleet, "fleet-"));
  }
  const history = fleet ? fleet.budget_history : slo.budget_history;
  const chartSource = fleet ? "fleet" : "instance";
  const statusPills = [el("span", { class: "pill", "data-field": "status", "data-state": slo.status },
    slo.status === "ok" && belowObjective(slo) ? "OK · below objective" : slo.status.toUpperCase())];
  if (fleet) {
    statusPills.unshift(el("span", { class: "pill", "data-field": "fleet-status", "data-state": fleet.status, title: "the fleet's alert state" },
      `fleet: ${fleet.status.toUpperCase()}`));
  }
  return el("article", { class: "slo-card", id: `slo-${slo.name}`, "data-slo": slo.name, "data-status": slo.status },
    el("div", { class: "slo-head" },
      el("h2", {}, slo.name),
      el("span", {}, ...statusPills)),
    el("p", { class: "slo-desc" }, `${slo.description} Objective `,
      el("b", { "data-field": "objective", "data-value": raw(slo.objective) }, `${slo.objective_percent} %`),
      ` over ${slo.window}${threshold}${scope}.`),
    el("div", { class: "figures" }, ...figures),
    el("table", { class: "burn" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    el("div", { class: "budget" },
      el("div", { class: "label" }, `error budget left over the ${slo.window} window · ${fleet ? "fleet" : "this instance"}`),
      budgetChart(slo, history, chartSource)),
    el("div", { class: "alerts" }, ...alerts, guardNote(slo)));
}

// Says when a Prometheus misses some of this instance's requests (those answered before its
// first scrape: a Prometheus starts each counter from its first sample), or when readiness is
// held until that scrape comes.
function renderFirstScrape(first) {
  const notice = document.getElementById("first-scrape");
  notice.dataset.state = first.state;
  notice.dataset.value = raw(first.events_before);
  const n = first.events_before, requests = n === 1 ? "1 request" : `${n} requests`;
  const text = first.state === "waiting"
    ? `Not ready until /metrics is first scraped (at most ${duration(Math.round(first.wait_seconds))} from start), so that Prometheus counts every request from the first.`
    : !first.events_uncounted ? ""
    : first.state === "scraped"
      ? `${requests} answered before the first scrape of /metrics (${duration(Math.round(first.scraped_after_seconds))} after start): Prometheus starts each counter from its first sample, so the fleet's SLOs miss them.`
      : `${requests} answered and /metrics not scraped yet: a Prometheus that scrapes it later starts each counter from then and misses them.`;
  notice.textContent = text;
  notice.hidden = !text;
}

function renderFleet(fleet) {
  const section = document.getElementById("fleet");
  if (!fleet) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const state = document.getElementById("fleet-state");
  state.dataset.state = fleet.state;
  state.textContent = fleet.state;
  const instances = document.getElementById("fleet-instances");
  instances.textContent = fleet.instances === null ? "–" : fleet.instances;
  instances.dataset.value = raw(fleet.instances);
  document.getElementById("fleet-source").textContent = fleet.source;
  const updated = document.getElementById("fleet-updated");
  updated.dataset.value = raw(fleet.updated);
  updated.textContent = fleet.updated === null ? "– (not yet)"
    : `${new Date(fleet.updated * 1000).toLocaleTimeString()} (${duration(Math.round(fleet.age_seconds))} ago)`;
  document.getElementById("fleet-interval").textContent = duration(Math.round(fleet.refresh_interval_seconds));
  const error = document.getElementById("fleet-error");
  const age = fleet.age_seconds === null ? "" : duration(Math.round(fleet.age_seconds));
  const why = fleet.state === "stale"
    ? `Stale: ${fleet.error || `no new figures for ${age}`}. ` +
      (fleet.updated === null ? "No fleet figures yet." : "The fleet figures below are the last good ones.")
    : fleet.state === "refreshing" ? `Asking for new fleet figures; those below are ${age} old.`
    : fleet.state === "pending" ? "Asking for the first fleet figures…" : "";
  error.textContent = why;
  error.dataset.state = fleet.state;
  error.hidden = !why;
}

// Says so when a window pair burns fast enough to alert but has too few events to.
function guardNote(slo) {
  const held = slo.alerts.some(a => a.enabled && a.conditions.some(c =>
    !c.enough_events && c.long_burn_rate > c.factor && c.short_burn_rate > c.factor));
  if (!held) return "";
  const min = Math.max(...slo.alerts.map(a => a.min_events));
  return el("span", { class: "note", "data-field": "guard" },
    `burning, but alerts wait for ${min} events in the long window`);
}

// A chart of series over the last hour: x is minutes ago (59 … 0), y linear or log.
function chart(svg, points, series, opts) {
  const W = 640, H = +svg.getAttribute("viewBox").split(" ")[3], L = 52, R = 8, T = 8, B = 20;
  svg.replaceChildren();
  const x = m => L + (59 - m) / 59 * (W - L - R);
  const y = opts.log
    ? v => T + (1 - (Math.log10(v) - Math.log10(opts.min)) / (Math.log10(opts.max) - Math.log10(opts.min))) * (H - T - B)
    : v => T + (1 - (v - opts.min) / (opts.max - opts.min)) * (H - T - B);
  for (const g of opts.grid) {
    svg.append(el("line", { class: "grid", x1: L, x2: W - R, y1: y(g.v), y2: y(g.v) }));
    svg.append(el("text", { x: L - 4, y: y(g.v) + 3, "text-anchor": "end" }, g.label));
  }
  for (const m of [59, 45, 30, 15, 0]) {
    svg.append(el("text", { x: x(m), y: H - 5, "text-anchor": "middle" }, m ? `-${m} min` : "now"));
  }
  for (const t of opts.thresholds || []) {
    svg.append(el("line", { class: "thr", x1: L, x2: W - R, y1: y(t), y2: y(t) }));
  }
  for (const s of series) {
    let run = [];
    const flush = () => {
      if (run.length) svg.append(el("polyline", { class: s.cls, points: run.join(" ") }));
      run = [];
    };
    for (const p of points) {
      const v = p[s.key];
      if (v === null || v === undefined) { flush(); continue; }
      const clamped = Math.min(opts.max, Math.max(opts.min, v));
      run.push(`${x(p.minutes_ago).toFixed(1)},${y(clamped).toFixed(1)}`);
      if (run.length === 1 && points.length === 1) run.push(`${(x(p.minutes_ago) - 3).toFixed(1)},${y(clamped).toFixed(1)}`);
    }
    flush();
  }
}

function renderCharts(report) {
  const points = report.traffic;
  const thresholds = report.slos.filter(s => s.threshold_seconds !== null).map(s => s.threshold_seconds);
  chart(document.getElementById("latency-chart"), points,
    [{ key: "p50_seconds", cls: "p50" }, { key: "p90_seconds", cls: "p90" }, { key: "p99_seconds", cls: "p99" }],
    {
      log: true, min: 0.0001, max: 30, thresholds,
      grid: [{ v: 0.001, label: "1 ms" }, { v: 0.01, label: "10 ms" }, { v: 0.1, label: "100 ms" }, { v: 1, label: "1 s" }, { v: 10, label: "10 s" }],
    });
  const peak = Math.max(1, ...points.map(p => p.requests_per_second));
  const top = Math.pow(10, Math.ceil(Math.log10(peak)));
  chart(document.getElementById("traffic-chart"), points,
    [{ key: "requests_per_second", cls: "req" }, { key: "errors_per_second", cls: "err" }],
    { log: false, min: 0, max: top, grid: [0, 0.5, 1].map(f => ({ v: f * top, label: String(f * top) })) });
  const last = points[points.length - 1] || { requests_per_second: 0, errors_per_second: 0 };
  const rps = document.getElementById("rps"), eps = document.getElementById("eps");
  rps.textContent = last.requests_per_second.toFixed(2);
  rps.dataset.value = raw(last.requests_per_second);
  eps.textContent = last.errors_per_second.toFixed(2);
  eps.dataset.value = raw(last.errors_per_second);
}

function renderMemory(memory) {
  const rss = document.getElementById("memory-rss"), limit = document.getElementById("memory-limit");
  rss.textContent = mib(memory.rss_bytes);
  rss.dataset.value = raw(memory.rss_bytes);
  limit.textContent = mib(memory.limit_bytes);
  limit.dataset.value = raw(memory.limit_bytes);
  const share = memory.rss_bytes && memory.limit_bytes ? memory.rss_bytes / memory.limit_bytes : 0;
  const bar = document.getElementById("memory-bar");
  bar.style.width = `${Math.min(1, share) * 100}%`;
  bar.className = "fill " + (share >= 1 ? "bad" : share > 0.8 ? "warn" : "");
}

function renderModels(models) {
  document.querySelector("#models tbody").replaceChildren(...models.map(m => el("tr", { "data-model": m.name },
    el("td", {}, m.name), el("td", { "data-field": "model-version" }, m.version), el("td", {}, m.estimator),
    el("td", { "data-field": "model-loaded", "data-value": raw(m.loaded_at_unix_seconds) },
      m.loaded_at_unix_seconds ? new Date(m.loaded_at_unix_seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "–"))));
}

// Model health: a column's drift status as the page colours it.
const DRIFT_STATE = { drift: "bad", warn: "warn", ok: "ok", unknown: "off" };
function stat(x) { return x === null || x === undefined ? "–" : x.toFixed(3); }
function count(n) { return n === null || n === undefined ? "–" : n.toLocaleString("en"); }

// Shares per bin as two step lines over the same bins: the reference (dashed) and the current
// window's. The bins' labels are under the axis, every one or every few.
function histogram(feature, figures, source) {
  const W = 320, H = 130, L = 36, R = 6, T = 8, B = 34;
  const bins = figures.bins || [], reference = figures.reference || [], current = figures.current || [];
  const svg = el("svg", {
    class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${feature}: reference and current shares`,
    "data-field": "histogram", "data-feature": feature, "data-source": source, "data-bins": bins.length,
  });
  if (!bins.length) return svg;
  const top = Math.max(0.05, ...reference, ...current);
  const x = i => L + i / bins.length * (W - L - R);
  const y = v => T + (1 - v / top) * (H - T - B);
  for (const v of [0, top / 2, top]) {
    svg.append(el("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, `${Math.round(v * 100)} %`));
  }
  const every = Math.ceil(bins.length / 6);
  bins.forEach((label, i) => {
    if (i % every && i !== bins.length - 1) return;
    const text = label.length > 9 ? label.slice(0, 8) + "…" : label;
    svg.append(el("text", { x: (x(i) + x(i + 1)) / 2, y: H - B + 12 + (i / every % 2) * 10, "text-anchor": "middle" }, text));
  });
  const steps = shares => shares.flatMap((v, i) => [`${x(i).toFixed(1)},${y(v).toFixed(1)}`, `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`]).join(" ");
  svg.append(el("polyline", { class: "ref", points: steps(reference) }));
  svg.append(el("polyline", { class: "cur", points: steps(current) }));
  return svg;
}

// One model's health: the reference in use, its data-quality SLO and issues, every column's
// drift at 1h and 1d with its status, and the most drifted columns' and the predictions'
// shares against the reference.
function healthCard(model, slos) {
  const h = model.health, ref = h.reference;
  const worst = ["drift", "warn", "ok"].find(s => h.columns.some(c => c.status === s)
    || (h.prediction && h.prediction.status === s)) || "unknown";
  const where = ref.source === "profile"
    ? [`profile ${ref.location} (${count(ref.rows)} rows, made ${ref.created})`,
      ref.for_version === "other" ? el("span", { class: "warn", "data-field": "for-version" }, " · made for another version of the model") : ""]
    : ref.source === "window" ? [`the first ${count(ref.rows)} rows this version served`]
    : ref.source === "pending" ? [`filling: the first ${count(ref.rows)} rows become the reference (${count(ref.filled)} so far)`]
    : ["none (--health-reference-rows 0): only what the model knows is checked"];
  const error = ref.profile_error ? el("span", { class: "warn", "data-field": "profile-error" }, ` · profile refused: ${ref.profile_error}`) : "";
  const quality = slos.find(s => s.kind === "data_quality" && (s.model === null || s.model === model.name));
  const hour = h.rows.windows.find(w => w.window === "1h") || { rows: 0, with_issues: 0 };
  const fleet = h.fleet && h.fleet.drift ? h.fleet.drift : null;
  const fleetOf = feature => fleet ? fleet.columns.find(c => c.feature === feature) : undefined;
  const windows = ["1h", "1d"];
  const head = el("tr", {}, el("th", {}, "column"),
    ...windows.flatMap(w => [el("th", {}, `PSI ${w}`), el("th", {}, `JS ${w}`)]),
    ...(fleet ? [el("th", { title: `summed over ${fleet.instances} instances` }, "fleet PSI 1h")] : []),
    el("th", {}, "issues"), el("th", {}, "status"));
  const row = (c, what) => el("tr", { "data-feature": c.feature },
    el("td", {}, what || c.feature),
    ...windows.flatMap(w => {
      const d = c.drift.find(x => x.window === w) || {};
      return [
        el("td", { "data-field": "health-psi", "data-feature": c.feature, "data-window": w, "data-value": raw(d.psi), title: `${count(d.rows)} rows` }, stat(d.psi)),
        el("td", { "data-field": "health-js", "data-feature": c.feature, "data-window": w, "data-value": raw(d.jensen_shannon) }, stat(d.jensen_shannon)),
      ];
    }),
    ...(fleet ? [(() => { const f = fleetOf(c.feature), d = f && f.drift.find(x => x.window === "1h");
      return el("td", { "data-field": "fleet-psi", "data-feature": c.feature, "data-value": raw(d && d.psi) }, stat(d && d.psi)); })()] : []),
    el("td", { "data-field": "health-issues", "data-feature": c.feature,
      title: `missing ${c.issues.missing}, unseen ${c.issues.unseen_category}, out of range ${c.issues.out_of_range}` },
      c.issues.missing + c.issues.unseen_category + c.issues.out_of_range),
    el("td", { "data-field": "health-status", "data-feature": c.feature, "data-state": DRIFT_STATE[c.status] }, c.status));
  const rows = h.columns.map(c => row(c));
  if (h.prediction) rows.push(row(h.prediction, "predictions"));
  const charts = h.columns.filter(c => c.bins).map(c => el("div", {},
    el("div", { class: "label" }, `${c.feature} · ${c.status}`), histogram(c.feature, c, "column")));
  if (h.prediction) {
    charts.push(el("div", {}, el("div", { class: "label" }, "predicted class shares against the reference"),
      histogram("prediction", h.prediction, "prediction")));
  }
  const figures = [
    el("div", { class: "scope" }, "rows", el("small", {}, "last hour")),
    el("div", { class: "figure" }, el("div", { class: "label" }, "rows, 1h"),
      el("div", { class: "value", "data-field": "health-rows", "data-value": hour.rows }, count(hour.rows))),
    el("div", { class: "figure" }, el("div", { class: "label" }, "with an issue, 1h"),
      el("div", { class: "value", "data-field": "health-rows-with-issues", "data-value": hour.with_issues }, count(hour.with_issues)),
      el("div", { class: "sub", "data-field": "health-issues-total", "data-missing": h.rows.issues.missing,
        "data-unseen": h.rows.issues.unseen_category, "data-out-of-range": h.rows.issues.out_of_range },
        `since start: ${h.rows.issues.missing} missing, ${h.rows.issues.unseen_category} unseen, ${h.rows.issues.out_of_range} out of range`)),
    el("div", { class: "figure" }, el("div", { class: "label" }, quality ? `${quality.name} SLI, ${quality.window}` : "data quality"),
      el("div", { class: "value " + (quality ? sliClass(quality) : ""), "data-field": "health-quality-sli", "data-value": raw(quality && quality.sli) },
        quality ? pct(quality.sli, 3) : "–"),
      quality ? el("div", { class: "sub" }, el("span", { class: "pill", "data-field": "health-quality-status", "data-state": quality.status }, quality.status.toUpperCase()),
        ` objective ${quality.objective_percent} %`) : ""),
  ];
  return el("article", { class: "slo-card health-card", id: `health-${model.name}`, "data-model": model.name, "data-status": DRIFT_STATE[worst] },
    el("div", { class: "slo-head" },
      el("h2", {}, "Model health ", el("small", {}, `${model.name} · version ${h.version}`)),
      el("span", { class: "pill", "data-field": "health-state", "data-state": DRIFT_STATE[worst] }, worst === "unknown" ? "NO DATA" : worst.toUpperCase())),
    el("p", { class: "reference", "data-field": "reference", "data-source": ref.source, "data-value": raw(ref.id) }, "Reference: ", ...where, error),
    el("div", { class: "figures" }, ...figures),
    el("table", { class: "burn drift" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    el("div", { class: "histograms" }, ...charts),
    el("div", { class: "legend" }, el("i", { class: "l-ref" }), "reference", el("i", { class: "l-cur" }),
      `last ${h.status_window} · statuses: PSI from 0.1 warn, from ${h.psi_threshold} drift`));
}

/** The SLO window's SLI is below the objective (null before any event: not below). */
function belowObjective(slo) {
  return slo.sli !== null && slo.sli < slo.objective;
}

function render(report) {
  document.getElementById("service").textContent = report.service;
  document.getElementById("build-version").textContent = report.build.version;
  document.getElementById("build-sha").textContent = report.build.git_sha;
  document.getElementById("uptime").textContent = duration(report.uptime_seconds);
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  const fleetSlos = report.fleet ? report.fleet.slos : [];
  const worstOf = slos => slos.some(s => s.status === "page") ? "page"
    : slos.some(s => s.status === "ticket") ? "ticket" : "ok";
  const rank = { ok: 0, ticket: 1, page: 2 };
  const mine = worstOf(report.slos), fleets = worstOf(fleetSlos);
  const worst = rank[fleets] > rank[mine] ? fleets : mine;
  const where = rank[fleets] > rank[mine] ? " in the fleet" : "";
  const overall = document.getElementById("overall");
  // No alert firing is not the same as meeting every objective: with too few events to alert
  // on, an SLO can still be below its objective, and the header must not say "OK" then.
  const below = report.slos.filter(belowObjective).map(s => s.name);
  overall.dataset.state = worst === "ok" && below.length ? "warn" : worst;
  overall.textContent = worst === "ok" && below.length
    ? `no alert firing; below objective: ${below.join(", ")}`
    : { ok: "all SLOs met", ticket: "ticket alert firing", page: "page alert firing" }[worst] + where;
  document.getElementById("slos").replaceChildren(
    ...report.slos.map(slo => sloCard(slo, fleetSlos.find(f => f.name === slo.name))));
  renderFirstScrape(report.first_scrape);
  renderFleet(report.fleet);
  renderCharts(report);
  renderMemory(report.memory);
  renderModels(report.models);
  document.getElementById("health").replaceChildren(
    ...report.models.filter(m => m.health).map(m => healthCard(m, report.slos)));
  document.body.dataset.loaded = "true";
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const response = await fetch("slo.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`slo.json answered ${response.status}`);
    render(await response.json());
    error.hidden = true;
  } catch (e) {
    error.textContent = `Cannot refresh: ${e.message}`;
    error.hidden = false;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
