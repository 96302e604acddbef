package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Metric names the session workflow emits through workflow.GetMetricsHandler,
// which tags them with namespace, task_queue and workflow_type and drops them
// while a history is replayed, so each is emitted once per event however
// often the workflow is replayed. Emitting writes no history. The worker's
// Prometheus scope names them the Prometheus way (counters get _total,
// timers become _seconds histograms; see package metrics).
const (
	// MetricAcceptLatency is a timer: from the session starting to wait for
	// an agent (the description was sent) until an agent accepted.
	MetricAcceptLatency = "liveagent_accept_latency"
	// MetricAcceptTimeouts counts sessions in which no agent accepted within
	// Settings.AcceptTimeout.
	MetricAcceptTimeouts = "liveagent_accept_timeouts"
	// MetricNoRoutingResult counts sessions closed because Salesforce sent
	// no routing result within Settings.RoutingResultTimeout.
	MetricNoRoutingResult = "liveagent_no_routing_result"
	// MetricDuplicateEventsDropped counts agent events dropped because their
	// EntryID was already handled (a resumed stream or retried listener).
	MetricDuplicateEventsDropped = "liveagent_duplicate_events_dropped"
	// MetricSessionsClosed counts closed sessions, tagged with
	// MetricTagReason (a CloseReason).
	MetricSessionsClosed = "liveagent_sessions_closed"
	// MetricTagReason is the tag carrying the CloseReason of
	// MetricSessionsClosed.
	MetricTagReason = "reason"
)

// recordAcceptLatency records the wait for an agent, once, when one accepted.
// A session without a known start of the wait records nothing.
func recordAcceptLatency(ctx workflow.Context, waitingSince time.Time) {
	if waitingSince.IsZero() {
		return
	}
	if d := workflow.Now(ctx).Sub(waitingSince); d >= 0 {
		workflow.GetMetricsHandler(ctx).Timer(MetricAcceptLatency).Record(d)
	}
}

// countAcceptTimeout counts a session no agent accepted in time.
func countAcceptTimeout(ctx workflow.Context) {
	workflow.GetMetricsHandler(ctx).Counter(MetricAcceptTimeouts).Inc(1)
}

// countNoRoutingResult counts a session routing never answered for.
func countNoRoutingResult(ctx workflow.Context) {
	workflow.GetMetricsHandler(ctx).Counter(MetricNoRoutingResult).Inc(1)
}

// countDuplicateEventDropped counts an agent event dropped as already handled.
func countDuplicateEventDropped(ctx workflow.Context) {
	workflow.GetMetricsHandler(ctx).Counter(MetricDuplicateEventsDropped).Inc(1)
}

// countSessionClosed counts a closed session by reason.
func countSessionClosed(ctx workflow.Context, reason CloseReason) {
	workflow.GetMetricsHandler(ctx).
		WithTags(map[string]string{MetricTagReason: string(reason)}).
		Counter(MetricSessionsClosed).Inc(1)
}
