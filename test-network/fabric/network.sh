#!/usr/bin/env bash
# A real Fabric 2.5 network from the release binaries, without Docker: N peer orgs (one peer each),
# one Raft orderer joined through the channel participation API, TLS everywhere, one channel, the
# ccaas external builder in every peer's core.yaml. See README.md in this directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/layout.sh
. "$HERE/lib/layout.sh"
# shellcheck source=lib/generate.sh
. "$HERE/lib/generate.sh"

usage() {
  cat <<USAGE
usage: network.sh up       [--orgs N] [--channel NAME] [--dir DIR] [--port-base P]
       network.sh down     [--dir DIR]
       network.sh generate [--orgs N] [--channel NAME] [--dir DIR] [--port-base P]
       network.sh profiles [--orgs N] [--channel NAME] [--dir DIR] [--port-base P]
       network.sh samples  <fabric-samples/test-network> [--channel mychannel] [--out DIR]
  up        cryptogen, channel block, orderer + peers as processes, channel joined, gossip checked,
            connection-org<i>.json written. Needs FABRIC_BIN (peer, orderer, configtxgen, osnadmin,
            cryptogen, discover), FABRIC_CFG (core.yaml, orderer.yaml; default FABRIC_BIN/../config)
            and CCAAS_BUILDER (default FABRIC_BIN/../builders/ccaas).
  down      stops the processes 'up' started (their pid files) and removes DIR.
  generate  writes crypto-config.yaml, configtx.yaml and network.json only (no binaries).
  profiles  writes connection-org<i>.json again from DIR's crypto material (no binaries).
  samples   for fabric-samples' Docker test-network (network.sh up createChannel): writes network.json
            (npm run deploy -- --target fabric --network FILE) and connection profiles with the x-trace
            section into DIR (default test-network/fabric/.samples), nothing into fabric-samples.
  defaults: --orgs 2, --channel tracechannel, --dir test-network/fabric/.network, --port-base 7040
USAGE
}

# fail CODE MESSAGE [EXIT]: a stable code for tests and scripts; exit 2 for bad arguments.
fail() {
  echo "network.sh: [$1] $2" >&2
  exit "${3:-2}"
}

ORGS=2
NET_DIR="$HERE/.network"
OUT=""
SAMPLES=""

parse_args() {
  while (($#)); do
    case $1 in
      --orgs) ORGS=${2:-}; shift 2 || fail ERR_ARGS "--orgs wants a number" ;;
      --channel) CHANNEL=${2:-}; shift 2 || fail ERR_ARGS "--channel wants a name" ;;
      --dir) NET_DIR=${2:-}; shift 2 || fail ERR_ARGS "--dir wants a directory" ;;
      --port-base) PORT_BASE=${2:-}; shift 2 || fail ERR_ARGS "--port-base wants a port" ;;
      --out) OUT=${2:-}; shift 2 || fail ERR_ARGS "--out wants a directory" ;;
      -h | --help) usage; exit 0 ;;
      -*) fail ERR_ARGS "unknown option $1" ;;
      *)
        if [ "$CMD" != samples ] || [ -n "$SAMPLES" ]; then fail ERR_ARGS "unexpected argument $1"; fi
        SAMPLES=$1
        shift
        ;;
    esac
  done
  [[ $ORGS =~ ^[1-9]$ ]] || fail ERR_ARGS "--orgs must be 1 to 9, got '$ORGS'"
  # Fabric channel names: lower case, start with a letter, at most 249 characters
  [[ $CHANNEL =~ ^[a-z][a-z0-9.-]{0,248}$ ]] || fail ERR_ARGS "--channel must be lower case letters, digits, '.' or '-', starting with a letter; got '$CHANNEL'"
  if ! [[ $PORT_BASE =~ ^[0-9]+$ ]] || ((PORT_BASE < 1024 || PORT_BASE + 10 * ORGS + 3 > 65535)); then
    fail ERR_ARGS "--port-base must leave room for the network's ports within 1024-65535; got '$PORT_BASE'"
  fi
}

# the network directory as an absolute path (the configuration files name absolute paths)
make_net_dir() { NET_DIR=$(mkdir -p "$NET_DIR" && cd "$NET_DIR" && pwd); }

