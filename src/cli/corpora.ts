import type { Argv } from 'yargs';
import { listBundled } from '../data/bundled.js';

export function corporaCommand(y: Argv): Argv {
  return y.command(
    'corpora',
    'List the bundled corpora: name, size, the npm package they come from and where it is installed',
    (a) => a.option('json', { type: 'boolean', default: false, describe: 'one JSON object per corpus per line' }),
    (v) => {
      const corpora = listBundled();
      if (v.json) {
        for (const c of corpora) process.stdout.write(`${JSON.stringify(c)}\n`);
        return;
      }
      for (const c of corpora) {
        process.stdout.write(`${c.name}  ${c.bytes} bytes  ${c.description}\n  source ${c.source}, installed in ${c.location}\n`);
      }
      process.stdout.write('Train on one by name, e.g. charlm train moby-dick; a path to your own text file or folder works the same way.\n');
    },
  );
}
