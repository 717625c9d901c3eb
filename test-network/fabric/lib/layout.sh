# shellcheck shell=bash
# Names, ports and paths of the network: one place, read by every other script.
# Org i (1-based) is Org<i>MSP with one peer, peer0.org<i>.example.com; the orderer is
# orderer.example.com (OrdererMSP). Ports from PORT_BASE (default 7040): the orderer listens on
# PORT_BASE, its admin (channel participation) API on +1, operations on +2; peer i on
# PORT_BASE+10*i+1 (7051 for org 1), its chaincode listener on +1, operations on +2.

: "${PORT_BASE:=7040}"
: "${CHANNEL:=tracechannel}"
# every node listens here (the certificates carry it as a SAN); used by the scripts that source this
# shellcheck disable=SC2034
HOST=127.0.0.1

orderer_port() { echo $((PORT_BASE)); }
orderer_admin_port() { echo $((PORT_BASE + 1)); }
orderer_ops_port() { echo $((PORT_BASE + 2)); }
peer_port() { echo $((PORT_BASE + 10 * $1 + 1)); }
peer_cc_port() { echo $((PORT_BASE + 10 * $1 + 2)); }
peer_ops_port() { echo $((PORT_BASE + 10 * $1 + 3)); }

org_domain() { echo "org$1.example.com"; }
org_msp() { echo "Org$1MSP"; }
peer_name() { echo "peer0.$(org_domain "$1")"; }

# cryptogen's output tree under $NET_DIR/organizations
org_dir() { echo "$NET_DIR/organizations/peerOrganizations/$(org_domain "$1")"; }
peer_dir() { echo "$(org_dir "$1")/peers/$(peer_name "$1")"; }
org_admin_msp() { echo "$(org_dir "$1")/users/Admin@$(org_domain "$1")/msp"; }
org_tls_ca() { echo "$(org_dir "$1")/tlsca/tlsca.$(org_domain "$1")-cert.pem"; }
orderer_org_dir() { echo "$NET_DIR/organizations/ordererOrganizations/example.com"; }
orderer_dir() { echo "$(orderer_org_dir)/orderers/orderer.example.com"; }
orderer_tls_ca() { echo "$(orderer_org_dir)/tlsca/tlsca.example.com-cert.pem"; }
orderer_admin_tls() { echo "$(orderer_org_dir)/users/Admin@example.com/tls"; }
