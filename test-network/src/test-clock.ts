/**
 * A test's clock: read once (per test file or per `it`), it gives event times as hour offsets from
 * an origin `spanHours` before that read, so a test's times lie in the past, keep their order and
 * spacing, and stay valid whatever day the suite runs (the chaincode refuses event times past the
 * transaction time, and stage rules compare them with each other).
 */
export interface TestClock {
  /** when the clock was read, in ms since the epoch */
  readonly now: number;
  /** ISO date-time `hours` after the origin; refuses offsets that would land after `now` */
  at(hours: number): string;
  /** the UTC calendar date (YYYY-MM-DD) of `at(hours)` */
  day(hours: number): string;
}

const HOUR_MS = 3_600_000;

/** Sixty days back: room for every offset the tests use, and for asset ages of several weeks. */
const DEFAULT_SPAN_HOURS = 60 * 24;

export function testClock(spanHours = DEFAULT_SPAN_HOURS, now = Date.now()): TestClock {
  // On a whole hour, so that times read like recorded ones and sub-hour offsets stay exact.
  const origin = Math.floor((now - spanHours * HOUR_MS) / HOUR_MS) * HOUR_MS;
  const at = (hours: number): string => {
    const ms = origin + hours * HOUR_MS;
    if (ms > now) throw new RangeError(`test clock: ${hours} h after the origin is in the future (the span is ${spanHours} h)`);
    return new Date(ms).toISOString();
  };
  return { now, at, day: (hours) => at(hours).slice(0, 10) };
}
