// Load-time instrumentation for the fuzzer: a require hook that runs
// istanbul-lib-instrument (the instrumenter nyc uses) over the compiled JS of
// the modules under test, so every branch and function gets a counter in a
// global coverage object that the fuzzer reads after each execution.
import * as fs from 'node:fs';
import Module from 'node:module';

export const COVERAGE_VAR = '__sqlroomFuzzCoverage';

interface Instrumenter {
  instrumentSync(code: string, filename: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createInstrumenter } = require('istanbul-lib-instrument') as { createInstrumenter(opts: Record<string, unknown>): Instrumenter };

type Loader = (module: { _compile(code: string, filename: string): void }, filename: string) => void;
let installed = false;
export const instrumentedFiles: string[] = [];

/** Instruments every `.js`/`.cjs` file loaded after this call whose path matches one of `include`. */
export function installCoverageHook(include: RegExp[]): void {
  if (installed) throw new Error('coverage hook installed twice');
  installed = true;
  const instrumenter = createInstrumenter({ coverageVariable: COVERAGE_VAR, esModules: false, compact: true, produceSourceMap: false, preserveComments: false });
  const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  const original = extensions['.js'];
  const hook: Loader = (module, filename) => {
    if (!include.some((re) => re.test(filename))) return original(module, filename);
    const code = instrumenter.instrumentSync(fs.readFileSync(filename, 'utf8'), filename);
    instrumentedFiles.push(filename);
    module._compile(code, filename);
  };
  extensions['.js'] = hook;
  extensions['.cjs'] = hook;
}
