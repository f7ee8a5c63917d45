// Verifies a Data Integrity proof (cryptosuite eddsa-jcs-2022) on a credential, with the key the
// issuer publishes in its DID document, using none of the platform's code.
// Usage: node verify.mjs CREDENTIAL.json DID.json   → prints "valid" (exit 0) or why not (exit 1).
import canonicalize from 'canonicalize';
import bs58 from 'bs58';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [credentialFile, didFile] = process.argv.slice(2);
const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const didDocument = JSON.parse(readFileSync(didFile, 'utf8'));
const fail = (why) => { console.log(`INVALID: ${why}`); process.exit(1); };

const { proof, ...document } = credential;
if (!proof) fail('no proof');
// A proof set (array), as 1EdTech's schema asks, or one proof object (credentials issued before):
// each proof signs the document without `proof`.
const proofs = Array.isArray(proof) ? proof : [proof];
if (proofs.length === 0) fail('empty proof set');
const sha256 = (value) => createHash('sha256').update(canonicalize(value), 'utf8').digest();
for (const one of proofs) {
  const { proofValue, ...config } = one;
  if (config.type !== 'DataIntegrityProof' || config.cryptosuite !== 'eddsa-jcs-2022') fail('not an eddsa-jcs-2022 proof');
  if (canonicalize(config['@context']) !== canonicalize(document['@context'])) fail('proof context differs');
  const method = (didDocument.verificationMethod || []).find((m) => m.id === config.verificationMethod);
  if (!method) fail(`key ${config.verificationMethod} is not published`);
  const multikey = bs58.decode(method.publicKeyMultibase.slice(1));
  if (method.publicKeyMultibase[0] !== 'z' || multikey[0] !== 0xed || multikey[1] !== 0x01) fail('not an Ed25519 multikey');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(multikey.slice(2)).toString('base64url') },
    format: 'jwk',
  });
  const signed = Buffer.concat([sha256(config), sha256(document)]);
  const signature = Buffer.from(bs58.decode(proofValue.slice(1)));
  if (!verify(null, signed, key, signature)) fail('signature does not match');
}
console.log('valid');
