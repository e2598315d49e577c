"""Data Integrity proofs of the `eddsa-rdfc-2022` cryptosuite (W3C Data Integrity EdDSA
Cryptosuites v1.0): what is signed is SHA-256 of the canonical proof options followed by SHA-256 of
the canonical document, both canonicalised with RDFC-1.0 (infra/jsonld.py), signed with Ed25519.
The proof value is the signature in base58btc multibase (`z…`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from academy_app.infra.issuer_keys import IssuerKey, verify
from academy_app.infra.jsonld import Loader, canonicalize
from academy_app.infra.multikey import base58_decode, base58_encode

CRYPTOSUITE = "eddsa-rdfc-2022"


def add_proof(document: Mapping[str, Any], key: IssuerKey, verification_method: str,
              created: str, loader: Loader | None = None) -> dict[str, Any]:
    """The document (without a proof of its own) with an assertion proof by `key`."""
    proof = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "created": created,
             "verificationMethod": verification_method, "proofPurpose": "assertionMethod"}
    signature = key.sign(signed_bytes(document, proof, loader))
    return {**document, "proof": {**proof, "proofValue": "z" + base58_encode(signature)}}


def proof_matches(document: Mapping[str, Any], public_key_multibase: str,
                  loader: Loader | None = None) -> bool:
    """Whether the document's eddsa-rdfc-2022 proof is a signature by this key of what it says
    now. Canonicalising errors (an unknown context, an undefined term) propagate: they say why."""
    proof = dict(document.get("proof") or {})
    if (proof.get("type"), proof.get("cryptosuite")) != ("DataIntegrityProof", CRYPTOSUITE):
        return False
    value = str(proof.pop("proofValue", ""))
    signature = base58_decode(value[1:]) if value.startswith("z") else None
    unsigned = {name: part for name, part in document.items() if name != "proof"}
    return signature is not None and verify(public_key_multibase, signature,
                                            signed_bytes(unsigned, proof, loader))


def signed_bytes(document: Mapping[str, Any], proof_options: Mapping[str, Any],
                 loader: Loader | None = None) -> bytes:
    # The proof options are canonicalised under the document's contexts: the specification's
    # "proof configuration".
    options = {**proof_options, "@context": document["@context"]}
    return (hashlib.sha256(canonicalize(options, loader).encode()).digest()
            + hashlib.sha256(canonicalize(document, loader).encode()).digest())
