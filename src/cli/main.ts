import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { benchCommand } from './bench.js';
import { compareCommand } from './compare.js';
import { corporaCommand } from './corpora.js';
import { reportAndExit } from './errors.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { infoCommand } from './info.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';

// `charlm … | head -1` closes the pipe early; that is not an error worth a trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  reportAndExit(e);
});

// src/cli/main.ts and dist/cli/main.js both sit two folders below package.json.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
// bin/charlm runs the build when it is current, else these sources through tsx; --version says which ran.
const runtime = import.meta.url.endsWith('.ts') ? 'TypeScript sources through tsx' : 'compiled';

// Registered in the order `charlm --help` lists them.
const cli = [trainCommand, sampleCommand, evalCommand, compareCommand, infoCommand, exportCommand, corporaCommand, benchCommand]
  .reduce((y, command) => command(y), yargs(hideBin(process.argv)))
  .scriptName('charlm')
  .usage('$0 <command> [options]\n\nA character-level language-model workbench: train LSTM / GRU / RNN models on gpu.js.')
  .demandCommand(1, 'Name a command; `charlm --help` lists them.')
  .strict()
  .help()
  .version(`${version} (${runtime})`)
  // yargs' own message (unknown flag, bad choice, failed check) comes with a usage hint;
  // an error thrown by a command arrives without a message and is reported as itself.
  .fail((message, error) => {
    if (!message) reportAndExit(error);
    process.stderr.write(`charlm: ${message}\nRun \`charlm --help\` for usage.\n`);
    process.exit(1);
  });

try {
  await cli.parseAsync();
} catch (error) {
  reportAndExit(error);
}
