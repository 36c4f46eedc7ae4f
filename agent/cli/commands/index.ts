// The command registry: every command group of `flagella`, one module per
// file. Add a module here to add a group (lb, policy, status, ...).
import type { CommandModule } from '../context.js';
import { dbCommands } from './db.js';
import { lbCommands } from './lb.js';

export const commandModules: readonly CommandModule[] = [dbCommands, lbCommands];
