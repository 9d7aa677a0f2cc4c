/**
 * The dotted paths of every procedure of a router (`orders.pay`, ...), walked through its record
 * (what `createCaller` exposes), for the tests that must cover every procedure: the authorization
 * matrix and the fuzzing fail when a procedure is added without its row or its arbitrary.
 */
export function procedurePaths(router: object, prefix = ''): string[] {
  return Object.entries(router).flatMap(([key, value]) => {
    if (key === '_def' || key === 'createCaller') return [];
    const path = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'function' ? [path] : procedurePaths(value as object, path);
  });
}
