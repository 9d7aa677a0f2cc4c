import type { DbHandle } from '@chargeonce/db';
import type { TestDatabase } from '@chargeonce/db/testing';
import type { Cluster } from './cluster';
import { type DbFaultRecord, runDbFaults } from './db-faults';
import type { Findings } from './invariants';
import { sleep } from './load';
import { type ProviderGate, startProviderGate } from './provider-gate';
import { auditReadiness, notReadyServers, startReadinessPoller } from './readiness';
import type { Scenario } from './scenario';

/** How long the harness's own pool gets to answer again once the faults are over. */
const RECOVERED_WAIT_MS = 30_000;

/** What the database faults of a scenario came to. */
export interface DbFaultCounts {
  faults: number;
  restarts: number;
  kills: number;
  terminations: number;
  /** Time the database was down, over every restart and kill. */
  downMs: number;
  /** /readyz answers 503, probes not answered in time, and times a server went ready → not → ready. */
  ready503: number;
  readyTimeouts: number;
  readyFlaps: number;
}

export const noDbFaults = (): DbFaultCounts => ({
  faults: 0,
  restarts: 0,
  kills: 0,
  terminations: 0,
  downMs: 0,
  ready503: 0,
  readyTimeouts: 0,
  readyFlaps: 0,
});

/**
 * The `--db-faults` part of a scenario: a gate in front of the emulator (where faults meet
 * payments), the faults during the load, a poller of every server's /readyz, and their audit.
 */
export class DbChaos {
  private poller: ReturnType<typeof startReadinessPoller> | undefined;
  private records: DbFaultRecord[] = [];

  private constructor(
    private readonly scenario: Scenario,
    private readonly database: TestDatabase,
    readonly gate: ProviderGate,
  ) {}

  /** Undefined when the scenario has no database faults (nothing of this runs then). */
  static async start(scenario: Scenario, database: TestDatabase, emulatorUrl: string) {
    if (scenario.dbFaults.length === 0) return undefined;
    return new DbChaos(scenario, database, await startProviderGate(emulatorUrl));
  }

  async run(loadStart: number, cluster: Cluster, log: (line: string) => void, stopped: () => boolean) {
    this.poller = startReadinessPoller(cluster);
    this.records = await runDbFaults(
      this.scenario.dbFaults,
      loadStart,
      this.database,
      this.gate,
      log,
      stopped,
    );
  }

  /** Until the harness's own pool answers again (its connections died with the faults), bounded. */
  async recovered(db: DbHandle): Promise<void> {
    const deadline = Date.now() + RECOVERED_WAIT_MS;
    for (;;) {
      try {
        await db.sql`select 1`;
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** After the settle: every outage seen by /readyz, and every live server ready again. */
  async audit(cluster: Cluster): Promise<Findings & DbFaultCounts> {
    await this.poller?.stop();
    const notReady = await notReadyServers(cluster);
    const outages = this.records.flatMap((r) => (r.outage ? [r.outage] : []));
    const readiness = auditReadiness(this.poller?.samples() ?? [], outages, notReady);
    const kinds = this.records.map((r) => r.plan.kind);
    return {
      ...readiness,
      faults: this.records.length,
      restarts: kinds.filter((k) => k === 'restart').length,
      kills: kinds.filter((k) => k === 'kill').length,
      terminations: kinds.filter((k) => k === 'terminate').length,
      downMs: outages.reduce((ms, o) => ms + o.to - o.from, 0),
    };
  }

  async close(): Promise<void> {
    await this.poller?.stop();
    await this.gate.close();
  }
}
