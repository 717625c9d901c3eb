import { createI18n } from 'vue-i18n';
import type { LocationType, Role as ChainRole } from '@trace/chaincode';
import { assetMessages } from './i18n-assets';
import { designerMessages } from './i18n-designer';

/** Chinese first; English for partners abroad. Keys by page. */
const messages = {
  zh: {
    app: { title: '成员控制台', logout: '退出', lang: 'English', forbidden: '无权访问：您的角色不能打开此页面', home: '返回工作台' },
    nav: { workbench: '工作台', stageEntry: '环节录入', users: '用户管理', codes: '一物一码', devices: '设备', catalog: '产品与地点', members: '成员与角色' },
    roles: { admin: '管理员', data_entry: '数据录入', qa: '质检/审核', code_manager: '赋码管理', asset_manager: '资产管理' },
    login: { title: '登录', username: '用户名', password: '密码', submit: '登录', failed: '登录失败' },
    workbench: {
      alerts: '未处理的编码告警与设备告警', alarm: '设备告警', tasks: '本组织的进行中任务', waiting: '等待本组织录入的环节', none: '暂无待办', task: '任务', product: '产品', lot: '批次', progress: '进度', stage: '环节', ready: '可录入', blocked: '等待前序环节', enter: '录入' },
    stage: {
      hashFile: '或选择文件（在本浏览器计算 SHA-256，文件不上传）：', readings: '本组织设备的本任务读数', device: '设备', submittedAt: '提交时间', values: '最小 – 最大（读数个数）', noReadings: '本任务暂无本组织设备的读数',
      title: '环节录入', eventTime: '发生时间', location: '地点 (GLN)', submit: '提交上链', amend: '修改记录', reason: '修改原因',
      saved: '已上链', tx: '交易', version: '版本', rules: '交叉校验规则', reject: '拒绝', flag: '警告', encrypted: '密文：提交前在本组织控制台用所选接收组织的公钥加密，链上只存密文', recipients: '密文接收组织', recipientsHint: '本组织总在其中', required: '必填',
      pattern: '格式', current: '当前记录版本', choose: '请选择', warnings: '记录已上链，但有警告',
      notMember: '本组织当前不是联盟的有效成员（未加入，或已被运营方暂停），链上拒绝了这次提交，未记录任何数据；请联系联盟运营方。',
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
      review: '审核', record: '记录', recordedBy: '录入组织', item: '数据项', value: '值', encryptedFor: '加密数据，仅 {orgs} 可读', decrypted: '密文 · 已为本组织解密', earlier: '早先版本', history: '审核记录',
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
    network: {
      title: '区块链管理', channel: '通道', refresh: '刷新', org: '本组织', height: '区块高度', chaincode: '链码', version: '版本', sequence: '定义序号', policy: '背书策略', cloud: 'TBaaS 网络',
      orderers: '排序节点', orgs: '成员组织', name: '名称', peers: '节点', rootCa: '根 CA', blocks: '最近区块', number: '区块号', txCount: '交易数', time: '时间', hash: '哈希',
      deployments: '本组织的部署记录', target: '目标', package: '安装包 SHA-256', noPackage: '（开发网直接运行 chaincode/）', noDeployments: '暂无部署记录', noRecord: '未配置部署记录文件（--deployments）',
      unreadable: '{n} 行无法读取', silent: '此网络的接口不提供：{parts}',
    },
    devices: {
      register: '登记设备', deviceId: '设备编号', type: '类型', publicKey: '公钥 (PEM, P-256)', thresholds: '阈值 (JSON)', status: '状态', keyVersion: '密钥版本', openAlarms: '未确认告警',
      active: '启用', disabled: '停用', disable: '停用', enable: '启用', rotate: '更换密钥', newKey: '新公钥 (PEM)', registered: '设备已登记', rotated: '密钥已更换',
      alarms: '告警', metric: '指标', value: '数值', at: '时间', acked: '已确认', ack: '确认', comment: '备注', readOnly: '仅管理员可登记、停用设备或更换密钥', none: '暂无',
    },
    // 产品与地点 and 成员与角色 pages
    catalog: {
      products: '产品', locations: '地点', gtin: 'GTIN（商品条码）', name: '名称', category: '品类', brand: '品牌', spec: '规格（每行 名称=值）', status: '状态', owner: '所属组织',
      active: '启用', retired: '已停用', retire: '停用', reactivate: '重新启用', defineProduct: '新建产品', defineLocation: '新建地点', gln: 'GLN（位置码）', type: '类型', lat: '纬度', lon: '经度',
      region: '地区（如 CN-53）', types: { farm: '农场/茶园', factory: '工厂', warehouse: '仓库', cellar: '酒窖', store: '门店', port: '口岸' } satisfies Record<LocationType, string>, defined: '已上链', none: '暂无', prev: '上一页', next: '下一页',
      source: '列表来自索引服务，写入经本组织的链上身份；校验位、重复等由链码判定',
    },
    members: {
      title: '成员与角色', mspId: 'MSP ID', name: '名称', roles: '链上角色', status: '状态', joinedAt: '加入时间', active: '正常', suspended: '已暂停', suspend: '暂停', reactivate: '恢复',
      editRoles: '修改角色', save: '保存上链', add: '新增成员', added: '成员已上链', updated: '已上链', operator: '本组织是联盟运营方：可新增成员、修改角色、暂停或恢复成员',
      readOnly: '只有联盟运营方可以修改成员（由链码判定）；本组织可查看成员列表', confirmSuspend: '暂停 {msp} 后，该组织的所有上链写入都会被拒绝，确定？', prev: '上一页', next: '下一页',
    },
    chainRoles: {
      operator: '运营方', brand: '品牌方', producer: '生产者', processor: '加工方', logistics: '物流', warehouse: '仓储', retailer: '零售', scanner: '扫码服务',
      inspector: '检测机构', regulator: '监管', auditor: '审核方', issuer: '发行方', exchange: '交易所', appraiser: '评估方',
    } satisfies Record<ChainRole, string>,
    assets: assetMessages.zh,
    designer: designerMessages.zh,
  },
  en: {
    app: { title: 'Member console', logout: 'Log out', lang: '中文', forbidden: 'Forbidden: your roles cannot open this page', home: 'Back to the workbench' },
    nav: { workbench: 'Workbench', stageEntry: 'Stage entry', users: 'Users', codes: 'Item codes', devices: 'Devices', catalog: 'Products & locations', members: 'Members & roles' },
    roles: { admin: 'Admin', data_entry: 'Data entry', qa: 'QA / auditor', code_manager: 'Code manager', asset_manager: 'Asset manager' },
    login: { title: 'Log in', username: 'Username', password: 'Password', submit: 'Log in', failed: 'Login failed' },
    workbench: {
      alerts: 'Open alerts on my codes, unacknowledged alarms of my devices', alarm: 'alarm', tasks: "My org's open tasks", waiting: 'Stages waiting for my org', none: 'Nothing waiting', task: 'Task', product: 'Product', lot: 'Lot', progress: 'Progress', stage: 'Stage', ready: 'ready', blocked: 'waiting for earlier stages', enter: 'Enter' },
    stage: {
      hashFile: 'or pick a file (its SHA-256 is computed in this browser):', readings: "My org's devices' readings for this task", device: 'Device', submittedAt: 'Submitted', values: 'min – max (readings)', noReadings: 'No readings of my org\'s devices for this task',
      title: 'Stage entry', eventTime: 'Event time', location: 'Location (GLN)', submit: 'Submit to chain', amend: 'Amend record', reason: 'Reason for the amendment',
      saved: 'On chain', tx: 'Transaction', version: 'version', rules: 'Cross-validation rules', reject: 'reject', flag: 'warn', encrypted: 'Encrypted: this console encrypts it with the chosen orgs’ public keys before it goes on chain; the chain holds only ciphertext', recipients: 'Readable by', recipientsHint: 'this org always is', required: 'required',
      pattern: 'pattern', current: 'Current record version', choose: 'Choose', warnings: 'Recorded on chain, with warnings',
      notMember: 'My org is not an active consortium member now (not admitted, or suspended by the operator): the chain refused this submit and recorded nothing; contact the consortium operator.',
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
      review: 'Review', record: 'Record', recordedBy: 'Recorded by', item: 'Item', value: 'Value', encryptedFor: 'Encrypted for {orgs} only', decrypted: 'encrypted · decrypted for this org', earlier: 'Earlier versions', history: 'Audits',
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
    network: {
      title: 'Blockchain', channel: 'Channel', refresh: 'Refresh', org: 'This org', height: 'Block height', chaincode: 'Chaincode', version: 'Version', sequence: 'Sequence', policy: 'Endorsement policy', cloud: 'TBaaS network',
      orderers: 'Orderers', orgs: 'Member orgs', name: 'Name', peers: 'Peers', rootCa: 'Root CA', blocks: 'Recent blocks', number: 'Block', txCount: 'Transactions', time: 'Time', hash: 'Hash',
      deployments: "This org's deployments", target: 'Target', package: 'Package SHA-256', noPackage: '(the devnet runs chaincode/ itself)', noDeployments: 'No deployments recorded', noRecord: 'No deployment record configured (--deployments)',
      unreadable: '{n} unreadable lines', silent: "This network's API does not tell: {parts}",
    },
    devices: {
      register: 'Register a device', deviceId: 'Device id', type: 'Type', publicKey: 'Public key (PEM, P-256)', thresholds: 'Thresholds (JSON)', status: 'Status', keyVersion: 'Key version', openAlarms: 'Open alarms',
      active: 'active', disabled: 'disabled', disable: 'Disable', enable: 'Enable', rotate: 'Rotate key', newKey: 'New public key (PEM)', registered: 'Device registered', rotated: 'Key rotated',
      alarms: 'Alarms', metric: 'Metric', value: 'Value', at: 'Time', acked: 'Acknowledged', ack: 'Acknowledge', comment: 'Comment', readOnly: 'Only admins register, disable or re-key devices', none: 'None',
    },
    // 产品与地点 and 成员与角色 pages
    catalog: {
      products: 'Products', locations: 'Locations', gtin: 'GTIN', name: 'Name', category: 'Category', brand: 'Brand', spec: 'Specification (name=value a line)', status: 'Status', owner: 'Owner',
      active: 'active', retired: 'retired', retire: 'Retire', reactivate: 'Reactivate', defineProduct: 'New product', defineLocation: 'New location', gln: 'GLN', type: 'Type', lat: 'Latitude', lon: 'Longitude',
      region: 'Region (e.g. CN-53)', types: { farm: 'farm / garden', factory: 'factory', warehouse: 'warehouse', cellar: 'cellar', store: 'store', port: 'port' } satisfies Record<LocationType, string>, defined: 'On chain', none: 'None', prev: 'Previous', next: 'Next',
      source: "Lists come from the indexer; writes go through the org's chain identity, and the chaincode judges check digits and duplicates",
    },
    members: {
      title: 'Members and roles', mspId: 'MSP ID', name: 'Name', roles: 'Chain roles', status: 'Status', joinedAt: 'Joined', active: 'active', suspended: 'suspended', suspend: 'Suspend', reactivate: 'Reactivate',
      editRoles: 'Change roles', save: 'Save on chain', add: 'Add a member', added: 'Member on chain', updated: 'On chain', operator: 'My org is the consortium operator: it adds members, changes roles, suspends and reactivates',
      readOnly: 'Only the consortium operator changes members (the chaincode decides); my org sees the list', confirmSuspend: 'Once {msp} is suspended, every chain write of that org is refused. Go ahead?', prev: 'Previous', next: 'Next',
    },
    chainRoles: {
      operator: 'operator', brand: 'brand', producer: 'producer', processor: 'processor', logistics: 'logistics', warehouse: 'warehouse', retailer: 'retailer', scanner: 'scan service',
      inspector: 'inspector', regulator: 'regulator', auditor: 'auditor', issuer: 'issuer', exchange: 'exchange', appraiser: 'appraiser',
    } satisfies Record<ChainRole, string>,
    assets: assetMessages.en,
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
