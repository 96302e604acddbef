// Package metrics owns the worker's Prometheus exposition: one registry that
// carries the Temporal SDK's client and worker metrics (through
// go.temporal.io/sdk/contrib/tally), Go runtime and process metrics, and the
// bridge's own measurements, served as text on /metrics.
//
// Other packages record through the small Recorder interface, so they never
// import Prometheus types; tests and binaries without metrics pass Nop{}.
//
// Metric names (all counters end in _total, durations are seconds):
//
//	liveagent_accept_latency_seconds     histogram: session start → an agent accepted
//	liveagent_accept_timeouts_total      sessions closed because no agent accepted in time
//	liveagent_stream_reconnects_total    SSE stream (re)connections after a drop
//	liveagent_duplicates_dropped_total   duplicate Salesforce events dropped by dedupe
//	liveagent_attachment_failures_total  attachment downloads/uploads that failed
//	liveagent_token_requests_total       access-token requests sent to Salesforce
//	temporal_*                           Temporal SDK metrics, unprefixed so the
//	                                     official SDK dashboards work as is
//	go_*, process_*                      Go runtime and process (RSS, CPU, fds)
package metrics
