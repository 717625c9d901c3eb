import type {
  AcceptOfferDto,
  AssetClass,
  ClassRecord,
  CancelOfferDto,
  ConfirmClassDto,
  ConfirmRedemptionDto,
  CreateCurrencyDto,
  CreateOfferDto,
  IssueDto,
  Lock,
  LockDto,
  UnlockDto,
  Offer,
  ProposeClassDto,
  RedeemDto,
  Redemption,
  SetValuationDto,
  TransferDto,
  AckAlarmDto,
  Alarm,
  Device,
  ReadingBatch,
  RegisterDeviceDto,
  RotateDeviceKeyDto,
  SetDeviceStatusDto,
  SubmitReadingsDto,
  MetricStats,
  AddMemberDto,
  AggregateDto,
  ClearAlertDto,
  CodeAlert,
  CodeRecord,
  DisaggregateDto,
  IssueCodesDto,
  RecordScansDto,
  ScanOutcome,
  SetCodeStatusDto,
  AmendStageDto,
  AuditStageDto,
  AuditTaskDto,
  BootstrapDto,
  Consortium,
  CreateTaskDto,
  DataItem,
  DefineFormDto,
  DefineItemDto,
  DefineLocationDto,
  DefineProductDto,
  DefineStageDto,
  DefineTemplateDto,
  Form,
  Location,
  Member,
  Product,
  RecordStageDto,
  SetLocationStatusDto,
  SetMemberStatusDto,
  RetireTemplateDto,
  SetProductDelegatesDto,
  SetProductStatusDto,
  StageAudit,
  StageDefinition,
  StageRecord,
  Task,
  TaskAudit,
  Template,
  TemplateRetirement,
  UpdateMemberDto,
  LotCertification,
  Page,
} from '@trace/chaincode';
import type { HolderScope } from '@trace/chaincode/dist/src/rules/assets';
import { Ledger } from './ledger';

/** The plain JSON shape of a chaincode DTO class. */
export type Input<T> = { [K in keyof T]: T[K] };

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/** Which page of a list: at most pageSize rows (1–1000, default 100) after the previous page's bookmark. */
export interface PageRequest {
  pageSize?: number;
  bookmark?: string;
}

/** Every row of a paged list, page after page (for lists known to be small, or exports). */
export async function allPages<T>(list: (page: PageRequest) => Promise<Page<T>>, pageSize = 1000): Promise<T[]> {
  const out: T[] = [];
  let page: Page<T> = { items: [], more: true, bookmark: '' };
  while (page.more) {
    page = await list({ pageSize, ...(page.bookmark ? { bookmark: page.bookmark } : {}) });
    out.push(...page.items);
  }
  return out;
}

/** Submits a transaction whose one argument is dto as JSON and parses its JSON result. */
async function submit<T>(ledger: Ledger, tx: string, dto: object): Promise<T> {
  return JSON.parse(text((await ledger.submit(tx, JSON.stringify(dto))).result)) as T;
}

async function evaluate<T>(ledger: Ledger, tx: string, dto?: object): Promise<T> {
  const out = dto === undefined ? await ledger.evaluate(tx) : await ledger.evaluate(tx, JSON.stringify(dto));
  return JSON.parse(text(out)) as T;
}

export interface TaskStatus {
  task: Task;
  stages: { stage: string; name: string; assignedTo: string; status: 'pending' | 'recorded'; version?: number; eventTime?: string; audit?: 'approved' | 'rejected'; flagged: boolean }[];
  complete: boolean;
  audit?: TaskAudit;
}

export type Verification =
  | { genuine: false; verdict: 'unknown'; codeHash: string }
  | {
      genuine: true;
      verdict: 'genuine' | 'suspect' | 'void';
      code: CodeRecord;
      product: { gtin: string; name: string };
      lot: string;
      taskId: string;
      stages: { stage: string; name: string; bizStep: string; eventTime: string; location?: string; recordedBy: string }[];
      /** all scans, including those before the owner last cleared a clone alert */
      scanCount: number;
      /** per scanning org, since the last clearing of a clone alert */
      scansByOrg: Record<string, number>;
      scanAlertThreshold: number;
    };

