import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

/** Debian's PgBouncer (`apt-get install pgbouncer`, as `.ci/run` does): 1.18, no prepared statements across transactions. */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** The pooled URL (same user, password and database as the upstream's). */
  url: string;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * PgBouncer in transaction mode in front of `upstreamUrl` (a test PostgreSQL on 127.0.0.1), the
 * way most deployments pool: every transaction may land on another server connection. As root it
 * runs as the `postgres` OS user (PgBouncer refuses root), its files owned by that user.
 */
export async function startPgBouncer(
  upstreamUrl: string,
  options: { poolSize?: number } = {},
): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER))
    throw new Error(`${PGBOUNCER} is missing: apt-get install pgbouncer (.ci/run does)`);
  const upstream = new URL(upstreamUrl);
  const database = upstream.pathname.slice(1);
  const user = decodeURIComponent(upstream.username);
  const password = decodeURIComponent(upstream.password);
  const dir = mkdtempSync(join(tmpdir(), 'chargeonce-pgbouncer-'));
  const port = await freePort();
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `${database} = host=${upstream.hostname} port=${upstream.port} dbname=${database} user=${user} password=${password}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 10}`,
      'max_client_conn = 1000',
      // postgres.js sends these at startup; PgBouncer refuses parameters it does not track.
      'ignore_startup_parameters = extra_float_digits',
      'server_reset_query =',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${password}"\n`);
  const root = process.getuid?.() === 0;
  if (root) {
    const [uid, gid] = await Promise.all(['-u', '-g'].map((flag) => idOf('postgres', flag)));
    for (const f of [dir, ini, join(dir, 'userlist.txt')]) chownSync(f, uid!, gid!);
  }
  const child: ChildProcess = root
    ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER, ini], { stdio: 'ignore' })
    : spawn(PGBOUNCER, [ini], { stdio: 'ignore' });
  const url = `postgres://${upstream.username}:${upstream.password}@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const probe = postgres(url, { max: 1, prepare: false, onnotice: () => {}, connect_timeout: 2 });
    // Polled until it answers (the condition), bounded: a PgBouncer that never starts fails here.
    const deadline = Date.now() + 15_000;
    while (
      !(await probe`select 1 as one`.then(
        () => true,
        () => false,
      ))
    ) {
      if (child.exitCode !== null)
        throw new Error(`pgbouncer exited (${child.exitCode}); see its log in ${dir}`);
      if (Date.now() > deadline) throw new Error('pgbouncer did not answer within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await probe.end({ timeout: 1 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** A user's uid (`-u`) or gid (`-g`), from `id`. */
export function idOf(name: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const id = spawn('id', [flag, name]);
    let out = '';
    id.stdout.on('data', (d) => {
      out += d;
    });
    id.once('exit', (code) =>
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`id ${flag} ${name}`)),
    );
  });
}
