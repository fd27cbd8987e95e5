#!/usr/bin/env node
// The installed `aircall-webhook-stack` command: loads the TypeScript CLI through tsx, so it needs no build step.

import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
