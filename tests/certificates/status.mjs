// Reads a W3C Bitstring Status List credential with Node's own zlib and base64url, sharing no code
// with the platform: prints {"purpose", "bits": the number of entries, "set": {index: 0 or 1}}.
// Usage: node status.mjs LIST.json INDEX...
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const [listFile, ...indexes] = process.argv.slice(2);
const list = JSON.parse(readFileSync(listFile, 'utf8'));
const fail = (why) => { console.log(`INVALID: ${why}`); process.exit(1); };
const types = [].concat(list.type);
if (!types.includes('BitstringStatusListCredential')) fail('not a BitstringStatusListCredential');
const subject = list.credentialSubject;
if (subject.type !== 'BitstringStatusList') fail('subject is not a BitstringStatusList');
if (!subject.encodedList.startsWith('u')) fail('encodedList is not multibase base64url');
const bytes = gunzipSync(Buffer.from(subject.encodedList.slice(1), 'base64url'));
const set = {};
for (const i of indexes.map(Number)) {
  // Index 0 is the left-most bit of the first byte.
  set[i] = (bytes[Math.floor(i / 8)] >> (7 - (i % 8))) & 1;
}
console.log(JSON.stringify({ purpose: subject.statusPurpose, bits: bytes.length * 8, set }));
