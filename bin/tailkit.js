#!/usr/bin/env node
// The tailkit command; built from src/cli by `npm run build`.
import { main } from "../dist/src/cli/index.js";

await main(process.argv);
