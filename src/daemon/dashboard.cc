#include "daemon/dashboard.h"

namespace dbbackup::daemon {
namespace {

constexpr std::string_view kHtml = R"DBB(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>dbbackup</title>
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>dbbackup</h1>
  <span id="updated" class="muted">loading&hellip;</span>
</header>
<form id="token-form" hidden>
  <label for="token-input">API token (DBBACKUP_API_TOKEN, or the daemon's token file)</label>
  <input id="token-input" type="password" autocomplete="off" required>
  <button type="submit">Open</button>
  <span id="token-message" class="error"></span>
</form>
<main id="main" hidden>
  <p id="message" role="status"></p>
  <div id="databases"></div>
  <section>
    <h2>Recent jobs</h2>
    <table id="jobs">
      <thead><tr><th>Job</th><th>Kind</th><th>Database</th><th>State</th><th>Trigger</th>
        <th>Created</th><th>Duration</th><th>Error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
</body>
</html>
)DBB";

constexpr std::string_view kStyle = R"DBB(
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #1d2430; background: #f6f7f9; }
header { display: flex; align-items: baseline; gap: 1em; }
h1 { font-size: 1.4em; margin: 0.8em 0 0.4em; }
h2 { font-size: 1.1em; margin: 0.2em 0 0.5em; }
.muted { color: #6b7280; }
.error { color: #b42318; }
#message { min-height: 1.4em; }
#databases { display: grid; grid-template-columns: repeat(auto-fill, minmax(30em, 1fr)); gap: 1em; }
.db, section { background: #fff; border: 1px solid #d8dde5; border-radius: 6px; padding: 0.8em 1em; }
section { margin-top: 1em; }
.db-head { display: flex; justify-content: space-between; align-items: center; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; margin: 0.4em 0; }
dt { color: #6b7280; }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.2em 0.5em; border-bottom: 1px solid #eef0f3; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.err { color: #b42318; overflow-wrap: anywhere; max-width: 40em; }
.state { font-weight: 600; }
.state-succeeded { color: #067647; }
.state-failed { color: #b42318; }
.state-running, .state-queued { color: #175cd3; }
button { font: inherit; padding: 0.3em 0.9em; border-radius: 4px; border: 1px solid #175cd3;
  background: #175cd3; color: #fff; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
svg.chart { width: 100%; height: 140px; }
svg.chart .size { stroke: #175cd3; fill: none; stroke-width: 2; }
svg.chart .duration { stroke: #dc6803; fill: none; stroke-width: 2; stroke-dasharray: 4 3; }
svg.chart .axis { stroke: #98a2b3; stroke-width: 1; }
svg.chart text { font-size: 11px; fill: #475467; }
svg.chart text.size { fill: #175cd3; stroke: none; }
svg.chart text.duration { fill: #dc6803; stroke: none; }
)DBB";

// Builds every node with createElement/textContent (see dashboard.h).
constexpr std::string_view kScript = R"DBB('use strict';
(function () {
  const TOKEN_KEY = 'dbbackup-api-token';
  const SVG = 'http://www.w3.org/2000/svg';
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let refreshing = false;

  // A token in the fragment (#token=...) is kept for this tab and removed
  // from the address bar.
  const fragment = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (fragment) {
    token = decodeURIComponent(fragment[1]);
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }

  const byId = (id) => document.getElementById(id);

  // An element with attributes (set as attributes, never as HTML) and
  // children (nodes, or strings added as text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c instanceof Node ? c : String(c == null ? '' : c));
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function bytes(n) {
    if (n == null) return '\u2013';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
  }
  function seconds(s) {
    if (s == null) return '\u2013';
    return s < 10 ? s.toFixed(2) + ' s' : s.toFixed(0) + ' s';
  }
  function when(iso) {
    if (!iso) return '\u2013';
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString();
  }
  function stateCell(state) {
    return el('td', {class: 'state state-' + String(state).replace(/[^a-z-]/g, '')}, state);
  }
  function jobDuration(j) {
    if (j.result && typeof j.result.duration_s === 'number') return j.result.duration_s;
    if (j.started_at && j.finished_at) return (new Date(j.finished_at) - new Date(j.started_at)) / 1000;
    return null;
  }

  function askToken(message) {
    byId('main').hidden = true;
    byId('token-form').hidden = false;
    byId('token-message').textContent = message || '';
    byId('token-input').focus();
  }

  async function api(path, options) {
    const o = Object.assign({}, options || {});
    o.headers = Object.assign({'Authorization': 'Bearer ' + token}, o.headers || {});
    o.cache = 'no-store';
    const r = await fetch(path, o);
    if (r.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = '';
      askToken('The daemon refused the token; enter it again.');
      throw new Error('the daemon refused the token');
    }
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) throw new Error((body && body.error) || ('HTTP ' + r.status));
    return body;
  }

  // Backup size and duration of the database's succeeded backups, oldest
  // first, as two lines with their own scales.
  function chart(points) {
    const W = 600, H = 140, L = 10, R = 10, T = 16, B = 18;
    const root = svg('svg', {class: 'chart', viewBox: '0 0 ' + W + ' ' + H,
                             preserveAspectRatio: 'none', role: 'img'});
    root.append(svg('title', {}, 'Backup size and duration over time'));
    root.append(svg('line', {class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B}));
    if (points.length === 0) {
      root.append(svg('text', {x: L, y: H / 2}, 'No successful backups yet'));
      return root;
    }
    const maxSize = Math.max(1, ...points.map((p) => p.size));
    const maxDur = Math.max(0.001, ...points.map((p) => p.duration));
    const x = (i) => points.length === 1 ? (L + W - R) / 2 : L + i * (W - L - R) / (points.length - 1);
    const y = (v, max) => H - B - v / max * (H - T - B);
    const line = (key, max) => points.map((p, i) => x(i).toFixed(1) + ',' + y(p[key], max).toFixed(1)).join(' ');
    root.append(svg('polyline', {class: 'size', points: line('size', maxSize)}));
    root.append(svg('polyline', {class: 'duration', points: line('duration', maxDur)}));
    points.forEach((p, i) => {
      root.append(svg('circle', {class: 'size', cx: x(i), cy: y(p.size, maxSize), r: 2.5}));
    });
    root.append(svg('text', {class: 'size', x: L, y: 12}, 'size (max ' + bytes(maxSize) + ')'));
    root.append(svg('text', {class: 'duration', x: W - R, y: 12, 'text-anchor': 'end'},
                    'duration (max ' + seconds(maxDur) + ')'));
    root.append(svg('text', {x: L, y: H - 4}, when(points[0].time)));
    root.append(svg('text', {x: W - R, y: H - 4, 'text-anchor': 'end'}, when(points[points.length - 1].time)));
    return root;
  }

  function databaseCard(db, jobs, backups) {
    const mine = jobs.filter((j) => j.database === db.name);
    const lastBackup = mine.find((j) => j.kind === 'backup' && (j.state === 'succeeded' || j.state === 'failed'));
    const active = mine.find((j) => j.state === 'running' || j.state === 'queued');
    const button = el('button', {class: 'backup-now', type: 'button', 'data-database': db.name}, 'Back up now');
    button.addEventListener('click', () => backupNow(db.name, button));
    const dl = el('dl', {},
      el('dt', {}, 'Schedule'), el('dd', {}, db.schedule + ' (' + db.timezone + ')'),
      el('dt', {}, 'Next run'), el('dd', {class: 'next-run'}, when(db.next_run)),
      el('dt', {}, 'Last backup'),
      lastBackup
        ? el('dd', {class: 'last-result'}, el('span', {class: 'state state-' + lastBackup.state}, lastBackup.state),
             ' ', when(lastBackup.finished_at),
             lastBackup.error ? el('div', {class: 'error'}, lastBackup.error) : '')
        : el('dd', {class: 'last-result muted'}, 'none yet'),
      el('dt', {}, 'Now'), el('dd', {}, active ? active.kind + ' ' + active.state + ' (job ' + active.id + ')' : 'idle'));
    const points = mine.filter((j) => j.kind === 'backup' && j.state === 'succeeded' && j.result)
      .map((j) => ({time: j.finished_at, size: j.result.compressed_size || 0, duration: jobDuration(j) || 0}))
      .reverse().slice(-50);
    const rows = backups.filter((b) => b.database === db.name).slice(0, 10).map((b) =>
      el('tr', {}, el('td', {}, when(b.timestamp)), el('td', {}, b.key),
         el('td', {class: 'num'}, bytes(b.compressed_size)), el('td', {class: 'num'}, bytes(b.original_size))));
    const table = el('table', {class: 'backups'},
      el('thead', {}, el('tr', {}, el('th', {}, 'Backup'), el('th', {}, 'Key'), el('th', {}, 'Compressed'), el('th', {}, 'Original'))),
      el('tbody', {}, ...rows));
    return el('div', {class: 'db', 'data-database': db.name},
      el('div', {class: 'db-head'}, el('h2', {}, db.name), button),
      el('div', {class: 'muted'}, db.path), dl, chart(points),
      rows.length ? table : el('p', {class: 'muted'}, 'No backups in the store yet.'));
  }

  function jobRow(j) {
    return el('tr', {'data-job-id': j.id},
      el('td', {class: 'id'}, j.id), el('td', {}, j.kind), el('td', {}, j.database), stateCell(j.state),
      el('td', {}, j.trigger), el('td', {}, when(j.created_at)), el('td', {class: 'num'}, seconds(jobDuration(j))),
      el('td', {class: 'err'}, j.error || ''));
  }

  async function refresh() {
    if (!token || refreshing) return;
    refreshing = true;
    try {
      const [dbs, jobs, backups] = await Promise.all([
        api('/api/databases'), api('/api/jobs?limit=200'),
        api('/api/backups').catch((e) => { byId('message').textContent = 'Backups: ' + e.message; return []; })]);
      byId('token-form').hidden = true;
      byId('main').hidden = false;
      byId('databases').replaceChildren(...dbs.map((d) => databaseCard(d, jobs.jobs, backups)));
      byId('jobs').tBodies[0].replaceChildren(...jobs.jobs.slice(0, 50).map(jobRow));
      byId('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      byId('updated').className = 'muted';
    } catch (e) {
      byId('updated').textContent = 'cannot reach the daemon: ' + e.message;
      byId('updated').className = 'error';
    } finally {
      refreshing = false;
    }
  }

  async function backupNow(database, button) {
    button.disabled = true;
    try {
      const job = await api('/api/jobs', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                         body: JSON.stringify({kind: 'backup', database: database})});
      byId('message').textContent = 'Backup of ' + database + ': job ' + job.id + ' ' + job.state;
      byId('message').className = '';
    } catch (e) {
      byId('message').textContent = 'Backup of ' + database + ' not started: ' + e.message;
      byId('message').className = 'error';
    } finally {
      button.disabled = false;
    }
    refresh();
  }

  document.addEventListener('DOMContentLoaded', () => {
    byId('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      token = byId('token-input').value.trim();
      byId('token-input').value = '';
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      refresh();
    });
    if (token) refresh(); else askToken('');
    setInterval(refresh, 2000);
  });
})();
)DBB";

constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

std::string_view DashboardHtml() { return kHtml; }
std::string_view DashboardScript() { return kScript; }
std::string_view DashboardStyle() { return kStyle; }
std::string_view DashboardContentSecurityPolicy() { return kCsp; }

}  // namespace dbbackup::daemon
