// The `flagella` command's entry (loaded by bin/flagella.js). Exits
// explicitly once the command is done, so nothing (an lmdb worker, a
// forgotten timer) can keep the process alive after the output is complete.
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2));
process.exit(code);