export interface TraceView {
  task: Task;
  template: { id: string; version: number; name: string; publicView: Record<string, string[]>; scanAlertThreshold: number };
  stages: { stage: string; name: string; bizStep: string; assignedTo: string; record?: StageRecord; history: StageRecord[]; audit?: StageAudit; audits: StageAudit[] }[];
  audit?: TaskAudit;
}

/** Typed wrappers for every transaction of the consortium, catalog, process and trace contracts. */
export class TraceChainClient {
  constructor(readonly ledger: Ledger) {}

  /** What a holder signs a request for (Wallet.sign): this ledger's channel and chaincode, and the transaction. */
  holderScope(transaction: string): HolderScope {
    return { channel: this.ledger.channelName, chaincode: this.ledger.chaincodeName, transaction };
  }

  readonly consortium = {
    bootstrap: (dto: Input<BootstrapDto>) => submit<Member>(this.ledger, 'consortium:bootstrap', dto),
    addMember: (dto: Input<AddMemberDto>) => submit<Member>(this.ledger, 'consortium:addMember', dto),
    updateMember: (dto: Input<UpdateMemberDto>) => submit<Member>(this.ledger, 'consortium:updateMember', dto),
    setMemberStatus: (dto: Input<SetMemberStatusDto>) => submit<Member>(this.ledger, 'consortium:setMemberStatus', dto),
    getMember: (mspId: string) => evaluate<Member>(this.ledger, 'consortium:getMember', { mspId }),
    listMembers: (page: PageRequest = {}) => evaluate<Page<Member>>(this.ledger, 'consortium:listMembers', page),
    getConsortium: () => evaluate<Consortium>(this.ledger, 'consortium:getConsortium'),
  };

  readonly catalog = {
    defineProduct: (dto: Input<DefineProductDto>) => submit<Product>(this.ledger, 'catalog:defineProduct', dto),
    setProductStatus: (dto: Input<SetProductStatusDto>) => submit<Product>(this.ledger, 'catalog:setProductStatus', dto),
    setProductDelegates: (dto: Input<SetProductDelegatesDto>) => submit<Product>(this.ledger, 'catalog:setProductDelegates', dto),
    defineLocation: (dto: Input<DefineLocationDto>) => submit<Location>(this.ledger, 'catalog:defineLocation', dto),
    setLocationStatus: (dto: Input<SetLocationStatusDto>) => submit<Location>(this.ledger, 'catalog:setLocationStatus', dto),
    getProduct: (gtin: string) => evaluate<Product>(this.ledger, 'catalog:getProduct', { gtin }),
    getLocation: (id: string) => evaluate<Location>(this.ledger, 'catalog:getLocation', { id }),
    listProducts: (page: PageRequest = {}) => evaluate<Page<Product>>(this.ledger, 'catalog:listProducts', page),
    listLocations: (page: PageRequest = {}) => evaluate<Page<Location>>(this.ledger, 'catalog:listLocations', page),
  };

  readonly process = {
    defineItem: (dto: Input<DefineItemDto>) => submit<DataItem>(this.ledger, 'process:defineItem', dto),
    defineForm: (dto: Input<DefineFormDto>) => submit<Form>(this.ledger, 'process:defineForm', dto),
    defineStage: (dto: Input<DefineStageDto>) => submit<StageDefinition>(this.ledger, 'process:defineStage', dto),
    defineTemplate: (dto: Input<DefineTemplateDto>) => submit<Template>(this.ledger, 'process:defineTemplate', dto),
    retireTemplate: (dto: Input<RetireTemplateDto>) => submit<TemplateRetirement>(this.ledger, 'process:retireTemplate', dto),
    getTemplate: (id: string, version: number) => evaluate<Template>(this.ledger, 'process:getTemplate', { id, version }),
    listTemplates: (page: PageRequest = {}) => evaluate<Page<{ id: string; version: number; name: string; category: string; stages: string[]; publishedAt: string }>>(this.ledger, 'process:listTemplates', page),
    getItem: (id: string) => evaluate<DataItem>(this.ledger, 'process:getItem', { id }),
    getForm: (id: string) => evaluate<Form>(this.ledger, 'process:getForm', { id }),
    getStage: (id: string) => evaluate<StageDefinition>(this.ledger, 'process:getStage', { id }),
    /** `{}` while the template is in use */
    getRetirement: (id: string) => evaluate<TemplateRetirement | Record<string, never>>(this.ledger, 'process:getRetirement', { id }),
  };

