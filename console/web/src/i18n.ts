import { createI18n } from 'vue-i18n';
import { designerMessages } from './i18n-designer';

/** Chinese first; English for partners abroad. Keys by page. */
const messages = {
  zh: {
    app: { title: '成员控制台', logout: '退出', lang: 'English', forbidden: '无权访问：您的角色不能打开此页面', home: '返回工作台' },
    nav: { workbench: '工作台', stageEntry: '环节录入', users: '用户管理', codes: '一物一码', devices: '设备' },
    roles: { admin: '管理员', data_entry: '数据录入', qa: '质检/审核', code_manager: '赋码管理', asset_manager: '资产管理' },
    login: { title: '登录', username: '用户名', password: '密码', submit: '登录', failed: '登录失败' },
    workbench: { tasks: '本组织的进行中任务', waiting: '等待本组织录入的环节', none: '暂无待办', task: '任务', product: '产品', lot: '批次', progress: '进度', stage: '环节', ready: '可录入', blocked: '等待前序环节', enter: '录入' },
    stage: {
      title: '环节录入', eventTime: '发生时间', location: '地点 (GLN)', submit: '提交上链', amend: '修改记录', reason: '修改原因',
      saved: '已上链', tx: '交易', version: '版本', rules: '交叉校验规则', reject: '拒绝', flag: '警告', encrypted: '加密数据项将在后续版本支持', required: '必填',
      pattern: '格式', current: '当前记录版本', choose: '请选择', warnings: '记录已上链，但有警告',
    },
    users: { title: '用户管理', create: '新建用户', username: '用户名', password: '初始密码（至少10位）', roles: '角色', status: '状态', active: '启用', disabled: '停用', disable: '停用', enable: '启用', created: '用户已创建', createdAt: '创建时间', auditLog: '操作记录（含被拒绝的操作；链上记录同时写明操作人）', at: '时间', action: '操作', subject: '对象', outcome: '结果' },
    // 生产任务 and 审核 (tasks, task detail, new task, audit queue and record)
    tasks: {
      title: '生产任务', create: '新建任务', taskId: '任务编号', product: '产品', lot: '批次', template: '流程模板', version: '版本', owner: '品牌方', createdAt: '创建时间',
      progress: '进度', audited: '已审核', open: '进行中', prev: '上一页', next: '下一页', none: '暂无任务', plannedQuantity: '计划数量', unit: '单位',
      assignments: '环节分配', stage: '环节', role: '所需角色', org: '负责组织', regions: '授权销售地区', regionsHint: '如 CN-53，回车添加；留空则用模板的地区',
      submit: '创建并上链', created: '任务已上链', stages: '环节', timeline: '时间线', assignedTo: '负责', currentVersion: '当前版本', pending: '未录入', requiresAudit: '需审核',
      kinds: { created: '创建任务', recorded: '录入', amended: '修改', audited: '审核', taskAudited: '流程审核' }, reason: '原因', comment: '意见', by: '操作', eventTime: '发生时间',
      verdicts: { approved: '通过', rejected: '驳回' },
    },
    audit: {
      title: '审核', stages: '待本组织审核的环节记录', tasks: '待流程审核的任务（全部环节已录入）', none: '暂无待审核', notAuditor: '本组织没有审核角色（inspector / auditor / regulator）',
      review: '审核', record: '记录', recordedBy: '录入组织', item: '数据项', value: '值', encrypted: '加密数据项（暂不支持解密，已跳过）', earlier: '早先版本', history: '审核记录',
      comment: '审核意见（驳回时必填）', approve: '通过', reject: '驳回', done: '审核已上链', auditTask: '流程审核', flags: '警告', reason: '修改原因', waiting: '待本组织审核的环节记录：{n} 条',
    },
    // 一物一码 and 设备 pages
    codes: {
      issue: '赋码', task: '生产任务', level: '层级', count: '数量', levels: { item: '单品', case: '箱', pallet: '托盘' }, jobs: '赋码记录', at: '时间', state: '状态', by: '操作人',
      states: { running: '赋码中', done: '已完成', failed: '失败', interrupted: '已中断' }, resume: '继续', csv: '下载 CSV', pdf: '下载标签 PDF',
      pack: '装箱', parent: '箱/托盘码', children: '内含码', childrenHint: '每行一个码（印刷码或哈希）', aggregate: '装箱', disaggregate: '拆箱', aggregated: '已装入 {n} 个码', disaggregated: '已拆出 {n} 个码',
      lookup: '查码', lookupHint: '印刷码或码哈希', scans: '扫码次数', alerts: '预警', noAlerts: '暂无预警', alertTypes: { clone: '疑似克隆（扫码过多）', diversion: '窜货' },
      open: '未处理', closed: '已解除', clear: '解除预警', reason: '解除原因', cleared: '预警已解除',
    },
    devices: {
      register: '登记设备', deviceId: '设备编号', type: '类型', publicKey: '公钥 (PEM, P-256)', thresholds: '阈值 (JSON)', status: '状态', keyVersion: '密钥版本', openAlarms: '未确认告警',
      active: '启用', disabled: '停用', disable: '停用', enable: '启用', rotate: '更换密钥', newKey: '新公钥 (PEM)', registered: '设备已登记', rotated: '密钥已更换',
      alarms: '告警', metric: '指标', value: '数值', at: '时间', acked: '已确认', ack: '确认', comment: '备注', readOnly: '仅管理员可登记、停用设备或更换密钥', none: '暂无',
    },
    designer: designerMessages.zh,
  },
  en: {
    app: { title: 'Member console', logout: 'Log out', lang: '中文', forbidden: 'Forbidden: your roles cannot open this page', home: 'Back to the workbench' },
    nav: { workbench: 'Workbench', stageEntry: 'Stage entry', users: 'Users', codes: 'Item codes', devices: 'Devices' },
    roles: { admin: 'Admin', data_entry: 'Data entry', qa: 'QA / auditor', code_manager: 'Code manager', asset_manager: 'Asset manager' },
    login: { title: 'Log in', username: 'Username', password: 'Password', submit: 'Log in', failed: 'Login failed' },
    workbench: { tasks: "My org's open tasks", waiting: 'Stages waiting for my org', none: 'Nothing waiting', task: 'Task', product: 'Product', lot: 'Lot', progress: 'Progress', stage: 'Stage', ready: 'ready', blocked: 'waiting for earlier stages', enter: 'Enter' },
    stage: {
      title: 'Stage entry', eventTime: 'Event time', location: 'Location (GLN)', submit: 'Submit to chain', amend: 'Amend record', reason: 'Reason for the amendment',
      saved: 'On chain', tx: 'Transaction', version: 'version', rules: 'Cross-validation rules', reject: 'reject', flag: 'warn', encrypted: 'Encrypted items come in a later version', required: 'required',
      pattern: 'pattern', current: 'Current record version', choose: 'Choose', warnings: 'Recorded on chain, with warnings',
    },
    users: { title: 'Users', create: 'New user', username: 'Username', password: 'Initial password (10+ characters)', roles: 'Roles', status: 'Status', active: 'active', disabled: 'disabled', disable: 'Disable', enable: 'Enable', created: 'User created', createdAt: 'Created', auditLog: 'Who tried what (refusals included; the chain names the user of each accepted record too)', at: 'Time', action: 'Action', subject: 'Subject', outcome: 'Outcome' },
    // 生产任务 and 审核 (tasks, task detail, new task, audit queue and record)
    tasks: {
      title: 'Production tasks', create: 'New task', taskId: 'Task ID', product: 'Product', lot: 'Lot', template: 'Template', version: 'Version', owner: 'Brand', createdAt: 'Created',
      progress: 'Progress', audited: 'audited', open: 'open', prev: 'Previous', next: 'Next', none: 'No tasks', plannedQuantity: 'Planned quantity', unit: 'Unit',
      assignments: 'Stage assignments', stage: 'Stage', role: 'Role needed', org: 'Org', regions: 'Authorised regions', regionsHint: "e.g. CN-53, Enter to add; empty: the template's regions",
      submit: 'Create on chain', created: 'Task created on chain', stages: 'Stages', timeline: 'Timeline', assignedTo: 'Assigned to', currentVersion: 'Current version', pending: 'not recorded', requiresAudit: 'audit required',
      kinds: { created: 'Task created', recorded: 'Recorded', amended: 'Amended', audited: 'Audited', taskAudited: 'Task audited' }, reason: 'Reason', comment: 'Comment', by: 'By', eventTime: 'Event time',
      verdicts: { approved: 'approved', rejected: 'rejected' },
    },
    audit: {
      title: 'Audit', stages: "Stage records waiting for my org's audit", tasks: 'Tasks waiting for a task audit (every stage recorded)', none: 'Nothing to audit', notAuditor: 'My org holds no auditing role (inspector / auditor / regulator)',
      review: 'Review', record: 'Record', recordedBy: 'Recorded by', item: 'Item', value: 'Value', encrypted: 'Encrypted item (decryption not supported yet: skipped)', earlier: 'Earlier versions', history: 'Audits',
      comment: 'Comment (required to reject)', approve: 'Approve', reject: 'Reject', done: 'Audit on chain', auditTask: 'Task audit', flags: 'Warnings', reason: 'Reason for the amendment', waiting: "Stage records waiting for my org's audit: {n}",
    },
    // 一物一码 and 设备 pages
    codes: {
      issue: 'Issue codes', task: 'Task', level: 'Level', count: 'Count', levels: { item: 'item', case: 'case', pallet: 'pallet' }, jobs: 'Issuing jobs', at: 'Time', state: 'State', by: 'By',
      states: { running: 'issuing', done: 'done', failed: 'failed', interrupted: 'interrupted' }, resume: 'Resume', csv: 'Download CSV', pdf: 'Download label PDF',
      pack: 'Packing', parent: 'Case / pallet code', children: 'Codes inside', childrenHint: 'One code a line (printed code or hash)', aggregate: 'Pack', disaggregate: 'Unpack', aggregated: 'Packed {n} codes', disaggregated: 'Unpacked {n} codes',
      lookup: 'Look up', lookupHint: 'Printed code or code hash', scans: 'scans', alerts: 'Alerts', noAlerts: 'No alerts', alertTypes: { clone: 'likely clone (too many scans)', diversion: 'diversion' },
      open: 'open', closed: 'cleared', clear: 'Clear alert', reason: 'Reason', cleared: 'Alert cleared',
    },
    devices: {
      register: 'Register a device', deviceId: 'Device id', type: 'Type', publicKey: 'Public key (PEM, P-256)', thresholds: 'Thresholds (JSON)', status: 'Status', keyVersion: 'Key version', openAlarms: 'Open alarms',
      active: 'active', disabled: 'disabled', disable: 'Disable', enable: 'Enable', rotate: 'Rotate key', newKey: 'New public key (PEM)', registered: 'Device registered', rotated: 'Key rotated',
      alarms: 'Alarms', metric: 'Metric', value: 'Value', at: 'Time', acked: 'Acknowledged', ack: 'Acknowledge', comment: 'Comment', readOnly: 'Only admins register, disable or re-key devices', none: 'None',
    },
    designer: designerMessages.en,
  },
};

export type Lang = keyof typeof messages;

export const i18n = createI18n({ legacy: false, locale: (localStorage.getItem('console.lang') as Lang | null) ?? 'zh', fallbackLocale: 'zh', messages });

export function setLang(lang: Lang): void {
  i18n.global.locale.value = lang;
  localStorage.setItem('console.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}
