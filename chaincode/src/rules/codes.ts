/**
 * One item, one code (一物一码): lifecycle, packaging levels and scan alerts. Pure functions.
 */

import type { Role } from '../model/consortium';

export const CODE_LEVELS = ['item', 'case', 'pallet'] as const;
export type CodeLevel = (typeof CODE_LEVELS)[number];
export const CODE_STATUSES = ['issued', 'active', 'sold', 'void'] as const;
export type CodeStatus = (typeof CODE_STATUSES)[number];

const NEXT: Record<CodeStatus, readonly CodeStatus[]> = {
  issued: ['active', 'void'],
  active: ['sold', 'void'],
  sold: ['void'],
  void: [],
};

export function canTransition(from: CodeStatus, to: CodeStatus): boolean {
  return NEXT[from].includes(to);
}

/** A parent packs strictly smaller units: items into cases, cases (or items) onto pallets. */
export function canContain(parent: CodeLevel, child: CodeLevel): boolean {
  return CODE_LEVELS.indexOf(parent) > CODE_LEVELS.indexOf(child);
}

/**
 * A code may be scanned `threshold` times; the scan that takes the count past it marks the code
 * suspect (a likely clone) once. Returns true for the batch that crosses.
 */
export function crossesThreshold(countBefore: number, scansNow: number, threshold: number): boolean {
  return countBefore <= threshold && countBefore + scansNow > threshold;
}

/**
 * Outside every authorized region: a region authorizes itself and its subdivisions (CN covers CN-53).
 * A scan located only more coarsely than an authorized region (CN against CN-53) cannot show that
 * the item left it, so it is not a diversion.
 */
export function isDiverted(region: string, authorized: readonly string[]): boolean {
  if (authorized.length === 0) return false;
  return !authorized.some((a) => region === a || region.startsWith(`${a}-`) || a.startsWith(`${region}-`));
}

/** Roles whose scans the chain records for any code; a code's task owner also scans its own codes. */
export const SCANNING_ROLES: readonly Role[] = ['retailer', 'scanner'];

/** A channel names who scanned: retailer, logistics and regulator scans come from orgs holding that role. */
const CHANNEL_ROLE: Record<string, Role | undefined> = { retailer: 'retailer', logistics: 'logistics', regulator: 'regulator' };

/** Whether an org with these roles may declare a scan on this channel (consumer and rfid need no role beyond scanning). */
export function mayDeclareChannel(roles: readonly Role[], channel: string): boolean {
  const needed = CHANNEL_ROLE[channel];
  return needed === undefined || roles.includes(needed);
}
