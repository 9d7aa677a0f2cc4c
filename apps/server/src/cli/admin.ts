/**
 * `pnpm admin -- <users|tokens> <command> [flags]`: onboard customers and services, grant users
 * the operator scopes, issue, list and revoke tokens, against DATABASE_URL, the database of the `pnpm start` running on this checkout,
 * or else the embedded one (started for the command and stopped after).
 */
import { parseCommandWords, usageError } from '@chargeonce/cli';
import {
  createService,
  createUser,
  type DbHandle,
  findService,
  findUser,
  isOperatorScope,
  isScope,
  issueToken,
  listTokens,
  listUsers,
  OPERATOR_SCOPES,
  type OperatorScope,
  revokeToken,
  SCOPES,
  type Scope,
  setOperatorScopes,
  USER_SCOPES,
} from '@chargeonce/db';
import { connectDatabase, fail } from './connect';

const cli = {
  usage: `usage: pnpm admin -- <command> [flags] [--json]
  users create --name NAME                       a customer; prints its id
  users list                                     every user (operators with their scopes)
  users grant-operator USER_ID [--scopes S,S]    the user's tokens and web sessions also carry
                                                 these operator scopes (default: all of them)
  users revoke-operator USER_ID                  takes the operator scopes away again
  tokens create --user USER_ID [--label L] [--expires-in D]
                                                 a token acting for that customer
  tokens create --service NAME --scopes S,S [--label L] [--expires-in D]
                                                 a service token (the service is created if new)
  tokens list [--user USER_ID | --service NAME]  tokens, never their values
  tokens revoke TOKEN_ID                         stops the token (on every server within
                                                 CHARGEONCE_AUTH_CACHE_MS, 5 s by default)
Scopes: ${SCOPES.join(', ')}; operator scopes: ${OPERATOR_SCOPES.join(', ')}.
Granting and revoking take effect on every server within CHARGEONCE_AUTH_CACHE_MS. D: a number with s, m, h or d (e.g. 30d).
A token is printed once, when it is created; only its SHA-256 is stored.
--json: the last line is one JSON object. Database: DATABASE_URL, else the running \`pnpm start\`
of this checkout, else the embedded database under CHARGEONCE_DATA_DIR (default .data/).`,
  options: {
    name: { type: 'string' },
    user: { type: 'string' },
    service: { type: 'string' },
    scopes: { type: 'string' },
    label: { type: 'string', default: '' },
    'expires-in': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
} as const;

const { values, words } = parseCommandWords(cli);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidFlag(name: string, raw: string | undefined): string {
  if (raw === undefined || !UUID.test(raw)) usageError(cli, `--${name} must be a UUID`);
  return raw as string;
}

const listFlag = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function scopesFlag(raw: string | undefined): Scope[] {
  const scopes = listFlag(raw);
  if (scopes.length === 0) usageError(cli, `--scopes is required for a service token: ${SCOPES.join(', ')}`);
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length) usageError(cli, `unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

/** Only operator scopes may be granted to a user: a customer's order scopes are implied, never stored. */
function operatorScopesFlag(raw: string | undefined): OperatorScope[] {
  if (raw === undefined) return [...OPERATOR_SCOPES];
  const scopes = listFlag(raw);
  const wrong = scopes.filter((s) => !isOperatorScope(s));
  if (scopes.length === 0 || wrong.length) {
    usageError(
      cli,
      `--scopes for an operator: ${OPERATOR_SCOPES.join(', ')}${wrong.length ? ` (not ${wrong.join(', ')})` : ''}`,
    );
  }
  return scopes as OperatorScope[];
}

function expiryFlag(raw: string | undefined): Date | null {
  if (raw === undefined) return null;
  const match = /^(\d{1,6})([smhd])$/.exec(raw);
  if (!match)
    usageError(cli, `--expires-in must be a number with s, m, h or d, e.g. 30d (got ${JSON.stringify(raw)})`);
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match![2] as 's' | 'm' | 'h' | 'd'];
  return new Date(Date.now() + Number(match![1]) * unitMs);
}

/** Runs one command; returns what to print (lines for people, one object for --json). */
async function run(db: DbHandle['db']): Promise<{ lines: string[]; json: object }> {
  const [noun, verb, ...rest] = words;
  const command = `${noun ?? ''} ${verb ?? ''}`.trim();
  const takesId = ['tokens revoke', 'users grant-operator', 'users revoke-operator'].includes(command);
  if (rest.length > (takesId ? 1 : 0)) usageError(cli, `unexpected: ${rest.join(' ')}`);
  switch (command) {
    case 'users create': {
      const name = values.name?.trim();
      if (!name || name.length > 200) usageError(cli, '--name is required (at most 200 characters)');
      const user = await createUser(db, { name: name as string });
      return { lines: [`user ${user.id} ${user.name}`], json: { user } };
    }
    case 'users list': {
      const all = await listUsers(db);
      const lines = all.map(
        (u) =>
          `${u.id}  ${u.name}${u.operatorScopes.length ? ` operator [${u.operatorScopes.join(',')}]` : ''}`,
      );
      return { lines, json: { users: all } };
    }
    case 'users grant-operator':
    case 'users revoke-operator': {
      const userId =
        rest[0] === undefined ? usageError(cli, `${command} needs a USER_ID`) : uuidFlag('USER_ID', rest[0]);
      if (verb === 'revoke-operator' && values.scopes !== undefined)
        usageError(cli, 'revoke-operator takes no --scopes');
      const scopes = verb === 'grant-operator' ? operatorScopesFlag(values.scopes) : [];
      if (!(await setOperatorScopes(db, userId, scopes))) throw new Error(`no user ${userId}`);
      const line = scopes.length
        ? `user ${userId} operator [${scopes.join(',')}]`
        : `user ${userId} is no operator`;
      return { lines: [line], json: { userId, operatorScopes: scopes } };
    }
    case 'tokens create':
      return createToken(db);
    case 'tokens list': {
      if (values.user && values.service) usageError(cli, 'tokens list takes --user or --service, not both');
      const filter = values.user
        ? { userId: uuidFlag('user', values.user) }
        : values.service
          ? { serviceId: (await serviceNamed(db, values.service)).id }
          : {};
      // What each token may do: a user token's scopes are implied (its user's operator scopes added).
      const tokens = (await listTokens(db, filter)).map(({ operatorScopes, ...t }) =>
        t.kind === 'user' ? { ...t, scopes: [...USER_SCOPES, ...(operatorScopes ?? [])] } : t,
      );
      const lines = tokens.map(
        (t) =>
          `${t.id}  ${t.kind === 'user' ? `user ${t.userId}` : `service ${t.service}`} [${t.scopes.join(',')}]` +
          `${t.label ? ` "${t.label}"` : ''}${t.revokedAt ? ' revoked' : t.expiresAt ? ` expires ${t.expiresAt.toISOString()}` : ''}`,
      );
      return { lines, json: { tokens } };
    }
    case 'tokens revoke': {
      const id =
        rest[0] === undefined
          ? usageError(cli, 'tokens revoke needs a TOKEN_ID')
          : uuidFlag('TOKEN_ID', rest[0]);
      if (!(await revokeToken(db, id))) throw new Error(`no live token ${id}`);
      return { lines: [`revoked ${id}`], json: { revoked: id } };
    }
    default:
      return usageError(cli, command ? `unknown command: ${command}` : 'a command is required');
  }
}

async function createToken(db: DbHandle['db']): Promise<{ lines: string[]; json: object }> {
  if (Boolean(values.user) === Boolean(values.service))
    usageError(cli, 'tokens create needs --user or --service');
  const expiresAt = expiryFlag(values['expires-in']);
  const common = { label: values.label, expiresAt };
  if (values.user) {
    if (values.scopes !== undefined) {
      usageError(cli, `--scopes is for service tokens; a user token acts with ${USER_SCOPES.join(', ')}`);
    }
    const userId = uuidFlag('user', values.user);
    if (!(await findUser(db, userId))) throw new Error(`no user ${userId}`);
    const issued = await issueToken(db, { owner: { kind: 'user', userId }, ...common });
    return { lines: [`token ${issued.id} for user ${userId}`, issued.token], json: { ...issued, userId } };
  }
  const scopes = scopesFlag(values.scopes);
  const name = values.service as string;
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name)) {
    usageError(cli, '--service must be lower-case letters, digits, _ . - (at most 63)');
  }
  const service = (await findService(db, name)) ?? (await createService(db, { name }));
  const issued = await issueToken(db, {
    owner: { kind: 'service', serviceId: service.id },
    scopes,
    ...common,
  });
  return {
    lines: [`token ${issued.id} for service ${name} [${scopes.join(',')}]`, issued.token],
    json: { ...issued, service: name },
  };
}

async function serviceNamed(db: DbHandle['db'], name: string) {
  const service = await findService(db, name);
  if (!service) throw new Error(`no service ${name}`);
  return service;
}

async function main(): Promise<number> {
  const database = await connectDatabase('admin');
  try {
    const { lines, json } = await run(database.handle.db);
    if (values.json) console.log(JSON.stringify(json));
    else for (const line of lines) console.log(line);
    return 0;
  } finally {
    await database.close();
  }
}

main().then((code) => process.exit(code), fail);
