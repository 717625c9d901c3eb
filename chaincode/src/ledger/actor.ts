/** What a write puts in its record and event about the org's user who did it. */
export interface Actor {
  actor?: string;
}

/**
 * The write's actor (its DTO's `actor`), to spread into the record version it writes and into its
 * event. The key is always set, so a rewrite spread over an older version replaces that version's
 * user, and canonical JSON drops it when undefined: without an actor the bytes are as before.
 */
export function actorOf(dto: Actor): Actor {
  return { actor: dto.actor };
}

/** For writes no org user makes (scans, device readings, holder-signed requests) over a record an org user wrote. */
export const NO_ACTOR: Actor = { actor: undefined };
