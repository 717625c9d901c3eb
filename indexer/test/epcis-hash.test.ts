import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalEpc, eventHashId, hashTime, preHashString } from '../src/epcis/event-hash';
import { bizStepTerm, codeEpc, codeHashOf, glnOf, lotClass, sensorType, zoneOffset } from '../src/epcis/vocabulary';

const VENDORED = resolve(__dirname, '../../epcis');
const example = (file: string) => {
  const doc = JSON.parse(readFileSync(resolve(VENDORED, file), 'utf8')) as { '@context': unknown[]; epcisBody: { eventList: Record<string, unknown>[] } };
  return { event: doc.epcisBody.eventList[0], ns: Object.assign({}, ...doc['@context'].filter((c) => typeof c === 'object')) as Record<string, string> };
};

describe('EPCIS event hash (CBV 2.0 event hash id)', () => {
  it("builds the canonical pre-hash string of GS1's AggregationEvent example: UTC milliseconds, URNs as Digital Links, sorted lists, full CBV URIs, extensions by namespace", () => {
    const { event, ns } = example('Example_9.6.3-AggregationEventWithDigitalLink.jsonld');
    expect(preHashString(event, ns)).to.equal(
      'eventType=AggregationEventeventTime=2013-06-08T14:58:56.591ZeventTimeZoneOffset=+02:00' +
        'parentID=https://id.gs1.org/00/106141412345678908' +
        'childEPCsepc=https://id.gs1.org/01/70614141123451/21/2017epc=https://id.gs1.org/01/70614141123451/21/2018' +
        'childQuantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877quantity=200.5uom=KGMquantityElementepcClass=https://id.gs1.org/01/04012345987652quantity=10' +
        'action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-receivingdisposition=https://ref.gs1.org/cbv/Disp-in_progress' +
        'readPointid=https://id.gs1.org/414/0614141007776bizLocationid=https://id.gs1.org/414/0614141008889' +
        '{http://ns.example.com/epcis/}myField=Example of a vendor/user extension',
    );
  });

  it("hashes GS1's example by what it names, not how: EPC URNs and their Digital Links give one id", () => {
    const urn = example('Example_9.6.2-ObjectEvent.jsonld');
    const dl = example('Example_9.6.2-ObjectEventWithDigitalLink.jsonld');
    // GS1's two versions name different lots (GTIN 04012345123456 and 70614141123451): different events
    expect(eventHashId(urn.event, urn.ns)).to.not.equal(eventHashId(dl.event, dl.ns));
    // the same lot by its Digital Link: the same event as the URN version, whose readPoint, bizLocation and parties are SGLN URNs
    const sameLot = { ...dl.event, quantityList: [{ epcClass: 'https://id.gs1.org/01/04012345123456/10/998877', quantity: 200, uom: 'KGM' }] };
    expect(eventHashId(sameLot, dl.ns)).to.equal(eventHashId(urn.event, urn.ns)).and.match(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  });

  it('ignores what is not the event (eventID, recordTime, errorDeclaration, key order) and changes with any field', () => {
    const { event, ns } = example('Example_9.6.2-ObjectEventWithDigitalLink.jsonld');
    const id = eventHashId(event, ns);
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    expect(eventHashId({ ...reordered, eventID: 'urn:uuid:x', recordTime: '2020-01-01T00:00:00Z', errorDeclaration: { declarationTime: '2020-01-01T00:00:00Z' } }, ns)).to.equal(id);
    const changed = [
      { ...event, quantityList: [{ epcClass: 'https://id.gs1.org/01/70614141123451/10/998877', quantity: 201, uom: 'KGM' }] },
      { ...event, eventTime: '2013-06-08T14:58:56.592Z' },
      { ...event, disposition: 'in_transit' },
      { ...event, 'example:myField': 'another value' },
      { ...event, 'example:other': 1 },
    ];
    for (const e of changed) expect(eventHashId(e, ns)).to.not.equal(id);
  });

  it('normalises times to UTC milliseconds (rounding the fourth decimal) and constrains Digital Links', () => {
    expect(hashTime('2023-01-18T11:04:03.1415Z')).to.equal('2023-01-18T11:04:03.142Z');
    expect(hashTime('2005-04-03T20:33:31.116000-06:00')).to.equal('2005-04-04T02:33:31.116Z');
    expect(hashTime('2026-10-01T08:00:00+08:00')).to.equal('2026-10-01T00:00:00.000Z');
    expect(canonicalEpc('https://brand.example/01/09506000134352/21/abc?linkType=all')).to.equal('https://id.gs1.org/01/09506000134352/21/abc');
    expect(canonicalEpc('urn:epc:id:sgtin:0614141.107346.2017')).to.equal('https://id.gs1.org/01/10614141073464/21/2017');
    expect(canonicalEpc('urn:epc:id:sgln:0614141.00777.0')).to.equal('https://id.gs1.org/414/0614141007776');
    expect(canonicalEpc('urn:epc:id:sgln:4012345.00011.987')).to.equal('https://id.gs1.org/414/4012345000115/254/987');
  });
});

describe('EPCIS vocabulary of the export', () => {
  it('names lots, locations and codes by URI, keeps CBV steps bare and gives other steps and metrics the project namespace', () => {
    expect(lotClass('6901234567892', 'JM 2026/03')).to.equal('https://id.gs1.org/01/06901234567892/10/JM%202026%2F03');
    const hash = 'ab'.repeat(32);
    expect(codeHashOf(codeEpc(hash))).to.equal(hash);
    expect(codeHashOf('https://id.gs1.org/01/06901234567892/21/1')).to.equal(undefined);
    expect(glnOf(canonicalEpc('urn:epc:id:sgln:6901234.00004.0'))).to.equal('6901234000047');
    expect([bizStepTerm('shipping'), bizStepTerm('transforming')]).to.deep.equal(['shipping', 'https://ns.trace-chain.example/epcis/BizStep-transforming']);
    expect([sensorType('storage_temp_c'), sensorType('speed_kmh'), sensorType('rfid_read')]).to.deep.equal([
      { type: 'Temperature', uom: 'CEL' },
      { type: 'Speed', uom: 'KMH' },
      { type: 'https://ns.trace-chain.example/epcis/metric/rfid_read' },
    ]);
    expect([zoneOffset('2026-10-01T08:00:00+08:00'), zoneOffset('2026-10-01T00:00:00Z'), zoneOffset('2026-10-01T00:00:00.5-05:30')]).to.deep.equal(['+08:00', '+00:00', '-05:30']);
  });
});
