package activities

import (
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// capturingMetrics is a client.MetricsHandler that keeps every counter
// increment with the tags it was made under.
type capturingMetrics struct {
	tags map[string]string
	rec  *counterRecords
}

type counterRecords struct {
	mu   sync.Mutex
	incs []counterInc
}

type counterInc struct {
	name  string
	tags  map[string]string
	delta int64
}

func newCapturingMetrics() *capturingMetrics {
	return &capturingMetrics{tags: map[string]string{}, rec: &counterRecords{}}
}

func (c *capturingMetrics) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(c.tags)
	maps.Copy(merged, tags)
	return &capturingMetrics{tags: merged, rec: c.rec}
}

func (c *capturingMetrics) Counter(name string) client.MetricsCounter {
	return counterFunc(func(d int64) {
		c.rec.mu.Lock()
		defer c.rec.mu.Unlock()
		c.rec.incs = append(c.rec.incs, counterInc{name: name, tags: maps.Clone(c.tags), delta: d})
	})
}

func (c *capturingMetrics) Gauge(string) client.MetricsGauge { return gaugeFunc(func(float64) {}) }
func (c *capturingMetrics) Timer(string) client.MetricsTimer {
	return timerFunc(func(time.Duration) {})
}

// sum adds up counter name over the increments whose tags include want.
func (c *capturingMetrics) sum(name string, want map[string]string) int64 {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	var n int64
next:
	for _, inc := range c.rec.incs {
		if inc.name != name {
			continue
		}
		for k, v := range want {
			if inc.tags[k] != v {
				continue next
			}
		}
		n += inc.delta
	}
	return n
}

type (
	counterFunc func(int64)
	gaugeFunc   func(float64)
	timerFunc   func(time.Duration)
)

func (f counterFunc) Inc(d int64)          { f(d) }
func (f gaugeFunc) Update(v float64)       { f(v) }
func (f timerFunc) Record(d time.Duration) { f(d) }

var (
	agentToUser = map[string]string{MetricTagDirection: DirectionAgentToUser}
	userToAgent = map[string]string{MetricTagDirection: DirectionUserToAgent}
)

func TestAttachmentFailuresCountedByDirection(t *testing.T) {
	m := newCapturingMetrics()
	a, sf, env := testActivitiesWithMetrics(t, m)

	// A successful download and upload count nothing.
	sf.downloads["ok"] = &miaw.Download{Name: "ok.txt", Data: []byte("fine")}
	if _, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "ok"},
	}); err != nil {
		t.Fatalf("download: %v", err)
	}
	sum, _, err := a.Store.Put(strings.NewReader("data"), 0)
	if err != nil {
		t.Fatal(err)
	}
	upload := workflows.SendAttachmentInput{
		UserID: "u", ConversationID: "c", MessageID: "m",
		Attachment: workflows.UserAttachment{Name: "x.pdf", SHA256: sum},
	}
	if _, err := env.ExecuteActivity(workflows.ActivitySendAttachment, upload); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if n := m.sum(MetricAttachmentFailures, nil); n != 0 {
		t.Fatalf("%d failures counted after two successes", n)
	}

	// Two failed downloads: a retryable Salesforce error and a missing file.
	sf.failNext("DownloadAttachment", &miaw.Error{Op: "download attachment", Status: 502})
	if _, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "ok"},
	}); err == nil {
		t.Fatal("download with a 502 succeeded")
	}
	if _, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "missing"},
	}); err == nil {
		t.Fatal("download of a missing file succeeded")
	}
	// One failed upload: Salesforce rejects the file type.
	sf.failNext("SendFile", &miaw.Error{Op: "send file", Status: 415, Message: "unsupported file type"})
	if _, err := env.ExecuteActivity(workflows.ActivitySendAttachment, upload); err == nil {
		t.Fatal("upload with a 415 succeeded")
	}

	if n := m.sum(MetricAttachmentFailures, agentToUser); n != 2 {
		t.Fatalf("agent_to_user failures = %d, want 2", n)
	}
	if n := m.sum(MetricAttachmentFailures, userToAgent); n != 1 {
		t.Fatalf("user_to_agent failures = %d, want 1", n)
	}
	// The SDK handler tags the activity type, so dashboards can split further.
	if n := m.sum(MetricAttachmentFailures, map[string]string{"activity_type": workflows.ActivitySendAttachment}); n != 1 {
		t.Fatalf("failures tagged activity_type=%s: %d, want 1", workflows.ActivitySendAttachment, n)
	}
}
