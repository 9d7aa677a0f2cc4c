import type { Cluster } from './cluster';
import { type Findings, findings } from './invariants';
import { sleep } from './load';

/**
 * Each live server's /readyz is asked this often for the whole run, without waiting for the last
 * answer (at most `MAX_IN_FLIGHT` at once per server): one that hangs does not hide the next ones.
 */
const POLL_MS = 20;
const MAX_IN_FLIGHT = 5;
/**
 * A probe not answered within this is a failed one, as an orchestrator's would be (Kubernetes'
 * default `timeoutSeconds: 1`). The server bounds its own check at 2 s.
 */
const PROBE_TIMEOUT_MS = 1000;
/** After the settle, each live server gets this long to answer 200. */
const READY_AFTER_MS = 15_000;

/** One /readyz probe: its HTTP status, `timeout` (no answer in time), or null (no connection). */
export interface ReadySample {
  instanceId: string;
  sentAt: number;
  at: number;
  status: number | 'timeout' | null;
}

/** A database outage: from the moment the fault began to the moment the server accepted connections again. */
export interface Outage {
  what: string;
  from: number;
  to: number;
}

async function probe(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ReadySample['status']> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'timeout' : null;
  }
}

/** Probes every live server's /readyz until stop(); a server started later is probed from then on. */
export function startReadinessPoller(cluster: Cluster) {
  const samples: ReadySample[] = [];
  const polling = new Set<string>();
  const loops: Promise<void>[] = [];
  let stopped = false;
  const poll = async (instanceId: string, url: string, alive: () => boolean) => {
    const inFlight = new Set<Promise<void>>();
    while (!stopped && alive()) {
      if (inFlight.size < MAX_IN_FLIGHT) {
        const sentAt = Date.now();
        const one = probe(url).then((status) => {
          samples.push({ instanceId, sentAt, at: Date.now(), status });
          inFlight.delete(one);
        });
        inFlight.add(one);
      }
      await sleep(POLL_MS);
    }
    await Promise.all(inFlight);
  };
  const watch = (async () => {
    while (!stopped) {
      for (const slot of cluster.live()) {
        const { instanceId, server } = slot;
        if (!instanceId || !server || polling.has(instanceId)) continue;
        polling.add(instanceId);
        const alive = () => server.child.exitCode === null && server.child.signalCode === null;
        loops.push(poll(instanceId, server.url, alive));
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    samples: () => samples,
    async stop(): Promise<void> {
      stopped = true;
      await watch;
      await Promise.all(loops);
    },
  };
}

/** Until every live server's /readyz answers 200 (bounded); the ones that did not. */
export async function notReadyServers(cluster: Cluster): Promise<string[]> {
  const late = await Promise.all(
    cluster.live().map(async ({ instanceId, server }) => {
      const deadline = Date.now() + READY_AFTER_MS;
      while (Date.now() < deadline) {
        if ((await probe(server!.url, READY_AFTER_MS)) === 200) return undefined;
        await sleep(100);
      }
      return instanceId;
    }),
  );
  return late.filter((id): id is string => id !== undefined);
}

export interface ReadinessCounts {
  /** /readyz answers 503, probes that timed out, and per server the times it went ready → not → ready. */
  ready503: number;
  readyTimeouts: number;
  readyFlaps: number;
}

const notReady = (s: ReadySample) => s.status === 503 || s.status === 'timeout';

/**
 * `/readyz` tells an orchestrator the truth: every outage during which some server could be asked
 * failed some server's probe (a 503, or no answer within the probe's timeout, for a probe sent
 * before the outage ended and answered — or abandoned — after it began), and every server that lives
 * at the end answered 200 after it (`notReady`, from `notReadyServers`).
 */
export function auditReadiness(
  samples: ReadySample[],
  outages: Outage[],
  notReadyIds: string[],
): Findings & ReadinessCounts {
  const found = findings();
  const note = (kind: 'readinessMissed' | 'notReady', what: string) => {
    found.violations[kind]++;
    found.details.push(`${kind}: ${what}`);
  };
  for (const o of outages) {
    const during = samples.filter((s) => s.sentAt <= o.to && s.at >= o.from);
    // No server to ask (every one of them dead, which `serversExited` reports): nothing to miss.
    const asked = during.some((s) => s.sentAt >= o.from && s.status !== null);
    if (during.some(notReady) || !asked) continue;
    const told = during.map(
      (s) => `${s.instanceId} ${s.status ?? 'none'} ${s.sentAt - o.from}+${s.at - s.sentAt}ms`,
    );
    note('readinessMissed', `no /readyz failed during ${o.what} (${o.to - o.from} ms): ${told.join(', ')}`);
  }
  for (const id of notReadyIds) note('notReady', `${id}'s /readyz did not answer 200 after the outages`);
  let readyFlaps = 0;
  const phase = new Map<string, 'ready' | 'down'>();
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    const was = phase.get(s.instanceId);
    if (s.status === 200) {
      if (was === 'down') readyFlaps++;
      phase.set(s.instanceId, 'ready');
    } else if (notReady(s) && was === 'ready') phase.set(s.instanceId, 'down');
  }
  return {
    violations: found.violations,
    details: found.details,
    orderIds: found.orderIds,
    ready503: samples.filter((s) => s.status === 503).length,
    readyTimeouts: samples.filter((s) => s.status === 'timeout').length,
    readyFlaps,
  };
}
