/**
 * Loads a package that only some configurations need and that a production install may leave out
 * (`pnpm deploy --prod` skips devDependencies): `load` is the caller's own `() => import('name')`,
 * so bundlers and type-checkers see the literal specifier. Resolves `undefined` when `name` itself
 * is not installed — or is there only as TypeScript source that plain `node` cannot load (a
 * workspace package, when the compiled server runs inside a checkout) — for the caller to say what
 * to configure instead; any other failure (the package is there but broken, or one of its own
 * imports is missing) is rethrown as it is.
 */
export async function importIfInstalled<T>(name: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (isNotInstalled(err, name) || isTypeScriptOnly(err, name)) return undefined;
    throw err;
  }
}

/** Node's "Cannot find package 'name' imported from ..." for exactly this package. */
function isNotInstalled(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}

/**
 * Node's `Unknown file extension ".ts" for /.../<package dir>/src/index.ts`: the package resolved to
 * a workspace folder of TypeScript source (its last name segment is the folder, as in this repo).
 */
function isTypeScriptOnly(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const folder = name.split('/').at(-1);
  return (
    code === 'ERR_UNKNOWN_FILE_EXTENSION' &&
    typeof message === 'string' &&
    /"\.m?tsx?"/.test(message) &&
    message.includes(`/${folder}/`)
  );
}
