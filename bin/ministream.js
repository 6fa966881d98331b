#!/usr/bin/env node
// Published entry point: runs the compiled CLI (built by `npm run build`, run on `npm pack`).
import '../dist/cli.js';
