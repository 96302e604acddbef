package worker

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/miaw"
)

type statsSF struct {
	activities.Salesforce
	stats miaw.Stats
}

func (s statsSF) Stats() miaw.Stats { return s.stats }

// gather returns every sample of reg as "name{label=value}" -> value.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			out[name] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestRegisterMetrics(t *testing.T) {
	w := &workers{acts: &activities.Activities{SF: statsSF{stats: miaw.Stats{TokenRequests: 3, StoredTokens: 4, Reconnects: 2, MalformedEvents: 1, SkippedEvents: 5}}}}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, registerMetrics(reg, w))
	assert.Equal(t, map[string]float64{
		"liveagent_miaw_token_requests_total":                    3,
		"liveagent_miaw_stored_tokens_total":                     4,
		"liveagent_miaw_stream_reconnects_total":                 2,
		"liveagent_miaw_malformed_events_total":                  1,
		"liveagent_miaw_skipped_events_total":                    5,
		"liveagent_listener_events_total{outcome=signalled}":     0,
		"liveagent_listener_events_total{outcome=delivered}":     0,
		"liveagent_listener_events_total{outcome=skipped}":       0,
		"liveagent_listener_events_total{outcome=malformed}":     0,
		"liveagent_listener_events_total{outcome=undeliverable}": 0,
		"liveagent_listener_signal_retries_total":                0,
	}, gather(t, reg))

	// A Salesforce without counters exports the listener series only.
	w = &workers{acts: &activities.Activities{SF: statsSF{}.Salesforce}}
	reg = prometheus.NewPedanticRegistry()
	require.NoError(t, registerMetrics(reg, w))
	got := gather(t, reg)
	assert.NotContains(t, got, "liveagent_miaw_token_requests_total")
	assert.Contains(t, got, "liveagent_listener_signal_retries_total")

	// Registering twice on one registry is refused, not silently doubled.
	require.Error(t, registerMetrics(reg, w))
}
