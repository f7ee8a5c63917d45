// Validates a credential against a JSON Schema (draft 2019-09) with Ajv, a JSON-Schema validator
// that shares no code with the platform.
// Usage: node schema.mjs SCHEMA.json CREDENTIAL.json   → prints "valid" (exit 0) or the errors (exit 1).
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

const [schemaFile, credentialFile] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const ajv = new Ajv2019({ allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);
if (validate(credential)) {
  console.log('valid');
} else {
  console.log(`INVALID: ${JSON.stringify(validate.errors, null, 1)}`);
  process.exit(1);
}
