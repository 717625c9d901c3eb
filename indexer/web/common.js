'use strict';
/* Shared by the trace page and the dashboard: JSON over fetch, safe DOM building, formatting. */

/**
 * The API key of this tab (member or auditor): a link may carry it as #key=… (a fragment never
 * reaches a server or a Referer); it is kept in sessionStorage and taken out of the address bar.
 */
const KEY_STORE = 'trace.apiKey';
(function keyFromLink() {
  const m = /^#key=([\w-]+)$/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY_STORE, m[1]);
  history.replaceState(null, '', location.pathname + location.search);
})();

/** GET or POST JSON (with the tab's key, if any); rejects with the API's { code, message } on an error status. */
async function api(path, body) {
  const key = sessionStorage.getItem(KEY_STORE);
  const headers = Object.assign(key ? { Authorization: `Bearer ${key}` } : {}, body === undefined ? {} : { 'Content-Type': 'application/json' });
  const res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  // a proxy's error page is no JSON: the status still tells what happened
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.error ? json.error.message : res.statusText), { status: res.status, code: json.error && json.error.code });
  return json;
}

/** Builds an element; text children are set as text (never as HTML). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) : '');
const round = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const shortHash = (h) => (h ? `${h.slice(0, 8)}…${h.slice(-4)}` : '');

/** ECharts needs the world map registered once; the GeoJSON carries ISO 3166 codes and Chinese names. */
let worldMap;
async function loadWorldMap() {
  if (!worldMap) {
    worldMap = await (await fetch('/assets/world.json')).json();
    echarts.registerMap('world', worldMap);
  }
  return worldMap;
}
