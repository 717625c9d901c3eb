# shellcheck shell=bash
# The configuration files of the network, written from the layout alone (no Fabric binaries):
# cryptogen's crypto-config.yaml, configtxgen's configtx.yaml, and network.json, which tells
# `npm run deploy -- --target fabric` where each org's peer, admin MSP and TLS roots are.

write_crypto_config() {
  local f="$NET_DIR/crypto-config.yaml" i
  {
    echo "OrdererOrgs:"
    echo "  - Name: Orderer"
    echo "    Domain: example.com"
    echo "    EnableNodeOUs: true"
    echo "    Specs:"
    echo "      - Hostname: orderer"
    echo "        SANS: [localhost, $HOST]"
    echo "PeerOrgs:"
    for ((i = 1; i <= ORGS; i++)); do
      echo "  - Name: Org$i"
      echo "    Domain: $(org_domain "$i")"
      echo "    EnableNodeOUs: true"
      echo "    Template:"
      echo "      Count: 1"
      echo "      SANS: [localhost, $HOST]"
      echo "    Users:"
      echo "      Count: 1"
    done
  } >"$f"
}

# One org's MSP section of configtx.yaml: NodeOU-based policies as cryptogen's EnableNodeOUs issues them.
# The orderer org's Readers and Writers are its members: the orderer signs each block with its own
# identity (role orderer), and peers check that signature against /Channel/Orderer/Writers.
configtx_org() {
  local name=$1 msp=$2 mspdir=$3 readers writers
  if [ "$msp" = OrdererMSP ]; then
    readers="OR('$msp.member')"
    writers="OR('$msp.member')"
  else
    readers="OR('$msp.admin', '$msp.peer', '$msp.client')"
    writers="OR('$msp.admin', '$msp.client')"
  fi
  cat <<YAML
  - &$name
    Name: $msp
    ID: $msp
    MSPDir: $mspdir
    Policies:
      Readers: {Type: Signature, Rule: "$readers"}
      Writers: {Type: Signature, Rule: "$writers"}
      Admins: {Type: Signature, Rule: "OR('$msp.admin')"}
YAML
  [ "$msp" = OrdererMSP ] || echo "      Endorsement: {Type: Signature, Rule: \"OR('$msp.peer')\"}"
}

write_configtx() {
  local f="$NET_DIR/configtx.yaml" i
  {
    echo "Organizations:"
    configtx_org OrdererOrg OrdererMSP "$(orderer_org_dir)/msp"
    echo "    OrdererEndpoints: [$HOST:$(orderer_port)]"
    for ((i = 1; i <= ORGS; i++)); do
      configtx_org "Org$i" "$(org_msp "$i")" "$(org_dir "$i")/msp"
      # anchor peers in the channel's first block: gossip finds the other orgs' peers from it
      echo "    AnchorPeers: [{Host: $HOST, Port: $(peer_port "$i")}]"
    done
    cat <<YAML
Capabilities:
  Channel: &ChannelCapabilities {V2_0: true}
  Orderer: &OrdererCapabilities {V2_0: true}
  Application: &ApplicationCapabilities {V2_5: true}
Profiles:
  TraceChannel:
    Capabilities: *ChannelCapabilities
    Policies:
      Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
      Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
      Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
    Orderer:
      OrdererType: etcdraft
      # fabric-samples' test-network sizes: a block is cut at 10 transactions, so a client with a few
      # dozen in flight does not wait out the 2 s timeout on every block (500 gave 12 tx/s at concurrency 32)
      BatchTimeout: 2s
      BatchSize: {MaxMessageCount: 10, AbsoluteMaxBytes: 99 MB, PreferredMaxBytes: 512 KB}
      EtcdRaft:
        Consenters:
          - Host: $HOST
            Port: $(orderer_port)
            ClientTLSCert: $(orderer_dir)/tls/server.crt
            ServerTLSCert: $(orderer_dir)/tls/server.crt
      Organizations: [*OrdererOrg]
      Capabilities: *OrdererCapabilities
      Policies:
        Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
        Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
        Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
        BlockValidation: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Application:
      Capabilities: *ApplicationCapabilities
      Policies:
        Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
        Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
        Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
        LifecycleEndorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
        Endorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
YAML
    local members=()
    for ((i = 1; i <= ORGS; i++)); do members+=("*Org$i"); done
    echo "      Organizations: [$(IFS=,; echo "${members[*]}")]"
  } >"$f"
}

# network.json (or the file given): the orderer, and each org's peer, admin MSP and TLS roots.
write_network_json() {
  local f=${1:-$NET_DIR/network.json} i sep
  {
    echo "{"
    echo "  \"channel\": \"$CHANNEL\","
    echo "  \"orderer\": {\"address\": \"$HOST:$(orderer_port)\", \"hostOverride\": \"orderer.example.com\", \"tlsRootCert\": \"$(orderer_tls_ca)\"},"
    echo "  \"orgs\": ["
    for ((i = 1; i <= ORGS; i++)); do
      sep=','
      [ "$i" -lt "$ORGS" ] || sep=''

      echo "    {\"mspId\": \"$(org_msp "$i")\", \"peer\": \"$HOST:$(peer_port "$i")\", \"peerHostOverride\": \"$(peer_name "$i")\", \"tlsRootCert\": \"$(org_tls_ca "$i")\", \"adminMsp\": \"$(org_admin_msp "$i")\"}$sep"
    done
    echo "  ]"
    echo "}"
  } >"$f"
}

# A PEM file as one JSON string (newlines escaped).
pem_json() { awk 'NF { sub(/\r$/, ""); printf "%s\\n", $0 }' "$1"; }

# connection-org<i>.json in the directory given (default $NET_DIR): Fabric's common connection
# profile as fabric-samples' test-network writes it, plus the x-trace section naming the channel, the
# chaincode and the org's identities (paths relative to the profile when it sits in $NET_DIR).
write_profiles() {
  local out=${1:-$NET_DIR} i org peer root=""
  [ "$out" = "$NET_DIR" ] || root="$NET_DIR/"
  for ((i = 1; i <= ORGS; i++)); do
    org="Org$i"
    peer=$(peer_name "$i")
    cat >"$out/connection-org$i.json" <<JSON
{
  "name": "trace-network-org$i",
  "version": "1.0.0",
  "client": {"organization": "$org", "connection": {"timeout": {"peer": {"endorser": "300"}}}},
  "organizations": {"$org": {"mspid": "$(org_msp "$i")", "peers": ["$peer"]}},
  "peers": {
    "$peer": {
      "url": "grpcs://$HOST:$(peer_port "$i")",
      "tlsCACerts": {"pem": "$(pem_json "$(org_tls_ca "$i")")"},
      "grpcOptions": {"ssl-target-name-override": "$peer", "hostnameOverride": "$peer"}
    }
  },
  "channels": {"$CHANNEL": {}},
  "x-trace": {
    "channel": "$CHANNEL",
    "chaincode": "${CHAINCODE_NAME:-trace}",
    "identities": {"$(org_msp "$i")": {
      "Admin": {"mspDir": "${root}organizations/peerOrganizations/$(org_domain "$i")/users/Admin@$(org_domain "$i")/msp"},
      "User1": {"mspDir": "${root}organizations/peerOrganizations/$(org_domain "$i")/users/User1@$(org_domain "$i")/msp"}
    }}
  }
}
JSON
  done
}
