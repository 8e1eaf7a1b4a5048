"""Records the OpenAPI document of the real binary into fixtures/openapi.json.

    python tests/delivery/record_openapi.py     # after `make build`, with PostgreSQL running

The fake API of the deploy-script tests answers from this file; test_openapi_contract.py fails when
the binary's document and the fixture disagree, which is when to run this again.
"""

import json
import sys

from live_api import BINARY, fetch_openapi, serve
from openapi_fake import FIXTURE

if __name__ == "__main__":
    if not BINARY.exists():
        sys.exit(f"{BINARY} does not exist: run `make build` (or set FLIGHTDECK_BIN)")
    with serve() as url:
        document = fetch_openapi(url)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"recorded {len(document.get('paths', {}))} paths from {BINARY} into {FIXTURE}")
