package activities

import "github.com/liveagent-bridge/liveagent/miaw"

// The production Salesforce is the miaw client.
var _ Salesforce = (*miaw.Client)(nil)
