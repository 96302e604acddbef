package workflows_test

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// capturingMetrics is a client.MetricsHandler that keeps what was emitted,
// keyed by metric name and tags ("name{k=v,...}").
type capturingMetrics struct {
	tags map[string]string
	rec  *metricRecords
}

type metricRecords struct {
	mu       sync.Mutex
	counters map[string]int64
	timers   map[string][]time.Duration
}

func newCapturingMetrics() *capturingMetrics {
	return &capturingMetrics{rec: &metricRecords{counters: map[string]int64{}, timers: map[string][]time.Duration{}}}
}

func (c *capturingMetrics) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(c.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &capturingMetrics{tags: merged, rec: c.rec}
}

func (c *capturingMetrics) key(name string) string {
	if len(c.tags) == 0 {
		return name
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(c.tags)) {
		kv = append(kv, k+"="+c.tags[k])
	}
	return name + "{" + strings.Join(kv, ",") + "}"
}

func (c *capturingMetrics) Counter(name string) client.MetricsCounter {
	key := c.key(name)
	return counterFunc(func(d int64) {
		c.rec.mu.Lock()
		defer c.rec.mu.Unlock()
		c.rec.counters[key] += d
	})
}

func (c *capturingMetrics) Gauge(string) client.MetricsGauge { return gaugeFunc(func(float64) {}) }

func (c *capturingMetrics) Timer(name string) client.MetricsTimer {
	key := c.key(name)
	return timerFunc(func(d time.Duration) {
		c.rec.mu.Lock()
		defer c.rec.mu.Unlock()
		c.rec.timers[key] = append(c.rec.timers[key], d)
	})
}

func (c *capturingMetrics) counter(key string) int64 {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	return c.rec.counters[key]
}

func (c *capturingMetrics) timer(key string) []time.Duration {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	return slices.Clone(c.rec.timers[key])
}

type (
	counterFunc func(int64)
	gaugeFunc   func(float64)
	timerFunc   func(time.Duration)
)

func (f counterFunc) Inc(d int64)          { f(d) }
func (f gaugeFunc) Update(v float64)       { f(v) }
func (f timerFunc) Record(d time.Duration) { f(d) }

// closedKey is the capture key of MetricSessionsClosed for reason.
func closedKey(reason workflows.CloseReason) string {
	return workflows.MetricSessionsClosed + "{" + workflows.MetricTagReason + "=" + string(reason) + "}"
}

func TestMetricsAcceptedSession(t *testing.T) {
	m := newCapturingMetrics()
	h := newHarnessWithMetrics(t, 365*24*time.Hour, nil, m)
	acceptEvents(h, 5*time.Second, "Ann")
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)

	// Three accept triggers (work result, agent joined, session active): the
	// wait is recorded once, at the first, 5 s after the description was
	// sent (activities take no time on the test environment's clock).
	lat := m.timer(workflows.MetricAcceptLatency)
	require.Len(t, lat, 1, "accept latency recorded exactly once")
	require.Equal(t, 5*time.Second, lat[0])

	require.Zero(t, m.counter(workflows.MetricAcceptTimeouts))
	require.Zero(t, m.counter(workflows.MetricDuplicateEventsDropped), "no entry arrived twice")
	require.Equal(t, int64(1), m.counter(closedKey(workflows.CloseUserClosed)))
	require.Zero(t, m.counter(closedKey(workflows.CloseAcceptTimeout)))
}

func TestMetricsAcceptTimeout(t *testing.T) {
	m := newCapturingMetrics()
	h := newHarnessWithMetrics(t, 365*24*time.Hour, nil, m)
	h.run(testInput())
	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)

	require.Equal(t, int64(1), m.counter(workflows.MetricAcceptTimeouts))
	require.Empty(t, m.timer(workflows.MetricAcceptLatency), "nobody accepted")
	require.Equal(t, int64(1), m.counter(closedKey(workflows.CloseAcceptTimeout)))
	require.Zero(t, m.counter(closedKey(workflows.CloseUserClosed)))
}

func TestMetricsDuplicateEventsDropped(t *testing.T) {
	m := newCapturingMetrics()
	h := newHarnessWithMetrics(t, 365*24*time.Hour, nil, m)
	acceptEvents(h, time.Second, "Ann")
	ev := workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "only once"}
	h.signalAt(10*time.Second, ev)
	again := ev
	again.EventID = "ev-10-resumed" // the entry id, not the SSE id, identifies it
	h.signalAt(11*time.Second, again)
	// Events without an entry id are never treated as duplicates.
	h.signalAt(12*time.Second, workflows.AgentEvent{EventID: "ev-12", Kind: workflows.AgentTypingStarted})
	h.signalAt(13*time.Second, workflows.AgentEvent{EventID: "ev-12", Kind: workflows.AgentTypingStarted})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)

	require.Len(t, h.sf.Deliveries(workflows.DeliverAgentMessage), 1)
	require.Equal(t, int64(1), m.counter(workflows.MetricDuplicateEventsDropped))
	require.Len(t, m.timer(workflows.MetricAcceptLatency), 1)
}
