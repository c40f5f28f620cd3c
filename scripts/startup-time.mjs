// Start-up time of the compiled CLI against the TypeScript sources through tsx, measured in turns
// (one run of each per round, so a busy moment hits both) and reported as medians and their ratio.
// Usage, from the repository root after `npm run build`: node scripts/startup-time.mjs [rounds] -- <charlm arguments>
import { spawnSync } from 'node:child_process';

const split = process.argv.indexOf('--');
const rounds = Number(process.argv[2] && split !== 2 ? process.argv[2] : 10);
const args = split === -1 ? ['--help'] : process.argv.slice(split + 1);
const ways = {
  'bin/charlm (picks dist/)': ['bin/charlm', ...args],
  'compiled (dist/cli/main.js)': ['dist/cli/main.js', ...args],
  'tsx (src/cli/main.ts)': ['--import', 'tsx', 'src/cli/main.ts', ...args],
};
const times = Object.fromEntries(Object.keys(ways).map((w) => [w, []]));
for (let round = 0; round < rounds; round++) {
  for (const [way, argv] of Object.entries(ways)) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${way} exited ${r.status}`);
    times[way].push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tsx = median(times['tsx (src/cli/main.ts)']);
for (const [way, xs] of Object.entries(times)) {
  console.log(`${way.padEnd(28)} median ${median(xs).toFixed(0)} ms over ${xs.length} runs; tsx / this = ${(tsx / median(xs)).toFixed(2)}`);
}