check_binaries() {
  [ -n "${FABRIC_BIN:-}" ] || fail ERR_FABRIC_BIN "set FABRIC_BIN to the bin/ directory of a Fabric 2.5 release"
  local b
  for b in peer orderer configtxgen osnadmin cryptogen discover; do
    [ -x "$FABRIC_BIN/$b" ] || fail ERR_FABRIC_BIN "$FABRIC_BIN/$b is missing or not executable"
  done
  : "${FABRIC_CFG:=$FABRIC_BIN/../config}"
  : "${CCAAS_BUILDER:=$FABRIC_BIN/../builders/ccaas}"
  for b in core.yaml orderer.yaml; do [ -f "$FABRIC_CFG/$b" ] || fail ERR_FABRIC_CFG "$FABRIC_CFG/$b is missing (set FABRIC_CFG to the release's config/)"; done
  for b in detect build release; do [ -x "$CCAAS_BUILDER/bin/$b" ] || fail ERR_CCAAS_BUILDER "$CCAAS_BUILDER/bin/$b is missing (set CCAAS_BUILDER to the release's builders/ccaas)"; done
  CCAAS_BUILDER=$(cd "$CCAAS_BUILDER" && pwd)
  grep -q '/opt/hyperledger/ccaas_builder' "$FABRIC_CFG/core.yaml" || fail ERR_FABRIC_CFG "$FABRIC_CFG/core.yaml does not declare the ccaas_builder external builder (a Fabric 2.5 release's core.yaml does)"
}

# start NAME CMD...: runs a node in the background, its log and pid under $NET_DIR.
start() {
  local name=$1
  shift
  "$@" >"$NET_DIR/logs/$name.log" 2>&1 &
  echo $! >"$NET_DIR/pids/$name.pid"
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (30 s).
wait_port() {
  local n
  for ((n = 0; n < 60; n++)); do
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null && return 0
    sleep 0.5
  done
  fail ERR_TIMEOUT "nothing listens on $HOST:$1; see $NET_DIR/logs/" 1
}

start_orderer() {
  local d tls
  d=$(orderer_dir)
  tls="$d/tls"
  mkdir -p "$NET_DIR/orderer"
  # no system channel: channels are joined through the admin API (osnadmin)
  start orderer env FABRIC_CFG_PATH="$FABRIC_CFG" \
    ORDERER_GENERAL_LISTENADDRESS=$HOST ORDERER_GENERAL_LISTENPORT="$(orderer_port)" \
    ORDERER_GENERAL_LOCALMSPID=OrdererMSP ORDERER_GENERAL_LOCALMSPDIR="$d/msp" \
    ORDERER_GENERAL_BOOTSTRAPMETHOD=none ORDERER_CHANNELPARTICIPATION_ENABLED=true \
    ORDERER_GENERAL_TLS_ENABLED=true ORDERER_GENERAL_TLS_PRIVATEKEY="$tls/server.key" ORDERER_GENERAL_TLS_CERTIFICATE="$tls/server.crt" ORDERER_GENERAL_TLS_ROOTCAS="[$tls/ca.crt]" \
    ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$tls/server.crt" ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$tls/server.key" ORDERER_GENERAL_CLUSTER_ROOTCAS="[$tls/ca.crt]" \
    ORDERER_ADMIN_LISTENADDRESS="$HOST:$(orderer_admin_port)" ORDERER_ADMIN_TLS_ENABLED=true \
    ORDERER_ADMIN_TLS_PRIVATEKEY="$tls/server.key" ORDERER_ADMIN_TLS_CERTIFICATE="$tls/server.crt" ORDERER_ADMIN_TLS_ROOTCAS="[$tls/ca.crt]" \
    ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$tls/ca.crt]" \
    ORDERER_FILELEDGER_LOCATION="$NET_DIR/orderer/ledger" ORDERER_CONSENSUS_WALDIR="$NET_DIR/orderer/wal" ORDERER_CONSENSUS_SNAPDIR="$NET_DIR/orderer/snap" \
    ORDERER_OPERATIONS_LISTENADDRESS="$HOST:$(orderer_ops_port)" ORDERER_METRICS_PROVIDER=disabled \
    "$FABRIC_BIN/orderer"
}

