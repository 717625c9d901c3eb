export { TemplatePackage } from './template-package';
export { loadTemplatePackage, LoadReport, LoadStep, LoadStepError, Outcome, Progress } from './loader';
export { tea } from './templates/tea';
export { liquor } from './templates/liquor';
import { tea } from './templates/tea';
import { liquor } from './templates/liquor';

export const templates = { tea, liquor } as const;
