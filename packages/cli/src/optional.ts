/**
 * Loads a package that only some configurations need and that a production install may leave out
 * (`pnpm deploy --prod` skips devDependencies): `load` is the caller's own `() => import('name')`,
 * so bundlers and type-checkers see the literal specifier. Resolves `undefined` when `name` itself
 * is not installed, for the caller to say what to configure instead; any other failure (the
 * package is there but broken, or one of its own imports is missing) is rethrown as it is.
 */
export async function importIfInstalled<T>(name: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (isNotInstalled(err, name)) return undefined;
    throw err;
  }
}

/** Node's "Cannot find package 'name' imported from ..." for exactly this package. */
function isNotInstalled(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}
