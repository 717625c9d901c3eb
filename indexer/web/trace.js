'use strict';
/* The consumer page a QR code points to: verifies the code (recording the scan), then shows the public trace. */

const VERDICTS = {
  genuine: { mark: '✓', title: '正品 · Genuine', text: '此编码由品牌方发行，全链路记录已上链存证。' },
  suspect: { mark: '!', title: '疑似仿冒 · Suspect', text: '该编码的查询情况异常，请谨慎购买并联系品牌方。' },
  void: { mark: '!', title: '已作废 · Void', text: '该编码已被品牌方作废。' },
  unknown: { mark: '✗', title: '未知编码 · Unknown', text: '未找到该编码的发行记录，可能为仿冒品。' },
  lot: { mark: '☰', title: '批次溯源 · Lot trace', text: '该批次的全链路记录。' },
};

/**
 * The scan region when the scanning app knows it (?region=CN-53). Otherwise the indexer records its
 * default (country-level) region: a browser's language says nothing about where it is.
 */
function scanRegion() {
  const q = new URLSearchParams(location.search).get('region');
  return q && /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(q) ? q : undefined;
}

/** One id per code and browser session, so a reload is not counted as a second scan. */
function scanId(code) {
  const key = `scan:${code}`;
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    sessionStorage.setItem(key, id);
  }
  return id;
}

function verdictCard(kind, detail) {
  const v = VERDICTS[kind];
  return el('section', { class: `verdict ${kind}`, id: 'verdict', 'data-verdict': kind }, el('div', { class: 'mark' }, v.mark), el('div', {}, el('div', { class: 'title' }, v.title), el('div', {}, detail || v.text)));
}

function productCard(trace, code, scans) {
  const facts = [
    ['产品', trace.product.name],
    ['GTIN', trace.product.gtin],
    ['批次', trace.lot],
    ['工艺模板', trace.template],
    ['批次审核', trace.audit ? `${AUDIT_TEXT[trace.audit.verdict] || trace.audit.verdict} · ${fmtTime(trace.audit.at)}` : '进行中'],
  ];
  if (code) facts.push(['查询次数', String(scans)], ['编码状态', code.status]);
  return el('section', { class: 'card', id: 'product' }, el('h2', {}, '产品信息'), el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v || '—')])));
}

const AUDIT_TEXT = { approved: '已通过', rejected: '未通过' };

/** The stage's latest audit: a rejection is shown as plainly as an approval. */
function auditBadge(audit) {
  if (!audit) return null;
  const ok = audit.verdict === 'approved';
  return el('span', { class: `badge ${ok ? 'ok' : 'bad'}`, 'data-audit': audit.verdict }, ok ? '审核通过' : '审核未通过');
}

function timeline(trace) {
  const items = trace.stages.map((s) =>
    el(
      'li',
      { 'data-stage': s.stage },
      el('div', {}, el('span', { class: 'stage-name' }, s.name), auditBadge(s.audit), el('span', { class: 'badge wait chain-mark' }, '链上核验中…')),
      el('div', { class: 'muted' }, `${fmtTime(s.eventTime)} · ${s.by.name || s.by.mspId}${s.location ? ` · ${s.location.name}` : ''}`),
      el(
        'div',
        { class: 'data' },
        Object.entries(s.data).map(([k, v]) => el('div', {}, `${(s.labels[k] && s.labels[k].name) || k}：${typeof v === 'boolean' ? (v ? '是' : '否') : v}${s.labels[k] && s.labels[k].unit ? ` ${s.labels[k].unit}` : ''}`)),
      ),
      s.flags.length ? el('div', { class: 'error', 'data-flags': s.flags.map((f) => f.ruleId).join(' ') }, s.flags.map((f) => `⚠ ${f.message}`).join('；')) : null,
      el('div', { class: 'muted' }, `区块 #${s.block ?? '…'} · 交易 ${shortHash(s.txId)}`),
    ),
  );
  return el('section', { class: 'card' }, el('h2', {}, `全程溯源（${trace.stages.length} 个环节）`), el('ol', { class: 'timeline', id: 'timeline' }, items));
}

/** Has the indexer re-read the task's records from the chain and marks each stage with the result. */
async function markOnChain(trace) {
  const badges = new Map(trace.stages.map((s) => [s.stage, document.querySelector(`li[data-stage="${s.stage}"] .chain-mark`)]));
  let audit;
  try {
    audit = await api(`/api/audit/task/${encodeURIComponent(trace.taskId)}`);
  } catch {
    audit = { stages: [] };
  }
  const results = new Map(audit.stages.map((s) => [s.stage, s.matches]));
  for (const [stage, badge] of badges) {
    const matches = results.get(stage);
    badge.className = `badge chain-mark ${matches === true ? 'ok' : matches === false ? 'bad' : 'warn'}`;
    badge.textContent = matches === true ? '✓ 链上已核验' : matches === false ? '✗ 与链上不一致' : '暂无法核验';
    badge.dataset.verified = matches === undefined ? 'unavailable' : String(matches);
  }
}

function places(trace, code) {
  const points = trace.stages.filter((s) => s.location).map((s) => ({ name: `${s.name} · ${s.location.name}`, value: [s.location.lon, s.location.lat] }));
  for (const s of (code && code.sightings) || []) if (s.lat !== null && s.lon !== null) points.push({ name: `${s.device_id} · ${fmtTime(s.at)}`, value: [s.lon, s.lat] });
  return points;
}

