// Parses an AsyncAPI document with the AsyncAPI parser (its own rules and the spec's JSON Schema)
// and prints what the parser says. Errors exit 1; warnings and hints are printed but pass.
//   node tools/asyncapi/validate.mjs [contracts/asyncapi.yaml]
import { resolve } from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const path = resolve(process.argv[2] ?? 'contracts/asyncapi.yaml');

// fromFile gives the parser the document's own path, so `schemas/<type>.json` resolves beside it.
const { document, diagnostics } = await fromFile(new Parser(), path).parse();
for (const { severity, path: where, message } of diagnostics) {
  console.log(`${SEVERITY[severity]}: ${where.join('.') || '(document)'}: ${message}`);
}
const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0).length;
if (errors || !document) {
  console.log(`${path}: not a valid AsyncAPI document (${errors} error(s))`);
  process.exit(1);
}
console.log(`${path}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
