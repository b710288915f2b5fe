#!/usr/bin/env bash
# OpenSPP's public DCI compliance suite (spdci-compliance), Social Registry profile, against `tepat serve`.
#
#   bench/dci_compliance.sh /path/to/spdci-compliance [FAMILIES]
#
# The suite is not part of tepat: pass a checkout of https://github.com/OpenSPP/spdci-compliance (its npm
# dependencies are installed into it with `npm ci` when missing). This script builds a small synthetic city
# (`tepat demo --no-serve`), registers two DCI clients (one without a key; one with an Ed25519 key, for the
# signature scenario), serves tepat on a free port and runs the suite twice:
#
#   1. @profile=sr-registry and not @signature, with the keyless client's token (callbacks to the suite's
#      receiver on 127.0.0.1:3336, the prefix registered for the client);
#   2. @profile=sr-registry and @signature, with the signed client's token (the suite sends an invalid
#      signature; tepat must refuse it). The suite cannot compute real signatures, so the keyless run is the
#      one that exercises every other scenario (docs/dci.md, "Conformance").
#
# Prints the suite's summaries; exits non-zero when either run fails.
set -euo pipefail

SUITE=$(cd "${1:?usage: bench/dci_compliance.sh SPDCI_COMPLIANCE_DIR [FAMILIES]}" && pwd)
FAMILIES=${2:-1000}
WORK=$(mktemp -d)
DB="sqlite:///$WORK/demo.sqlite"
CALLBACK_PORT=3336
trap 'kill ${SERVER:-0} 2>/dev/null || true; rm -rf "$WORK"' EXIT

tepat demo --families "$FAMILIES" --db-file "$WORK/demo.sqlite" --no-serve > "$WORK/demo.txt"
plain=$(tepat dci client add compliance --role verifikator --area 32.75 \
  --callback-url "http://127.0.0.1:$CALLBACK_PORT" --db "$DB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
python3 - "$WORK/key.pub" <<'EOF'
import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
open(sys.argv[1], "w").write(base64.b64encode(key).decode())
EOF
signed=$(tepat dci client add compliance-signed --role verifikator --area 32.75 \
  --callback-url "http://127.0.0.1:$CALLBACK_PORT" --public-key "$WORK/key.pub" --db "$DB" --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tepat serve --port "$PORT" --db "$DB" > "$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/masuk" && break
  sleep 0.2
done

[ -d "$SUITE/node_modules" ] || (cd "$SUITE" && npm ci --no-audit --no-fund > /dev/null)
run() {
  (cd "$SUITE" && DOMAIN=social API_BASE_URL="http://127.0.0.1:$PORT/dci/" DCI_AUTH_TOKEN="$1" \
    CALLBACK_SERVER_ENABLED=true CALLBACK_SERVER_HOST=127.0.0.1 CALLBACK_SERVER_PORT=$CALLBACK_PORT \
    CALLBACK_WAIT_MS=30000 QUIET_LOGS=1 npx cucumber-js --tags "$2" --format summary)
}
status=0
echo "== @profile=sr-registry and not @signature (client without a key)"
run "$plain" '@profile=sr-registry and not @signature' || status=1
echo "== @profile=sr-registry and @signature (client with an Ed25519 key)"
run "$signed" '@profile=sr-registry and @signature' || status=1
exit $status
