"""JSON-LD for signed credentials, offline: contexts come from files vendored with the app.

A credential's signature covers its RDF canonical form (RDFC-1.0, which pyld calls URDNA2015), and
that form depends on the contexts it names. Fetching them at run time would make every signature
hang on other people's servers (and let whoever answers for them change what a credential means),
so the document loader serves the files in `jsonld_contexts/` (sources and licences in its
SOURCES.md) and refuses any other URL.

Canonicalising is strict: a term no context defines would silently drop out of the canonical form,
so a signature would not cover it and anyone could change it; it is refused instead, as the Data
Integrity specification's safe mode asks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015

CONTEXTS_DIR = Path(__file__).with_name("jsonld_contexts")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
CONTEXT_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    STATUS_LIST_V1: "vc-bitstring-status-list-v1.jsonld",
    DID_V1: "did-v1.jsonld",
}

Loader = Callable[[str, Any], dict[str, Any]]


class UnknownContext(ValueError):
    """A document names a context that is not vendored: nothing is fetched."""


class UndefinedTerm(ValueError):
    """A document uses a term none of its contexts defines."""


@cache
def vendored(url: str) -> dict[str, Any]:
    name = CONTEXT_FILES.get(url)
    if name is None:
        raise UnknownContext(f"JSON-LD context {url!r} is not one of the contexts vendored in "
                             f"{CONTEXTS_DIR.name}/ (known: {', '.join(sorted(CONTEXT_FILES))}); "
                             "none is fetched from the network")
    return json.loads((CONTEXTS_DIR / name).read_text())


def document_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> Loader:
    """pyld's document loader, serving the vendored contexts (and `extra` ones: a test's)."""
    def load(url: str, _options: Any = None) -> dict[str, Any]:
        document = (extra or {}).get(url) or vendored(url)
        return {"contextUrl": None, "documentUrl": url, "document": document}
    return load


def canonicalize(document: Mapping[str, Any], loader: Loader | None = None) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document."""
    options = {"documentLoader": loader or document_loader(), "produceGeneralizedRdf": False,
               "base": ""}
    try:
        dataset = jsonld.JsonLdProcessor(on_property_dropped=_refuse).to_rdf(dict(document),
                                                                             options)
    except jsonld.JsonLdError as exc:
        raise _reason(exc) from exc
    return URDNA2015().main(dataset, {"format": "application/n-quads"})


def _refuse(term: str | None) -> None:
    raise UndefinedTerm(f"No context defines the term {term!r}")


def _reason(error: Exception) -> Exception:
    """Our own error raised deep inside pyld (an unknown context, an undefined term), else
    pyld's."""
    seen: Exception | None = error
    while seen is not None:
        if isinstance(seen, UnknownContext | UndefinedTerm):
            return seen
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "cause", None)
    return error
