import type { DefineFormDto, DefineItemDto, DefineStageDto, DefineTemplateDto } from '@trace/chaincode';
import type { Input } from '@trace/client';

/** Everything one industry template needs on chain, in definition order. */
export interface TemplatePackage {
  items: Input<DefineItemDto>[];
  forms: Input<DefineFormDto>[];
  stages: Input<DefineStageDto>[];
  template: Input<DefineTemplateDto>;
}
