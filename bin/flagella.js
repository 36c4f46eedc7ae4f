#!/usr/bin/env node
// The `flagella` command. Runs the TypeScript sources through tsx's loader, so
// a checkout works without a build step; `npm run build` produces dist/ for
// consumers that import the library without tsx.
import { register } from 'tsx/esm/api';

register();
await import('../agent/cli/main.ts');
