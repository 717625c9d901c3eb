/**
 * Which fields of a form a chain refusal concerns, for forms whose fields are the DTO's properties: the chaincode names
 * each ERR_VALIDATION problem's property first (`gtin must match …`, `geo.lat must not be …`, `location id … is not a GLN`,
 * problems joined by '; '); a conflict concerns the form's key.
 */
export function fieldsOfRefusal(fields: readonly string[], key: string): (code: string, message: string) => Record<string, string> {
  return (code, message) => {
    if (code === 'ERR_CONFLICT') return { [key]: message };
    if (code !== 'ERR_VALIDATION') return {};
    const found: Record<string, string> = {};
    for (const problem of message.split('; ')) {
      const path = /^(?:location )?([A-Za-z.]+)/.exec(problem)?.[1] ?? '';
      const field = path.split('.').pop() as string;
      if (fields.includes(field) && !found[field]) found[field] = problem;
    }
    return found;
  };
}