async function whereItHasBeen(trace, code) {
  const points = places(trace, code);
  const regions = (code && code.byRegion) || [];
  const card = el(
    'section',
    { class: 'card' },
    el('h2', {}, '流转足迹'),
    points.length ? el('div', { class: 'map', id: 'map' }) : el('p', { class: 'muted' }, '暂无位置信息'),
    regions.length ? el('p', { class: 'muted', id: 'scan-regions' }, `扫码地区：${regions.map((r) => `${r.region || '未知'}（${r.scans} 次）`).join('、')}`) : null,
  );
  document.getElementById('app').append(card);
  if (!points.length) return;
  await loadWorldMap();
  const lon = points.map((p) => p.value[0]);
  const lat = points.map((p) => p.value[1]);
  const chart = echarts.init(document.getElementById('map'));
  chart.setOption({
    geo: { map: 'world', roam: true, center: [(Math.min(...lon) + Math.max(...lon)) / 2, (Math.min(...lat) + Math.max(...lat)) / 2], zoom: 12, itemStyle: { areaColor: '#eef2ee', borderColor: '#9aa' } },
    // a formatter's string is rendered as HTML: names come from members, so escape them
    tooltip: { trigger: 'item', formatter: (p) => echarts.format.encodeHTML(p.name) },
    series: [
      { type: 'lines', coordinateSystem: 'geo', polyline: true, data: [{ coords: points.map((p) => p.value) }], lineStyle: { color: '#1a7f37', width: 2 } },
      { type: 'scatter', coordinateSystem: 'geo', data: points, symbolSize: 10, itemStyle: { color: '#0b3d2e' } },
    ],
  });
}

function sensorsCard(trace) {
  const metrics = Object.entries(trace.sensors || {});
  if (!metrics.length && !trace.alarms.length) return null;
  return el(
    'section',
    { class: 'card', id: 'sensors' },
    el('h2', {}, '环境监测'),
    metrics.map(([m, s]) => el('div', {}, `${m}：${round(s.min)} ~ ${round(s.max)}（${s.count} 条读数，设备签名）`)),
    trace.alarms.length ? el('div', { class: 'error' }, `超限告警 ${trace.alarms.length} 次：${trace.alarms.map((a) => `${a.metric}=${a.value}`).join('、')}`) : el('div', { class: 'muted' }, '无超限告警'),
  );
}

async function showCode(app, code, gtin, lot) {
  const v = await api('/api/verify', { code, region: scanRegion(), channel: 'consumer', scanId: scanId(code) });
  if (v.verdict === 'unknown') return app.replaceChildren(verdictCard('unknown'));
  const trace = await api(`/api/trace/code/${v.codeHash}`);
  const mismatch = gtin && (trace.product.gtin.padStart(14, '0') !== gtin.padStart(14, '0') || trace.lot !== lot);
  const kind = mismatch ? 'suspect' : v.verdict;
  const detail = mismatch
    ? '标签上的商品或批次与该编码的链上记录不符。'
    : kind === 'suspect'
      ? `该编码已被查询 ${v.scans.total} 次，超过正常次数，可能被复制。`
      : kind === 'genuine'
        ? `${VERDICTS.genuine.text} 这是第 ${v.scans.total} 次查询。`
        : undefined;
  app.replaceChildren(verdictCard(kind, detail), productCard(trace, trace.code, v.scans.total), timeline(trace));
  if (trace.code.divertedSince) {
    app.insertBefore(el('section', { class: 'card error', id: 'diversion' }, `窜货预警：该商品于 ${fmtTime(trace.code.divertedSince)} 在授权销售区域之外被扫码。`), app.children[1]);
  }
  const sensors = sensorsCard(trace);
  if (sensors) app.append(sensors);
  await Promise.all([whereItHasBeen(trace, trace.code), markOnChain(trace)]);
}

async function showLot(app, gtin, lot) {
  const trace = await api(`/api/trace/lot/${gtin}/${encodeURIComponent(lot)}`);
  app.replaceChildren(verdictCard('lot'), productCard(trace), timeline(trace));
  const sensors = sensorsCard(trace);
  if (sensors) app.append(sensors);
  await Promise.all([whereItHasBeen(trace), markOnChain(trace)]);
}

/** What a shopper can do about a failure, by its kind; the API's own message only where it helps. */
function failureText(e) {
  if (!e.status) return '无法连接验证服务，请检查网络后重试。';
  if (e.status === 429) return '查询过于频繁，请稍后再试。';
  if (e.status === 400) return `该链接中的编码无效：${e.message}`;
  return `暂时无法验证，请稍后再试（${e.status}）。`;
}

(async () => {
  const app = document.getElementById('app');
  const { code, gtin, lot } = app.dataset;
  try {
    await (code ? showCode(app, code, gtin, lot) : showLot(app, gtin, lot));
    app.dataset.ready = 'true';
  } catch (e) {
    app.replaceChildren(e.status === 404 ? verdictCard('unknown', '未找到该批次或编码的记录。') : el('p', { class: 'error', id: 'error', 'data-status': e.status || 'network' }, failureText(e)));
    app.dataset.ready = 'error';
  }
})();
