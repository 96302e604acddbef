package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// Metric names the activities emit through activity.GetMetricsHandler, which
// tags them with namespace, task_queue, activity_type and workflow_type. The
// worker's Prometheus scope adds _total to counters (see package metrics).
const (
	// MetricAttachmentFailures counts failed attachment activity attempts
	// (DownloadAttachment, SendAttachment), tagged with MetricTagDirection.
	// Every failed attempt counts, also one Temporal then retries.
	MetricAttachmentFailures = "liveagent_attachment_failures"
	// MetricTagDirection says which way the failed attachment was going:
	// DirectionAgentToUser or DirectionUserToAgent.
	MetricTagDirection = "direction"

	DirectionAgentToUser = "agent_to_user" // DownloadAttachment: Salesforce → store → user
	DirectionUserToAgent = "user_to_agent" // SendAttachment: store → Salesforce
)

// countAttachmentFailure counts err (when not nil) as a failed attachment
// transfer in direction. Outside an activity (a direct call in a test) there
// is no metrics handler and nothing is counted.
func countAttachmentFailure(ctx context.Context, direction string, err error) {
	if err == nil || !activity.IsActivity(ctx) {
		return
	}
	activity.GetMetricsHandler(ctx).
		WithTags(map[string]string{MetricTagDirection: direction}).
		Counter(MetricAttachmentFailures).Inc(1)
}