  readonly trace = {
    createTask: (dto: Input<CreateTaskDto>) => submit<Task>(this.ledger, 'trace:createTask', dto),
    recordStage: (dto: Input<RecordStageDto>) => submit<StageRecord>(this.ledger, 'trace:recordStage', dto),
    amendStage: (dto: Input<AmendStageDto>) => submit<StageRecord>(this.ledger, 'trace:amendStage', dto),
    auditStage: (dto: Input<AuditStageDto>) => submit<StageAudit>(this.ledger, 'trace:auditStage', dto),
    auditTask: (dto: Input<AuditTaskDto>) => submit<TaskAudit>(this.ledger, 'trace:auditTask', dto),
    getTask: (taskId: string) => evaluate<TaskStatus>(this.ledger, 'trace:getTask', { taskId }),
    getTrace: (taskId: string) => evaluate<TraceView>(this.ledger, 'trace:getTrace', { taskId }),
  };

  readonly codes = {
    issueCodes: (dto: Input<IssueCodesDto>) => submit<{ taskId: string; level: string; issued: number }>(this.ledger, 'codes:issueCodes', dto),
    setCodeStatus: (dto: Input<SetCodeStatusDto>) => submit<{ status: string; updated: number }>(this.ledger, 'codes:setCodeStatus', dto),
    aggregate: (dto: Input<AggregateDto>) => submit<{ parent: string; children: number }>(this.ledger, 'codes:aggregate', dto),
    disaggregate: (dto: Input<DisaggregateDto>) => submit<{ parent: string; children: number }>(this.ledger, 'codes:disaggregate', dto),
    /**
     * outcomes[i] is scans[i]'s: recorded, unknown (an alert) or refused (with its error code); a
     * batchId this org used before answers alreadyRecorded (with that transaction) and counts nothing
     */
    recordScans: (dto: Input<RecordScansDto>) => submit<{ recorded: number; alerts: CodeAlert[]; outcomes: ScanOutcome[]; alreadyRecorded?: { txId: string } }>(this.ledger, 'codes:recordScans', dto),
    clearAlert: (dto: Input<ClearAlertDto>) => submit<CodeRecord>(this.ledger, 'codes:clearAlert', dto),
    verifyCode: (codeHash: string) => evaluate<Verification>(this.ledger, 'codes:verifyCode', { codeHash }),
    listChildren: (codeHash: string, page: PageRequest = {}) => evaluate<Page<string>>(this.ledger, 'codes:listChildren', { codeHash, ...page }),
  };

  readonly devices = {
    registerDevice: (dto: Input<RegisterDeviceDto>) => submit<Device>(this.ledger, 'devices:registerDevice', dto),
    setDeviceStatus: (dto: Input<SetDeviceStatusDto>) => submit<Device>(this.ledger, 'devices:setDeviceStatus', dto),
    rotateDeviceKey: (dto: Input<RotateDeviceKeyDto>) => submit<Device>(this.ledger, 'devices:rotateDeviceKey', dto),
    submitReadings: (dto: Input<SubmitReadingsDto>) => submit<{ seq: number; digest: string; stats: Record<string, MetricStats>; alarms: string[] }>(this.ledger, 'devices:submitReadings', dto),
    ackAlarm: (dto: Input<AckAlarmDto>) => submit<Alarm>(this.ledger, 'devices:ackAlarm', dto),
    getDevice: (deviceId: string) => evaluate<Device>(this.ledger, 'devices:getDevice', { deviceId }),
    listAlarms: (deviceId: string, page: PageRequest = {}) => evaluate<Page<Alarm>>(this.ledger, 'devices:listAlarms', { deviceId, ...page }),
    listReadings: (deviceId: string, page: PageRequest = {}) => evaluate<Page<ReadingBatch>>(this.ledger, 'devices:listReadings', { deviceId, ...page }),
  };

