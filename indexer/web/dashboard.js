'use strict';
/* The operations dashboard: KPIs and ECharts charts from the indexer's statistics, refreshed every few seconds. */

// blocks and transactions are the product chaincode's; the network's own (lifecycle, config) and other chaincodes' are shown apart
const KPIS = [
  ['blocks', '区块'],
  ['transactions', '交易'],
  ['system.transactions', '系统交易'],
  ['other.transactions', '其他链码交易'],
  ['tasks', '批次'],
  ['codes', '赋码'],
  ['scans', '扫码'],
  ['scan_queue', '待上链扫码'],
  ['alerts', '告警'],
  ['alarms', '传感器超限'],
  ['asset_classes', '数字资产'],
];
const ALERT_NAMES = { clone: '疑似复制', diversion: '窜货', unknown: '未知编码', sensor: '传感器', 'cross-validation': '交叉校验' };
const charts = {};
const chart = (id) => (charts[id] ??= echarts.init(document.getElementById(id)));

function kpis(stats) {
  document.getElementById('kpis').replaceChildren(...KPIS.map(([k, name]) => el('div', { class: 'kpi', 'data-kpi': k }, el('div', { class: 'muted' }, name), el('div', { class: 'n' }, String(k.split('.').reduce((o, p) => o[p], stats))))));
}

function throughput({ series }) {
  chart('throughput').setOption({
    tooltip: { trigger: 'axis' },
    legend: { data: ['区块', '有效交易', '无效交易'] },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: series.map((s) => s.minute.slice(11, 16)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '区块', type: 'line', data: series.map((s) => s.blocks), smooth: true },
      { name: '有效交易', type: 'bar', stack: 'tx', data: series.map((s) => s.valid), itemStyle: { color: '#1a7f37' } },
      { name: '无效交易', type: 'bar', stack: 'tx', data: series.map((s) => s.invalid), itemStyle: { color: '#c62828' } },
    ],
  });
}

function lots(rows) {
  const templates = [...new Set(rows.map((r) => r.template))];
  const stages = [...new Set(rows.map((r) => r.stage))];
  chart('lots').setOption({
    tooltip: { trigger: 'axis' },
    legend: { data: templates },
    grid: { left: 120, right: 16, top: 36, bottom: 24 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: stages },
    series: templates.map((t) => ({ name: t, type: 'bar', stack: 'lots', data: stages.map((s) => (rows.find((r) => r.template === t && r.stage === s) || { lots: 0 }).lots) })),
  });
}

async function regions(rows) {
  const world = await loadWorldMap();
  const nameOf = Object.fromEntries(world.features.map((f) => [f.properties.iso_a2, f.properties.name]));
  const byCountry = {};
  for (const r of rows.filter((x) => x.region)) {
    const cc = r.region.slice(0, 2);
    byCountry[cc] = (byCountry[cc] || 0) + r.scans;
  }
  const data = Object.entries(byCountry).map(([cc, n]) => ({ name: nameOf[cc] || cc, value: n }));
  chart('regions').setOption({
    tooltip: { trigger: 'item', formatter: (p) => `${echarts.format.encodeHTML(p.name)}：${Number.isFinite(p.value) ? p.value : 0} 次扫码` },
    visualMap: { min: 0, max: Math.max(1, ...data.map((d) => d.value)), left: 8, bottom: 8, calculable: true, inRange: { color: ['#e6f4ea', '#0b3d2e'] } },
    series: [{ type: 'map', map: 'world', roam: true, data, emphasis: { label: { show: false } } }],
  });
  chart('regions').getDom().dataset.regions = rows.map((r) => `${r.region || '?'}:${r.scans}`).join(',');
}

function alerts(stats, latest) {
  chart('alert-types').setOption({
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['40%', '70%'], data: stats.byType.map((t) => ({ name: ALERT_NAMES[t.type] || t.type, value: t.n })) }],
  });
  document.getElementById('alerts').replaceChildren(
    el('tr', {}, el('th', {}, '时间'), el('th', {}, '类型'), el('th', {}, '对象'), el('th', {}, '说明')),
    ...latest.map((a) => el('tr', { 'data-type': a.type }, el('td', {}, fmtTime(a.at)), el('td', {}, ALERT_NAMES[a.type] || a.type), el('td', {}, a.device_id || shortHash(a.code_hash) || a.task_id || ''), el('td', { 'data-origin': origin(a) }, [a.message || '', originNote(a)].filter(Boolean).join(' ')))),
  );
}

