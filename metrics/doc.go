// Package metrics owns the worker's Prometheus exposition: one registry that
// carries the Temporal SDK's client and worker metrics (through
// go.temporal.io/sdk/contrib/tally), the bridge's own measurements, and Go
// runtime and process metrics, served as text on /metrics.
//
// The bridge's own metrics go through the same SDK handler: the session
// workflow emits through workflow.GetMetricsHandler (replay-aware: nothing is
// emitted while a history is replayed, and emitting writes no history) and
// the activities through activity.GetMetricsHandler, so every series carries
// the SDK's namespace, task_queue and workflow_type (activities also
// activity_type) labels. Collectors over in-process counters (the MIAW
// client's and the listeners', see package app) are added with Prometheus().
// The tally scope names metrics the Prometheus way: counters get _total,
// timers become _seconds histograms (buckets 1 ms to 30 min), and label
// values are sanitized ("-" becomes "_", so reason="accept-timeout" is
// exported as reason="accept_timeout").
//
// Metric names on /metrics:
//
//	liveagent_accept_latency_seconds          histogram: waiting for an agent → an agent accepted (workflow)
//	liveagent_accept_timeouts_total           sessions no agent accepted within the accept timeout (workflow)
//	liveagent_no_routing_result_total         sessions closed because Salesforce said nothing about routing in time (workflow)
//	liveagent_duplicate_events_dropped_total  agent events dropped because their entry id was already handled (workflow)
//	liveagent_sessions_closed_total{reason}   closed sessions by close reason (workflow)
//	liveagent_survey_ratings_total{rating}    post-chat surveys recorded, by rating 1-5 (workflow)
//	liveagent_history_imports_total{result="imported|attached_file"}
//	                                          Conversation History API imports, or the transcript file attached instead (workflow)
//	liveagent_attachment_failures_total{direction="agent_to_user|user_to_agent"}
//	                                          failed attachment download/upload attempts (activities)
//	liveagent_unsupported_content_total{content_type}
//	                                          agent messages of a type the bridge cannot show, delivered as a notice (listener)
//	liveagent_miaw_*, liveagent_listener_*    MIAW client and SSE listener counters (package app)
//	temporal_*                                Temporal SDK metrics, unprefixed so the
//	                                          official SDK dashboards work as is
//	go_*, process_*                           Go runtime and process (RSS, CPU, fds)
//
// Series emitted through the SDK handler appear on the first emission (and
// counters within one report interval), not at zero on startup.
package metrics
