/** GS1 identifier checks (GTIN-8/12/13/14, GLN): digits and the mod-10 check digit. */

export function gs1CheckDigitValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  // Weights 3,1,3,1… from the rightmost digit before the check digit.
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

export function isGtin(s: string): boolean {
  return [8, 12, 13, 14].includes(s.length) && gs1CheckDigitValid(s);
}

export function isGln(s: string): boolean {
  return s.length === 13 && gs1CheckDigitValid(s);
}

/** The 14-digit form used in GS1 Digital Link paths. */
export function toGtin14(gtin: string): string {
  return gtin.padStart(14, '0');
}
