/** 流程模板 designer strings (merged into i18n.ts under `designer`). */
export const designerMessages = {
  zh: {
    title: '流程模板', list: '流程模板', create: '新建模板', id: '模板编号', name: '名称', category: '品类', versions: '版本', status: '状态', active: '使用中', retired: '已停用',
    open: '查看', publishedAt: '发布时间', stages: '环节', items: '数据项', forms: '表单', rules: '交叉校验规则', none: '暂无模板',
    newVersion: '基于 v{v} 新建版本', retire: '停用模板', retireReason: '停用原因', retireHint: '停用后所有版本均不能再创建任务；已有任务继续', retiredDone: '模板已停用', retiredBy: '{by} 于 {at} 停用：{reason}',
    editor: '模板设计器', from: '基于 {id} v{v}', empty: '空白模板', basics: '基本信息', version: '版本', scanAlertThreshold: '扫码预警阈值', regions: '授权销售地区', assetQuantity: '资产数量数据项',
    publicView: '公开视图 (JSON：环节 → 数据项)', epcis: 'EPCIS 映射 (JSON，可选)', json: '不是有效的 JSON',
    addItem: '添加数据项', addForm: '添加表单', addStage: '添加环节', addRule: '添加规则', remove: '删除',
    type: '类型', unit: '单位', min: '下限', max: '上限', pattern: '格式（正则）', values: '枚举值', required: '必填', privacy: '隐私', privacyForms: { plain: '明文', hash: '哈希', cipher: '密文' },
    formItems: '包含的数据项', role: '角色', stageForms: '表单', after: '前序环节', bizStep: '业务步骤 (CBV)', requiresAudit: '需审核',
    kind: '规则类型', severity: '处理', severities: { reject: '拒绝', flag: '警告' }, left: '左操作数', right: '右操作数', when: '条件数据项', equals: '等于', message: '提示信息',
    review: '检查并发布', summary: '发布摘要', publish: '确认发布', published: '已发布 {id} v{v}', added: '新增', changed: '修改', removedLabel: '移除', renamed: '定义已变更，以新编号发布', noChange: '无变化',
    immutable: '已上链的数据项不可修改：修改后请使用新编号',
  },
  en: {
    title: 'Process templates', list: 'Process templates', create: 'New template', id: 'Template id', name: 'Name', category: 'Category', versions: 'Versions', status: 'Status', active: 'in use', retired: 'retired',
    open: 'View', publishedAt: 'Published', stages: 'Stages', items: 'Data items', forms: 'Forms', rules: 'Cross-validation rules', none: 'No templates',
    newVersion: 'New version from v{v}', retire: 'Retire template', retireReason: 'Reason', retireHint: 'No new task may use any version once retired; open tasks go on', retiredDone: 'Template retired', retiredBy: 'Retired by {by} at {at}: {reason}',
    editor: 'Template designer', from: 'From {id} v{v}', empty: 'Empty template', basics: 'Basics', version: 'Version', scanAlertThreshold: 'Scan alert threshold', regions: 'Authorised regions', assetQuantity: 'Asset quantity item',
    publicView: 'Public view (JSON: stage → item ids)', epcis: 'EPCIS mapping (JSON, optional)', json: 'not valid JSON',
    addItem: 'Add item', addForm: 'Add form', addStage: 'Add stage', addRule: 'Add rule', remove: 'Remove',
    type: 'Type', unit: 'Unit', min: 'Min', max: 'Max', pattern: 'Pattern (regex)', values: 'Enum values', required: 'Required', privacy: 'Privacy', privacyForms: { plain: 'plain', hash: 'hashed', cipher: 'encrypted' },
    formItems: 'Items', role: 'Role', stageForms: 'Forms', after: 'After', bizStep: 'Business step (CBV)', requiresAudit: 'Audit',
    kind: 'Kind', severity: 'On failure', severities: { reject: 'reject', flag: 'warn' }, left: 'Left operand', right: 'Right operand', when: 'When item', equals: 'equals', message: 'Message',
    review: 'Review and publish', summary: 'What publishing changes', publish: 'Publish', published: 'Published {id} v{v}', added: 'added', changed: 'changed', removedLabel: 'removed', renamed: 'definition changed: published under a new id', noChange: 'no change',
    immutable: 'Items on chain are immutable: give a changed item a new id',
  },
};