/** A clone alert says where its scans came from: anonymous phones (how many) or apps with a key. */
const origin = (a) => (a.scanOrigin ? (a.fromAnonymousScans ? 'anonymous' : 'keyed') : undefined);
function originNote(a) {
  if (!a.scanOrigin) return '';
  const { anonymous, keyed } = a.scanOrigin;
  return `（匿名扫码 ${anonymous.counted} 次 / ${anonymous.clients} 个客户端，应用扫码 ${keyed.counted} 次）`;
}

async function sensors(devices) {
  const series = [];
  for (const d of devices.slice(0, 6)) {
    const { metrics } = await api(`/api/stats/sensors?deviceId=${encodeURIComponent(d.device_id)}`);
    for (const [metric, points] of Object.entries(metrics)) {
      series.push({ name: `${d.device_id} ${metric} max`, type: 'line', data: points.map((p) => [p.at, p.max]) });
      series.push({ name: `${d.device_id} ${metric} min`, type: 'line', lineStyle: { type: 'dashed' }, data: points.map((p) => [p.at, p.min]) });
    }
  }
  chart('sensors').setOption({ tooltip: { trigger: 'axis' }, legend: { type: 'scroll' }, grid: { left: 40, right: 16, top: 40, bottom: 28 }, xAxis: { type: 'time' }, yAxis: { type: 'value', scale: true }, series }, { replaceMerge: ['series'] });
}

/** Says on the page what /healthz says the indexer cannot index (e.g. TBaaS events without the access address). */
async function health() {
  const h = await (await fetch('/healthz')).json();
  const notice = document.getElementById('health-notice');
  notice.dataset.status = h.status;
  notice.hidden = h.status !== 'degraded';
  const missing = (h.missing || []).length ? `缺少 ${h.missing.join('、')}：` : '';
  document.getElementById('health-reason').textContent = h.status === 'degraded' ? `${missing}${h.reason}` : '';
  // several indexer processes may share one database: this one leads or follows each duty
  const roles = Object.entries(h.leases || {}).map(([duty, l]) => `${duty} ${l.role === 'leader' ? '主 leader' : '备 follower'}`);
  document.getElementById('roles').textContent = roles.length ? `本实例 · this instance: ${roles.join(' · ')}` : '';
}

async function refresh() {
  await health();
  const [stats, tp, lotRows, regionRows, alertStats, latest, devices] = await Promise.all([
    api('/api/stats'),
    api('/api/stats/throughput?minutes=60'),
    api('/api/stats/lots'),
    api('/api/stats/regions'),
    api('/api/stats/alerts'),
    api('/api/alerts?limit=10'),
    api('/api/devices'),
  ]);
  kpis(stats);
  throughput(tp);
  lots(lotRows);
  alerts(alertStats, latest);
  await Promise.all([regions(regionRows), sensors(devices)]);
  document.getElementById('updated').textContent = `更新于 ${fmtTime(new Date().toISOString())}`;
  document.getElementById('app').dataset.ready = 'true';
}

/** Without a valid member or auditor key the figures stay hidden and the page asks for one. */
function askForKey(e) {
  const form = document.getElementById('key-form');
  form.hidden = false;
  document.getElementById('key-error').textContent = sessionStorage.getItem(KEY_STORE) ? `${e.code}: ${e.message}` : '';
}
document.querySelector('#key-form form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY_STORE, new FormData(ev.target).get('key').trim());
  document.getElementById('key-form').hidden = true;
  clearTimeout(timer);
  loop();
});

let timer;
async function loop() {
  try {
    await refresh();
  } catch (e) {
    if (e.status === 401 || e.status === 403) askForKey(e);
    document.getElementById('updated').textContent = `刷新失败：${e.message}`;
  }
  timer = setTimeout(loop, 5000);
}
loop();
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
