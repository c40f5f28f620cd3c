// postinstall: applies src/compute/patches to the gpu.js that charlm resolves.
// `patch-package` alone patches <cwd>/node_modules, which is right in a clone but
// not when charlm is itself a dependency: npm runs this from node_modules/charlm,
// while gpu.js is usually hoisted to the project's node_modules. So patch-package
// runs from the folder that holds the gpu.js charlm actually loads, with the
// patch folder named relative to it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const gpujs = dirname(require.resolve('gpu.js/package.json'));
const root = dirname(dirname(gpujs));
const patches = fileURLToPath(new URL('../src/compute/patches', import.meta.url));
const result = spawnSync(process.execPath, [require.resolve('patch-package/index.js'), '--patch-dir', relative(root, patches)], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
