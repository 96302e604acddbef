package worker

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/miaw"
)

// registerMetrics exports w's cumulative counters on reg, read at
// scrape time:
//
//	liveagent_miaw_token_requests_total     access- and continuation-token calls of the MIAW client
//	liveagent_miaw_stored_tokens_total      access tokens taken from the shared token store instead of minted
//	liveagent_miaw_stream_reconnects_total  SSE stream reconnections of the MIAW client
//	liveagent_miaw_malformed_events_total   SSE events that failed to decode (logged, skipped)
//	liveagent_miaw_skipped_events_total     ping and unknown SSE event types
//	liveagent_listener_events_total{outcome="signalled|delivered|skipped|malformed|undeliverable"}
//	liveagent_listener_signal_retries_total transient signal failures the listeners retried
//
// The liveagent_miaw_* series exist only when the worker built its own MIAW
// client (not with a fake Salesforce).
func registerMetrics(reg prometheus.Registerer, w *workers) error {
	return reg.Register(&workerCollector{w: w})
}

// workerCollector is a prometheus.Collector over the
// snapshot methods of the MIAW client and the activities.
type workerCollector struct{ w *workers }

var (
	descTokenRequests = prometheus.NewDesc(metrics.Namespace+"_miaw_token_requests_total",
		"Access-token and continuation-token requests the MIAW client sent to Salesforce.", nil, nil)
	descStoredTokens = prometheus.NewDesc(metrics.Namespace+"_miaw_stored_tokens_total",
		"Access tokens the MIAW client took from the shared token store instead of asking Salesforce.", nil, nil)
	descReconnects = prometheus.NewDesc(metrics.Namespace+"_miaw_stream_reconnects_total",
		"SSE stream reconnections of the MIAW client after the first connect.", nil, nil)
	descMalformed = prometheus.NewDesc(metrics.Namespace+"_miaw_malformed_events_total",
		"SSE events the MIAW client could not decode (logged and skipped).", nil, nil)
	descSkipped = prometheus.NewDesc(metrics.Namespace+"_miaw_skipped_events_total",
		"SSE ping and unknown event types the MIAW client skipped.", nil, nil)
	descListenerEvents = prometheus.NewDesc(metrics.Namespace+"_listener_events_total",
		"Salesforce events handled by the SSE listeners, by outcome.", []string{"outcome"}, nil)
	descSignalRetries = prometheus.NewDesc(metrics.Namespace+"_listener_signal_retries_total",
		"Transient failures to signal a session workflow that the listeners retried.", nil, nil)
)

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTokenRequests, descStoredTokens, descReconnects, descMalformed, descSkipped, descListenerEvents, descSignalRetries} {
		ch <- d
	}
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if s, ok := c.w.miawStats(); ok {
		counter(descTokenRequests, s.TokenRequests)
		counter(descStoredTokens, s.StoredTokens)
		counter(descReconnects, s.Reconnects)
		counter(descMalformed, s.MalformedEvents)
		counter(descSkipped, s.SkippedEvents)
	}
	l := c.w.acts.ListenerStats()
	counter(descListenerEvents, l.Signalled, "signalled")
	counter(descListenerEvents, l.Delivered, "delivered")
	counter(descListenerEvents, l.Skipped, "skipped")
	counter(descListenerEvents, l.Malformed, "malformed")
	counter(descListenerEvents, l.Undeliverable, "undeliverable")
	counter(descSignalRetries, l.SignalRetries)
}

// statsSource is what a Salesforce implementation offers when it keeps
// counters (*miaw.Client does).
type statsSource interface{ Stats() miaw.Stats }

// miawStats returns the counters of the worker's MIAW client, and false when
// the Salesforce implementation keeps none (a test's fake).
func (w *workers) miawStats() (miaw.Stats, bool) {
	if s, ok := w.acts.SF.(statsSource); ok {
		return s.Stats(), true
	}
	return miaw.Stats{}, false
}
