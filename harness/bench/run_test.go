package bench

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/internal/gobuild"
)

// TestRunEndToEnd runs the whole benchmark at a tiny size: the worker binary
// is built and run as a separate process against the embedded Temporal
// server and the emulator, then the baseline runs the same sessions.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker and starts an embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "liveagent-worker")
	if err := gobuild.Build(ctx, "../..", gobuild.WorkerPackage, bin); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, Options{
		// The hold spans two listener heartbeat intervals, so the heartbeat
		// rate it measures cannot be zero by bad timing.
		Sessions: []int{3}, Baseline: true, Samples: 9, SampleRate: 50, Hold: 2*activities.DefaultListenerHeartbeat + 5*time.Second,
		WorkerBinary: bin, WorkDir: dir,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	var md strings.Builder
	if rep != nil {
		rep.WriteMarkdown(&md)
		t.Log("\n" + md.String())
	}
	if err != nil {
		t.Fatalf("run: %v (worker log %s)", err, filepath.Join(dir, "worker.log"))
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Durable == nil || rep.Rows[0].Baseline == nil {
		t.Fatalf("rows = %+v", rep.Rows)
	}
	for _, p := range []*PhaseResult{rep.Rows[0].Durable, rep.Rows[0].Baseline} {
		if !p.OpenComplete || p.Opened != 3 || p.Closed != 3 || p.CloseErrors != 0 {
			t.Errorf("%s: opened %d, closed %d (%d errors), note %q, notes %v", p.Bridge, p.Opened, p.Closed, p.CloseErrors, p.OpenNote, p.Notes)
		}
		for name, l := range map[string]Latency{"agent→user": p.AgentToUser, "user→agent": p.UserToAgent} {
			if l.Samples != 9 || l.Lost+l.Errors != 0 {
				t.Errorf("%s %s: %+v", p.Bridge, name, l)
			}
		}
		if p.TokenRequests != 3 {
			t.Errorf("%s: %d token requests for 3 new users", p.Bridge, p.TokenRequests)
		}
	}
	d := rep.Rows[0].Durable
	if d.WorkerRSS <= 0 || d.WorkerIdleRSS <= 0 || d.CPUTotal <= 0 {
		t.Errorf("worker figures missing: RSS %d (idle %d), CPU %v", d.WorkerRSS, d.WorkerIdleRSS, d.CPUTotal)
	}
	if d.RatesSource == "" || d.HeartbeatsPerSec <= 0 {
		t.Errorf("heartbeat rate not measured: source %q, %v/s", d.RatesSource, d.HeartbeatsPerSec)
	}
	if rep.TokenMax60s > 6 || rep.Incomplete() {
		t.Errorf("whole run: %d tokens in 60s, incomplete %v", rep.TokenMax60s, rep.Incomplete())
	}
	if !strings.Contains(md.String(), "| 3 | ") {
		t.Errorf("table has no row for N=3")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