# The peer's own core.yaml: the release's, with the ccaas builder at its path on this machine.
peer_config() {
  local cfg="$NET_DIR/peers/org$1"
  mkdir -p "$cfg"
  sed "s#/opt/hyperledger/ccaas_builder#$CCAAS_BUILDER#" "$FABRIC_CFG/core.yaml" >"$cfg/core.yaml"
  echo "$cfg"
}

start_peer() {
  local i=$1 d cfg addr
  d=$(peer_dir "$i")
  cfg=$(peer_config "$i")
  addr="$HOST:$(peer_port "$i")"
  # CORE_VM_ENDPOINT empty: with the default the peer waits on a Docker socket; chaincode runs as a service
  start "peer$i" env FABRIC_CFG_PATH="$cfg" CORE_VM_ENDPOINT="" \
    CORE_PEER_ID="$(peer_name "$i")" CORE_PEER_LOCALMSPID="$(org_msp "$i")" CORE_PEER_MSPCONFIGPATH="$d/msp" \
    CORE_PEER_ADDRESS="$addr" CORE_PEER_LISTENADDRESS="$addr" \
    CORE_PEER_CHAINCODEADDRESS="$HOST:$(peer_cc_port "$i")" CORE_PEER_CHAINCODELISTENADDRESS="$HOST:$(peer_cc_port "$i")" \
    CORE_PEER_GOSSIP_BOOTSTRAP="$addr" CORE_PEER_GOSSIP_EXTERNALENDPOINT="$addr" \
    CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_CERT_FILE="$d/tls/server.crt" CORE_PEER_TLS_KEY_FILE="$d/tls/server.key" CORE_PEER_TLS_ROOTCERT_FILE="$d/tls/ca.crt" \
    CORE_PEER_FILESYSTEMPATH="$cfg/data" CORE_LEDGER_SNAPSHOTS_ROOTDIR="$cfg/data/snapshots" CORE_LEDGER_STATE_STATEDATABASE=goleveldb \
    CORE_OPERATIONS_LISTENADDRESS="$HOST:$(peer_ops_port "$i")" CORE_METRICS_PROVIDER=disabled \
    "$FABRIC_BIN/peer" node start
}

# as_admin I CMD...: a peer CLI command as org I's admin against its peer.
as_admin() {
  local i=$1
  shift
  FABRIC_CFG_PATH="$NET_DIR/peers/org$i" CORE_PEER_LOCALMSPID="$(org_msp "$i")" CORE_PEER_MSPCONFIGPATH="$(org_admin_msp "$i")" \
    CORE_PEER_ADDRESS="$HOST:$(peer_port "$i")" CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_ROOTCERT_FILE="$(org_tls_ca "$i")" "$@"
}

# Gossip must know every org's peer before a policy over several orgs can be satisfied: until then
# the gateway answers "no combination of peers can be derived which satisfy the endorsement policy".
wait_membership() {
  local i n seen admin
  for ((i = 1; i <= ORGS; i++)); do
    admin=$(org_admin_msp "$i")
    for ((n = 0; n < 120; n++)); do
      seen=$("$FABRIC_BIN/discover" peers --channel "$CHANNEL" --server "$HOST:$(peer_port "$i")" --peerTLSCA "$(org_tls_ca "$i")" \
        --userKey "$(ls "$admin"/keystore/*)" --userCert "$(ls "$admin"/signcerts/*)" --MSP "$(org_msp "$i")" 2>/dev/null | grep -c '"MSPID"' || true)
      [ "$seen" -ge "$ORGS" ] && break
      sleep 1
    done
    [ "$seen" -ge "$ORGS" ] || fail ERR_TIMEOUT "$(peer_name "$i") sees $seen of $ORGS peers on $CHANNEL after 120 s; see $NET_DIR/logs/" 1
    echo "  $(peer_name "$i") sees all $ORGS orgs' peers"
  done
}

