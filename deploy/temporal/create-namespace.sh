#!/bin/sh
# One-shot (temporalio/admin-tools): create the namespace and register the
# live-agent custom search attributes (workflows.SearchAttributes). The worker
# also registers them at start when it has operator rights; this script makes
# the cluster ready before any worker runs. Idempotent.
set -eu

NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"

echo "waiting for Temporal at $ADDRESS"
attempt=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $ADDRESS is not healthy after 60 attempts" >&2
    exit 1
  fi
  sleep 2
done

temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention 7d

# Keep in sync with workflows.SearchAttributes().
for sa in LiveAgentState LiveAgentTopic LiveAgentUser LiveAgentConversationId; do
  if temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE" | grep -qw "$sa"; then
    echo "search attribute $sa already registered"
  else
    temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" --name "$sa" --type Keyword
  fi
done
echo "namespace $NAMESPACE is ready"
