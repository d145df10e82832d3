// SPDX-License-Identifier: Apache-2.0

/// The admin listener's status page (`GET /`): one self-contained HTML document, no external
/// assets, no build step. Its script polls `/stats` every 5 s (the browser sends the credentials
/// it opened the page with), starts its chart from the server's last hour of samples (`history`,
/// one a minute), keeps adding its own, and draws request rate and hit ratio as inline SVG;
/// routes without traffic are left out. Elements carrying numbers have ids (`total-requests`, `hits`, …) so a test reads
/// them back.
enum StatusPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Moxy status</title>
    <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d232a; background: #f7f8fa; }
    h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
    .cards { display: flex; flex-wrap: wrap; gap: .8em; }
    .card { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .6em .9em; min-width: 9em; }
    .card b { display: block; font-size: 1.5em; }
    table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #dde1e6; padding: .25em .6em; text-align: left; }
    th { background: #eef1f4; } svg { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; }
    .muted { color: #68717a; } #error { color: #b3261e; }
    </style>
    </head>
    <body>
    <h1>Moxy</h1>
    <div class="muted">version <span id="version">…</span> · up <span id="uptime">…</span> · updated <span id="updated">never</span> <span id="error"></span></div>
    <h2>Requests</h2>
    <div class="cards">
      <div class="card">total<b id="total-requests">–</b></div>
      <div class="card">hits<b id="hits">–</b></div>
      <div class="card">stale<b id="stale">–</b></div>
      <div class="card">misses<b id="misses">–</b></div>
      <div class="card">hit ratio<b id="hit-ratio">–</b></div>
      <div class="card">rate<b id="rate">–</b></div>
    </div>
    <h2>Last hour</h2>
    <svg id="chart" width="720" height="180" viewBox="0 0 720 180" role="img" aria-label="request rate and hit ratio">
      <polyline id="rate-line" fill="none" stroke="#1f6feb" stroke-width="2" points=""></polyline>
      <polyline id="ratio-line" fill="none" stroke="#2da44e" stroke-width="2" points=""></polyline>
      <text x="8" y="16" fill="#1f6feb">requests/s (max <tspan id="rate-max">0</tspan>)</text>
      <text x="8" y="32" fill="#2da44e">hit ratio (0–100 %)</text>
    </svg>
    <h2>Tiers</h2>
    <table id="tiers"><tr><th>tier</th><th>entries</th><th>bytes</th><th>used</th><th>evictions</th></tr></table>
    <h2>Routes</h2>
    <table id="sources"><tr><th>mode</th><th>route</th><th>requests</th><th>hits</th><th>validation failures</th><th>last good served</th></tr></table>
    <h2>Upstream</h2>
    <div>requests <b id="upstream-requests">–</b> · errors <b id="upstream-errors">–</b> · error rate <b id="upstream-error-rate">–</b></div>
    <table id="upstream-table"><tr><th>mode</th><th>kind</th><th>count</th></tr></table>
    <h2>Recent validation failures</h2>
    <table id="failures"><tr><th>time</th><th>route</th><th>rule</th><th>status</th><th>reason</th></tr></table>
    <script>
    "use strict";
    const samples = [];
    const text = (id, value) => { document.getElementById(id).textContent = value; };
    const fmtBytes = n => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : n < 1073741824 ? (n / 1048576).toFixed(1) + " MiB" : (n / 1073741824).toFixed(2) + " GiB";
    const fmtDuration = s => s < 120 ? s + " s" : s < 7200 ? Math.floor(s / 60) + " min" : Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
    function rows(id, items, cells) {
      const table = document.getElementById(id);
      while (table.rows.length > 1) table.deleteRow(1);
      for (const item of items) {
        const row = table.insertRow();
        for (const value of cells(item)) row.insertCell().textContent = value;
      }
    }
    function draw() {
      const width = 720, height = 180, top = 40;
      const span = 3600, end = samples.length ? samples[samples.length - 1].time : 0;
      let maxRate = 0;
      for (const s of samples) maxRate = Math.max(maxRate, s.rate);
      const x = t => width - (end - t) / span * width;
      const y = (v, max) => height - 4 - (max > 0 ? v / max : 0) * (height - top);
      document.getElementById("rate-line").setAttribute("points", samples.map(s => x(s.time).toFixed(1) + "," + y(s.rate, maxRate).toFixed(1)).join(" "));
      document.getElementById("ratio-line").setAttribute("points", samples.filter(s => s.ratio !== null).map(s => x(s.time).toFixed(1) + "," + y(s.ratio, 1).toFixed(1)).join(" "));
      text("rate-max", maxRate.toFixed(1));
    }
    async function poll() {
      try {
        // The page may have been opened with credentials in its URL; fetch() refuses URLs with them,
        // so the origin is named alone (the browser sends the cached credentials itself).
        const response = await fetch(location.origin + "/stats", { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) throw new Error("stats answered " + response.status);
        const stats = await response.json();
        const r = stats.requests;
        text("version", stats.version);
        text("uptime", fmtDuration(stats.uptime_seconds));
        text("updated", new Date(stats.time * 1000).toISOString().replace(".000", ""));
        text("total-requests", r.total);
        text("hits", r.hit);
        text("stale", r.stale);
        text("misses", r.miss);
        const served = r.hit + r.stale + r.miss + r.revalidated;
        text("hit-ratio", served ? ((r.hit + r.stale) / served * 100).toFixed(1) + " %" : "–");
        if (!samples.length && stats.history) {
          // The server's samples (one a minute) fill the chart at once.
          stats.history.forEach((b, i) => {
            const a = stats.history[i - 1], dt = a ? b.time - a.time : 0;
            const all = a ? b.served - a.served : 0;
            samples.push({ time: b.time, total: b.total, hits: b.hits, served: b.served,
              rate: dt > 0 ? (b.total - a.total) / dt : 0, ratio: all > 0 ? (b.hits - a.hits) / all : null });
          });
          if (samples.length > 1) samples.shift();
        }
        const last = samples[samples.length - 1];
        // The first sample's rate is the average since start; later ones are per interval.
        let rate = stats.uptime_seconds > 0 ? r.total / stats.uptime_seconds : 0, ratio = served ? (r.hit + r.stale) / served : null;
        if (last && stats.time > last.time) {
          rate = (r.total - last.total) / (stats.time - last.time);
          const hits = r.hit + r.stale - last.hits, all = served - last.served;
          ratio = all > 0 ? hits / all : null;
        }
        text("rate", rate.toFixed(1) + "/s");
        samples.push({ time: stats.time, total: r.total, hits: r.hit + r.stale, served, rate, ratio });
        while (samples.length && samples[0].time < stats.time - 3600) samples.shift();
        draw();
        rows("tiers", Object.entries(stats.tiers), ([name, t]) => [name, t.entries, fmtBytes(t.bytes), (t.capacity ? (t.bytes / t.capacity * 100).toFixed(1) : "0") + " %" + (t.loading ? " (loading)" : ""), t.evictions]);
        rows("sources", stats.sources.filter(s => s.requests.total > 0), s => [s.mode === "none" ? "–" : s.mode, s.route === "none" ? "(no route)" : s.route, s.requests.total, s.requests.hit, s.validation_failures, s.last_good_served]);
        const errors = stats.upstream.errors.reduce((sum, e) => sum + e.count, 0);
        text("upstream-requests", stats.upstream.requests);
        text("upstream-errors", errors);
        text("upstream-error-rate", stats.upstream.requests ? (errors / stats.upstream.requests * 100).toFixed(1) + " %" : "–");
        rows("upstream-table", stats.upstream.errors, e => [e.mode, e.kind, e.count]);
        rows("failures", stats.recent_validation_failures, f => [new Date(f.time * 1000).toISOString().replace(".000", ""), f.route, f.rule, f.status, f.reason]);
        text("error", "");
        document.body.dataset.loaded = "true";
      } catch (error) {
        text("error", String(error));
      }
    }
    poll();
    setInterval(poll, 5000);
    </script>
    </body>
    </html>
    """#
}
