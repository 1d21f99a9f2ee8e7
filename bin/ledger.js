#!/usr/bin/env node
// The `ledger` command: runs the compiled CLI (`npm run build` first). Needs Node 24 (node:sqlite).
import '../dist/apps/cli/src/main.js';
