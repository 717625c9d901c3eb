import { getMetadataStorage } from 'class-validator';

/**
 * class-validator looks up a DTO class's validation metadata on every validation: it filters the
 * class's decorators and walks every registered class for inherited ones (instanceof against ~100
 * DTO classes), and groups them by property, per object and per nested object. The decorators run
 * once, when the model modules load, so the answer per class only changes when metadata is added:
 * it is remembered per class and forgotten on any addition. What is validated is unchanged.
 */
type Metadata = { propertyName: string };
interface Storage {
  getTargetValidationMetadatas(target: object, schema: string, always: boolean, strictGroups: boolean, groups?: string[]): Metadata[];
  groupByPropertyName(metadata: Metadata[]): Record<string, Metadata[]>;
  addValidationMetadata(metadata: unknown): void;
  addConstraintMetadata(metadata: unknown): void;
}

const PATCHED = Symbol.for('trace.rememberValidationMetadata');

export function rememberValidationMetadata(storage = getMetadataStorage() as unknown as Storage & { [PATCHED]?: boolean }): void {
  const { getTargetValidationMetadatas: lookUp, groupByPropertyName: group, addValidationMetadata: addValidation, addConstraintMetadata: addConstraint } = storage;
  // A class-validator of another shape keeps its own behaviour.
  if (storage[PATCHED] || [lookUp, group, addValidation, addConstraint].some((f) => typeof f !== 'function')) return;
  let byClass = new WeakMap<object, Metadata[]>();
  let grouped = new WeakMap<Metadata[], Record<string, Metadata[]>>();
  storage.getTargetValidationMetadatas = function (target, schema, always, strictGroups, groups) {
    // Only the plain form parseDto uses (no schema, groups or always) is remembered.
    if (schema || always || strictGroups || (groups && groups.length > 0)) return lookUp.call(this, target, schema, always, strictGroups, groups);
    let found = byClass.get(target);
    if (!found) {
      found = Object.freeze(lookUp.call(this, target, schema, always, strictGroups, groups)) as Metadata[];
      byClass.set(target, found);
    }
    return found;
  };
  storage.groupByPropertyName = function (metadata) {
    let byProperty = grouped.get(metadata);
    if (!byProperty) {
      byProperty = group.call(this, metadata);
      // Only the remembered (frozen) lists are worth remembering: others are built per call.
      if (Object.isFrozen(metadata)) grouped.set(metadata, byProperty);
    }
    return byProperty;
  };
  const forget = () => {
    byClass = new WeakMap();
    grouped = new WeakMap();
  };
  storage.addValidationMetadata = function (metadata) {
    forget();
    addValidation.call(this, metadata);
  };
  storage.addConstraintMetadata = function (metadata) {
    forget();
    addConstraint.call(this, metadata);
  };
  storage[PATCHED] = true;
}
