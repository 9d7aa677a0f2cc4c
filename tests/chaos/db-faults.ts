import type { TestDatabase } from '@chargeonce/db/testing';
import { createRng } from '@chargeonce/stripe-emulator';
import postgres from 'postgres';
import { sleep } from './load';
import type { ProviderGate } from './provider-gate';
import type { Outage } from './readiness';

export type DbFaultKind =
  /** A crash-restart: `pg_ctl stop -m immediate` (the start replays the WAL), then start. */
  | 'restart'
  /** SIGKILL the postmaster, then start it again (its backends left behind are killed first). */
  | 'kill'
  /** Drop every connection to the database (`pg_terminate_backend`); the server stays up. */
  | 'terminate';

export type DbFaultTrigger =
  /** At `atMs`. */
  | 'time'
  /** When the next PaymentIntent create is on its way to the provider (held until the fault is in). */
  | 'in_flight'
  /** When the provider has charged one, before its answer reaches the server (between success and finalize). */
  | 'after_charge';

export interface DbFaultPlan {
  atMs: number;
  kind: DbFaultKind;
  trigger: DbFaultTrigger;
  /** How long the database stays down before it is started again (restart, kill). */
  downMs: number;
}

const KINDS: readonly DbFaultKind[] = ['restart', 'kill', 'terminate'];
/** How long a trigger waits for its moment before the fault is applied anyway. */
const TRIGGER_WAIT_MS = 3000;

/**
 * One to three database faults during the load, from a stream of their own (the rest of the
 * scenario is what the same seed draws without `--db-faults`). Kinds go round from a random one, so
 * that three faults are one of each.
 */
export function drawDbFaults(seed: number, loadMs: number): DbFaultPlan[] {
  const rng = createRng(seed, 'db-faults');
  const first = rng.int(0, KINDS.length - 1);
  const plans = Array.from({ length: rng.int(1, 3) }, (_, i): DbFaultPlan => {
    const kind = KINDS[(first + i) % KINDS.length]!;
    return {
      atMs: rng.int(Math.round(loadMs * 0.1), Math.round(loadMs * 0.9)),
      kind,
      trigger: rng.pick(['time', 'in_flight', 'after_charge'] as const),
      downMs:
        kind === 'terminate' ? 0 : rng.pick(kind === 'restart' ? [0, 0, 300, 1000] : [100, 500, 1500, 3000]),
    };
  });
  return plans.sort((a, b) => a.atMs - b.atMs);
}

export const describeDbFaults = (plans: DbFaultPlan[]) =>
  plans.map((f) => `${f.kind}@${f.atMs}/${f.trigger}${f.downMs ? `+down${f.downMs}` : ''}`).join(',');

/** A fault as it was applied. */
export interface DbFaultRecord {
  plan: DbFaultPlan;
  /** The moment it was applied at: its trigger, or the time when the trigger did not come. */
  moment: string;
  /** restart and kill: from the fault to the server accepting connections again. */
  outage: Outage | undefined;
  /** terminate: the connections dropped. */
  terminated: number;
}

/** Drops every other connection to the database; returns how many. */
async function terminateAll(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [row] = await sql<{ n: number }[]>`
      select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity
       where pid <> pg_backend_pid() and datname = current_database()`;
    return row?.n ?? 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Carries out the faults against the load that is running, one after the other. The database goes
 * down at the plan's moment (through the gate when it has a trigger), stays down for `downMs`, and
 * is started again; a failure to bring it back throws (the scenario cannot go on).
 */
export async function runDbFaults(
  plans: DbFaultPlan[],
  loadStart: number,
  database: TestDatabase,
  gate: ProviderGate,
  log: (line: string) => void,
  stopped: () => boolean,
): Promise<DbFaultRecord[]> {
  if (!database.shutdown || !database.kill || !database.start) {
    throw new Error('--db-faults needs the embedded test database (unset CHARGEONCE_TEST_DATABASE_URL)');
  }
  const pg = database as Required<TestDatabase>;
  const records: DbFaultRecord[] = [];
  for (const plan of plans) {
    await sleep(loadStart + plan.atMs - Date.now());
    if (stopped()) break;
    let from = 0;
    let terminated = 0;
    let failure: unknown;
    // Run inside the gate, which goes on whatever happens: a fault that could not be applied says so after.
    const down = async () => {
      from = Date.now();
      try {
        if (plan.kind === 'restart') await pg.shutdown({ mode: 'immediate' });
        else if (plan.kind === 'kill') await pg.kill();
        else terminated = await terminateAll(database.url);
      } catch (err) {
        failure = err;
      }
    };
    let moment: string = plan.trigger;
    if (plan.trigger === 'time') await down();
    else {
      const wait = plan.trigger === 'in_flight' ? gate.onNextCreate : gate.onNextCharge;
      if (!(await wait(down, TRIGGER_WAIT_MS))) {
        moment = `${plan.trigger} not seen, time`;
        await down();
      }
    }
    if (failure) throw new Error(`db ${plan.kind} (${moment}) could not be applied`, { cause: failure });
    if (plan.kind === 'terminate') {
      log(`  db terminate (${moment}): ${terminated} connection(s) dropped`);
      records.push({ plan, moment, outage: undefined, terminated });
      continue;
    }
    await sleep(plan.downMs);
    await pg.start();
    const outage = { what: `db ${plan.kind} (${moment})`, from, to: Date.now() };
    log(`  ${outage.what}: down ${outage.to - outage.from} ms`);
    records.push({ plan, moment, outage, terminated: 0 });
  }
  return records;
}
