// The command registry: every command group of `flagella`, one module per
// file. Add a module here to add a group.
import type { CommandModule } from '../context.js';
import { agentCommands } from './agent.js';
import { ctCommands } from './ct.js';
import { dbCommands } from './db.js';
import { lbCommands } from './lb.js';
import { monitorCommands } from './monitor.js';
import { policyCommands } from './policy.js';
import { replCommands } from './repl.js';
import { statusCommands } from './status.js';

export const commandModules: readonly CommandModule[] = [agentCommands, dbCommands, lbCommands, policyCommands, ctCommands, statusCommands, monitorCommands, replCommands];
