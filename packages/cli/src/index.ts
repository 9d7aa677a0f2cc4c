import { type ParseArgsConfig, parseArgs } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface CommandLineSpec<O extends ParseArgsOptionsConfig> {
  /** The whole usage text: first line `usage: ...`, then one line per flag. */
  usage: string;
  options: O;
}

type Values<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true }>
>['values'];

/** What a command line asks for; `exit` is injected by tests (default: process.exit). */
export interface CliIo {
  argv: string[];
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => never;
}

const processIo = (): CliIo => ({
  argv: process.argv.slice(2),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
});

/**
 * Parses a tool's command line the same way for every chargeonce CLI: flags are strict; `--help`
 * (or `-h`) prints the usage and exits 0 having done nothing; an unknown flag, a missing value or
 * a stray argument prints the reason and the usage on stderr and exits 2, never a stack trace. One
 * leading `--` is skipped: `pnpm <script> -- --flag` passes it through.
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(
  spec: CommandLineSpec<O>,
  io: CliIo = processIo(),
): Values<O> {
  return parse(spec, io, false).values;
}

/**
 * `parseCommandLine` for a tool with subcommands and operands (`tool tokens revoke <id>`): the
 * same rules, and the words that are not flags come back in order.
 */
export function parseCommandWords<O extends ParseArgsOptionsConfig>(
  spec: CommandLineSpec<O>,
  io: CliIo = processIo(),
): { values: Values<O>; words: string[] } {
  return parse(spec, io, true);
}

function parse<O extends ParseArgsOptionsConfig>(
  spec: CommandLineSpec<O>,
  io: CliIo,
  allowPositionals: boolean,
): { values: Values<O>; words: string[] } {
  const args = io.argv[0] === '--' ? io.argv.slice(1) : io.argv;
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${spec.usage.trimEnd()}\n`);
    return io.exit(0);
  }
  try {
    const parsed = parseArgs({ args, options: spec.options, strict: true, allowPositionals });
    return { values: parsed.values as Values<O>, words: parsed.positionals };
  } catch (err) {
    return usageError(spec, err instanceof Error ? err.message : String(err), io);
  }
}

/** A command line that parsed but makes no sense: the reason and the usage on stderr, exit 2. */
export function usageError(spec: { usage: string }, message: string, io: CliIo = processIo()): never {
  io.stderr(`${message}\n\n${spec.usage.trimEnd()}\n`);
  return io.exit(2);
}

/** An integer flag's value within bounds, or a usage error naming the flag. */
export function integerFlag(
  spec: { usage: string },
  name: string,
  raw: string,
  bounds: { min: number; max?: number },
  io?: CliIo,
): number {
  const n = Number(raw);
  const max = bounds.max ?? 2 ** 31;
  if (!Number.isInteger(n) || n < bounds.min || n > max) {
    return usageError(
      spec,
      `--${name} must be an integer from ${bounds.min} to ${max} (got ${JSON.stringify(raw)})`,
      io,
    );
  }
  return n;
}

export { importIfInstalled } from './optional';