up() {
  check_binaries
  make_net_dir
  [ ! -d "$NET_DIR/pids" ] || fail ERR_RUNNING "a network is already up in $NET_DIR: run network.sh down --dir $NET_DIR first"
  mkdir -p "$NET_DIR/logs" "$NET_DIR/pids"
  generate
  echo "crypto material (cryptogen)"
  "$FABRIC_BIN/cryptogen" generate --config="$NET_DIR/crypto-config.yaml" --output="$NET_DIR/organizations" >/dev/null
  echo "channel $CHANNEL: first block (configtxgen)"
  "$FABRIC_BIN/configtxgen" -configPath "$NET_DIR" -profile TraceChannel -channelID "$CHANNEL" -outputBlock "$NET_DIR/$CHANNEL.block" 2>>"$NET_DIR/logs/configtxgen.log"
  echo "orderer on $HOST:$(orderer_port), joined through its admin API (osnadmin)"
  start_orderer
  wait_port "$(orderer_admin_port)"
  local tls i
  tls=$(orderer_admin_tls)
  "$FABRIC_BIN/osnadmin" channel join --channelID "$CHANNEL" --config-block "$NET_DIR/$CHANNEL.block" -o "$HOST:$(orderer_admin_port)" \
    --ca-file "$(orderer_tls_ca)" --client-cert "$tls/client.crt" --client-key "$tls/client.key" >/dev/null
  for ((i = 1; i <= ORGS; i++)); do
    echo "$(peer_name "$i") on $HOST:$(peer_port "$i")"
    start_peer "$i"
  done
  for ((i = 1; i <= ORGS; i++)); do
    wait_port "$(peer_port "$i")"
    as_admin "$i" "$FABRIC_BIN/peer" channel join -b "$NET_DIR/$CHANNEL.block" 2>>"$NET_DIR/logs/cli.log"
  done
  echo "waiting for gossip membership"
  wait_membership
  write_profiles
  echo "network up in $NET_DIR
  connection profiles  $NET_DIR/connection-org<1..$ORGS>.json
  deploy               npm run deploy -- --target fabric --network $NET_DIR/network.json
  stop                 test-network/fabric/network.sh down --dir $NET_DIR"
}

down() {
  local f pid
  [ -d "$NET_DIR" ] || fail ERR_NO_NETWORK "no network in $NET_DIR"
  if [ -d "$NET_DIR/pids" ]; then
    for f in "$NET_DIR"/pids/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
    done
    sleep 1
  fi
  rm -rf "$NET_DIR"
  echo "network in $NET_DIR removed"
}

generate() {
  make_net_dir
  write_crypto_config
  write_configtx
  write_network_json
}

profiles() {
  make_net_dir
  local i
  for ((i = 1; i <= ORGS; i++)); do [ -f "$(org_tls_ca "$i")" ] || fail ERR_NO_NETWORK "$(org_tls_ca "$i") is missing: run network.sh up first"; done
  write_profiles
  echo "wrote $NET_DIR/connection-org<1..$ORGS>.json"
}

# fabric-samples' test-network: org1 and org2 (peers on 7051 and 9051), orderer on 7050, its
# organizations/ tree; network.json and the profiles are written outside fabric-samples.
samples() {
  [ -n "$SAMPLES" ] || fail ERR_ARGS "samples wants the path of fabric-samples/test-network"
  [ -d "$SAMPLES/organizations/peerOrganizations" ] || fail ERR_SAMPLES "$SAMPLES/organizations/peerOrganizations is missing: run ./network.sh up createChannel there first"
  NET_DIR=$(cd "$SAMPLES" && pwd)
  ORGS=2
  HOST=localhost
  orderer_port() { echo 7050; }
  peer_port() { if [ "$1" = 1 ]; then echo 7051; else echo 9051; fi; }
  OUT=$(mkdir -p "${OUT:-$HERE/.samples}" && cd "${OUT:-$HERE/.samples}" && pwd)
  write_network_json "$OUT/network.json"
  write_profiles "$OUT"
  echo "wrote $OUT/network.json and $OUT/connection-org<1,2>.json"
}

CMD=""
main() {
  CMD=${1:-}
  [ $# -eq 0 ] || shift
  case $CMD in
    up | down | generate | profiles) parse_args "$@"; "$CMD" ;;
    samples) CHANNEL=mychannel; parse_args "$@"; samples ;;
    -h | --help | help) usage ;;
    *) usage >&2; fail ERR_ARGS "unknown command '${CMD}'" ;;
  esac
}

main "$@"
