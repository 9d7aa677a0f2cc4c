import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/**
 * Runs the CLI as its own process (Node with tsx's loader, not the tsx CLI, whose signal relay can
 * race the exit code) and collects what it prints.
 */
function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

const USAGE_LINE = /^usage: stripe-emulator \[--port N\]/m;

describe('cli flags', () => {
  it('--help prints the usage and exits 0 having started nothing', async () => {
    for (const flag of ['--help', '-h']) {
      const { output, exited } = runCli([flag, '--port', '0']);
      expect(await exited).toBe(0);
      expect(output.stdout).toMatch(USAGE_LINE);
      expect(output.stdout).not.toContain('stripe emulator: http');
      expect(output.stderr).toBe('');
    }
  });

  it.each([
    ['--bogus'],
    ['--port', 'abc'],
    ['--port', '0', 'stray'],
    ['--refund-delay-ms', '-5'],
    ['--authorization-ttl-ms', 'soon'],
  ])('answers %j with the usage on stderr and exit 2, no stack trace', async (...args) => {
    const { output, exited } = runCli(args);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(USAGE_LINE);
    expect(output.stderr).toMatch(/^stripe emulator: /);
    expect(output.stderr).not.toMatch(/\n\s+at /); // no stack frames
    expect(output.stdout).toBe('');
  });

  it('takes the flags after the literal `--` that `pnpm ... start -- --port N` passes', async () => {
    const { child, output, exited } = runCli([
      '--',
      '--port',
      '0',
      '--latency-ms',
      '0',
      '--refund-delay-ms',
      '5',
    ]);
    try {
      await vi.waitFor(
        () => expect(output.stdout).toMatch(/^stripe emulator: http:\/\/127\.0\.0\.1:\d+\n$/),
        {
          timeout: 30_000,
        },
      );
      const port = Number(/:(\d+)\n$/.exec(output.stdout)?.[1]);
      const health = await fetch(`http://127.0.0.1:${port}/_emulator/health`);
      expect(health.status).toBe(200);
      const config = await fetch(`http://127.0.0.1:${port}/_emulator/config`).then((r) => r.json());
      expect(config).toMatchObject({ refundDelayMs: 5 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('cli', () => {
  it('prints its URL, serves requests and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    // Node with tsx's loader (not the tsx CLI, whose signal relay can race the exit code).
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), cli, '--port', '0', '--latency-ms', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
      });
      expect(line).toMatch(/^stripe emulator: http:\/\/127\.0\.0\.1:\d+\n$/);
      const port = Number(/:(\d+)\n$/.exec(line)?.[1]);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/_emulator/health' }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