  /** Holder-signed requests (transfer, pledge, offers, redeem) are built with Wallet.sign. */
  readonly assets = {
    proposeClass: (dto: Input<ProposeClassDto>) => submit<AssetClass>(this.ledger, 'assets:proposeClass', dto),
    confirmClass: (dto: Input<ConfirmClassDto>) => submit<AssetClass>(this.ledger, 'assets:confirmClass', dto),
    createCurrency: (dto: Input<CreateCurrencyDto>) => submit<AssetClass>(this.ledger, 'assets:createCurrency', dto),
    issue: (dto: Input<IssueDto>) => submit<{ classId: string; to: string; quantity: number; issued: number }>(this.ledger, 'assets:issue', dto),
    transfer: (dto: Input<TransferDto>) => submit<{ classId: string; from: string; to: string; quantity: number }>(this.ledger, 'assets:transfer', dto),
    /** kind pledge: signed by the holder (Wallet.sign) with a lender; kind freeze: by a regulator org */
    lock: (dto: Input<LockDto>) => submit<Lock>(this.ledger, 'assets:lock', dto),
    /** a pledge: signed by its lender; a freeze: by a regulator org */
    unlock: (dto: Input<UnlockDto>) => submit<Lock & { released: true }>(this.ledger, 'assets:unlock', dto),
    createOffer: (dto: Input<CreateOfferDto>) => submit<Offer>(this.ledger, 'assets:createOffer', dto),
    acceptOffer: (dto: Input<AcceptOfferDto>) => submit<{ offerId: string; buyer: string; quantity: number; cost: number; left: number }>(this.ledger, 'assets:acceptOffer', dto),
    cancelOffer: (dto: Input<CancelOfferDto>) => submit<Offer>(this.ledger, 'assets:cancelOffer', dto),
    redeem: (dto: Input<RedeemDto>) => submit<Redemption>(this.ledger, 'assets:redeem', dto),
    confirmRedemption: (dto: Input<ConfirmRedemptionDto>) => submit<Redemption>(this.ledger, 'assets:confirmRedemption', dto),
    setValuation: (dto: Input<SetValuationDto>) => submit<{ pricePerUnit: number; currency: string; date: string; by: string }>(this.ledger, 'assets:setValuation', dto),
    getClass: (classId: string) => evaluate<AssetClass & { ageDays?: number }>(this.ledger, 'assets:getClass', { classId }),
    getBalance: (classId: string, account: string) => evaluate<{ classId: string; account: string; amount: number; value?: { amount: number; currency: string; date: string } }>(this.ledger, 'assets:getBalance', { classId, account }),
    getHoldings: (account: string, page: PageRequest = {}) => evaluate<Page<{ classId: string; symbol: string; kind: string; amount: number; value?: { amount: number; currency: string; date: string }; ageDays?: number }>>(this.ledger, 'assets:getHoldings', { account, ...page }),
    listOffers: (classId: string, status?: 'open' | 'filled' | 'cancelled', page: PageRequest = {}) => evaluate<Page<Offer>>(this.ledger, 'assets:listOffers', { classId, status, ...page }),
    listLocks: (classId: string, page: PageRequest = {}) => evaluate<Page<Lock>>(this.ledger, 'assets:listLocks', { classId, ...page }),
    getLotCertification: (taskId: string) => evaluate<LotCertification>(this.ledger, 'assets:getLotCertification', { taskId }),
    getClassHistory: (classId: string) => evaluate<{ txId: string; isDelete: boolean; value?: ClassRecord }[]>(this.ledger, 'assets:getClassHistory', { classId }),
  };
}
