import { expect } from 'chai';
import { checkEpcisMapping, MappedStage } from '../../src/rules/epcis-mapping';

const kg = (id: string, privacy: 'plain' | 'hash' = 'plain') => ({ id, name: id, type: 'number' as const, unit: 'kg', privacy });
const stages: MappedStage[] = [
  { stage: 'picking', after: [], items: [kg('fresh_kg'), { id: 'grade', name: 'grade', type: 'string', privacy: 'plain' }] },
  { stage: 'withering', after: ['picking'], items: [kg('withered_kg')] },
  { stage: 'drying', after: ['withering'], items: [kg('dried_kg'), kg('secret_kg', 'hash')] },
];

describe('EPCIS mapping of a template', () => {
  it('accepts quantities of the stage, inputs of any earlier stage, CBV steps and dispositions', () => {
    const mapping = {
      picking: { bizStep: 'commissioning', disposition: 'active', quantities: [{ item: 'fresh_kg', uom: 'KGM' }] },
      drying: { disposition: 'in_progress', inputs: [{ item: 'picking.fresh_kg', uom: 'KGM' }], quantities: [{ item: 'dried_kg', uom: 'KGM' }] },
    };
    expect(checkEpcisMapping(mapping, stages)).to.deep.equal([]);
  });

  it('names every problem: unknown stages and fields, non-CBV terms, bad units, items that are not plain numbers of the right stage', () => {
    const mapping = {
      packing: {},
      picking: { bizStep: 'harvesting', disposition: 'fresh', colour: 'green', quantities: [{ item: 'grade' }, { item: 'fresh_kg', uom: 'kg' }] },
      withering: { inputs: [{ item: 'drying.dried_kg' }, { item: 'withered_kg' }], quantities: [] },
      drying: { quantities: [{ item: 'secret_kg' }, { item: 'picking.fresh_kg' }, 'dried_kg'] },
    };
    expect(checkEpcisMapping(mapping, stages)).to.deep.equal([
      "epcis.packing: unknown stage 'packing'",
      "epcis.picking: unknown field 'colour'",
      'epcis.picking.bizStep must be a CBV 2.0 business step',
      'epcis.picking.disposition must be a CBV 2.0 disposition',
      'epcis.picking.quantities[0]: grade is not a plain numeric item',
      'epcis.picking.quantities[1].uom must be a UN/ECE Rec 20 code such as KGM',
      'epcis.withering.quantities must be a list of 1 to 16 quantities',
      "epcis.withering.inputs[0]: 'drying.dried_kg' is not an item of an earlier stage (stage.item)",
      "epcis.withering.inputs[1]: 'withered_kg' is not an item of an earlier stage (stage.item)",
      'epcis.drying.quantities[0]: secret_kg is not a plain numeric item',
      "epcis.drying.quantities[1]: 'picking.fresh_kg' is not an item of this stage",
      'epcis.drying.quantities[2] must be {item, uom?}',
    ]);
    expect(checkEpcisMapping([], stages)).to.deep.equal(['epcis must be an object of stage mappings']);
  });
});
