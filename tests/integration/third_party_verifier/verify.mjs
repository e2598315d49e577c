// node verify.mjs DOCS.json: verifies DOCS.json's "credential" with Digital Bazaar's libraries,
// offline: the document loader serves the contexts Academy vendors and the documents in
// DOCS.json's "served" (URL -> what the app answers there), and refuses anything else.
// Prints {"verified": bool, "revoked": bool | null, "error": string | null}.
import fs from 'node:fs';
import path from 'node:path';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const CONTEXTS = path.resolve(import.meta.dirname, '../../../academy_app/infra/jsonld_contexts');
const FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-context-3.0.3.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};
const docs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

async function documentLoader(url) {
  if (FILES[url]) {
    const document = JSON.parse(fs.readFileSync(path.join(CONTEXTS, FILES[url]), 'utf8'));
    return {contextUrl: null, documentUrl: url, document};
  }
  // Over HTTP a fragment is not sent: the server answers for the URL without it.
  const document = docs.served[url.split('#')[0]];
  if (!document) throw new Error(`offline: nothing served at ${url}`);
  return {contextUrl: null, documentUrl: url, document};
}

const result = await vc.verifyCredential({
  credential: docs.credential,
  suite: new DataIntegrityProof({cryptosuite}),
  documentLoader,
  checkStatus,
});
const status = result.statusResult?.results?.[0]?.status ?? result.statusResult?.status;
console.log(JSON.stringify({
  verified: result.verified,
  revoked: typeof status === 'boolean' ? status : null,
  error: result.error ? String(result.error.errors?.[0] ?? result.error) : null,
}));
