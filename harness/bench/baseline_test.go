package bench

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// newTestRun is a run with the emulator and the receiver but no Temporal:
// enough for the baseline bridge and the phase logic.
func newTestRun(t testing.TB, opts Options) (*run, *miaw.Client) {
	t.Helper()
	dir := t.TempDir()
	priv, jwksPath, err := emulator.GenerateKeyPair(filepath.Join(dir, "keys"), benchKeyID)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	emu, err := emulator.New(emulator.Config{
		OrgID: benchOrgID, DeploymentName: benchDeployment, Issuer: benchIssuer, JWKS: jwks, RejectGuests: true,
		Agent:  &emulator.ScriptedAgent{Name: "Bench Agent", Reply: func(string) string { return "" }},
		Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	emuURL, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })

	recv := newReceiver([]byte("test-secret-0123456789abcdef0123456789abcdef"))
	hookURL, err := recv.start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(recv.close)

	cfg := config.Default()
	cfg.Salesforce.SCRTURL, cfg.Salesforce.AllowAnyHost = emuURL, true
	cfg.Salesforce.OrgID, cfg.Salesforce.Deployment = benchOrgID, benchDeployment
	cfg.Salesforce.PrivateKeyFile, cfg.Salesforce.KeyID, cfg.Salesforce.Issuer = priv, benchKeyID, benchIssuer
	cfg.Salesforce.TokenRequestsPerMinute = defaultTokenRPM
	cfg.Session.Topics, cfg.Session.Greeting = []string{benchTopic}, benchGreeting
	cfg.Delivery.Mode, cfg.Delivery.WebhookURL, cfg.Delivery.WebhookSecret = config.DeliveryWebhook, hookURL, "test-secret-0123456789abcdef0123456789abcdef"

	mc, err := miaw.New(cfg.MIAW(), miaw.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	r := &run{
		opts: opts.withDefaults(), log: quiet, compLog: quiet, tag: "t", emu: emu, recv: recv,
		secretHex: "test-secret-0123456789abcdef0123456789abcdef", cfg: cfg, settings: cfg.SessionSettings(), httpClient: http.DefaultClient,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.sampleTokens(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, mc
}

// TestBaselinePhase runs a whole phase (open, both latency directions, hold,
// close) through the baseline bridge against the emulator.
func TestBaselinePhase(t *testing.T) {
	r, mc := newTestRun(t, Options{Samples: 24, SampleRate: 200, Hold: 50 * time.Millisecond, Concurrency: 4, SampleTimeout: 20 * time.Second})
	sink := activities.NewWebhookSink(r.cfg.Delivery.WebhookURL, []byte(r.secretHex), 5*time.Second, nil)
	br := newBaselineBridge(mc, sink, r.settings, benchTopic, r.log)
	us := users(r.tag, BridgeBaseline, 6)

	res := r.runPhase(context.Background(), BridgeBaseline, br, us, nil, "")
	br.stop()

	if !res.OpenComplete || res.Opened != 6 || res.StartErrors != 0 {
		t.Fatalf("open: %d/%d greeted, complete %v, %d start errors, note %q", res.Opened, res.Sessions, res.OpenComplete, res.StartErrors, res.OpenNote)
	}
	for name, l := range map[string]Latency{"agent→user": res.AgentToUser, "user→agent": res.UserToAgent} {
		if l.Samples != 24 || l.Lost != 0 || l.Errors != 0 || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("%s latency = %+v, want 24 positive samples, none lost", name, l)
		}
	}
	if res.Closed != 6 || res.CloseErrors != 0 {
		t.Fatalf("closed %d, %d errors; notes %v", res.Closed, res.CloseErrors, res.Notes)
	}
	if res.TokenRequests != 6 || res.TokenMax60s != 6 {
		t.Fatalf("token requests %d (max 60s %d), want one per user: 6", res.TokenRequests, res.TokenMax60s)
	}
	if e := br.errorCount(); e != 0 {
		t.Fatalf("baseline errors: %d", e)
	}
	// Every conversation is closed on the Salesforce side, and the agent saw
	// the description plus every user→agent sample.
	userMsgs := 0
	for _, c := range r.emu.Conversations() {
		if c.State != emulator.StateClosed {
			t.Errorf("conversation %s of %s is %s, want closed", c.ID, c.RoutingAttributes["UserId"], c.State)
		}
		userMsgs += c.Messages
	}
	if userMsgs != 6+24 {
		t.Fatalf("emulator received %d end-user messages, want 30 (6 descriptions + 24 samples)", userMsgs)
	}
	// No worker: no worker figures.
	if res.WorkerRSS != 0 || res.RatesSource != "" {
		t.Fatalf("baseline phase reported worker figures: %+v", res)
	}
}

// TestOpenDeadlineIsReported checks that a size that cannot open within its
// deadline is reported with what it reached instead of hanging.
func TestOpenDeadlineIsReported(t *testing.T) {
	r, _ := newTestRun(t, Options{OpenTimeout: 300 * time.Millisecond, Hold: time.Millisecond, CloseTimeout: 5 * time.Second})
	res := r.runPhase(context.Background(), "never", neverGreets{}, users(r.tag, "never", 3), nil, "")
	if res.OpenComplete || res.Opened != 0 {
		t.Fatalf("open reported complete: %+v", res)
	}
	if res.OpenNote == "" || res.Closed != 3 {
		t.Fatalf("note %q, closed %d; want a note and every session closed", res.OpenNote, res.Closed)
	}
	if res.AgentToUser.Samples != 0 {
		t.Fatalf("sampled latency on sessions that never opened: %+v", res.AgentToUser)
	}
}

// neverGreets starts sessions that are never accepted.
type neverGreets struct{}

func (neverGreets) open(context.Context, string) error             { return nil }
func (neverGreets) sendUser(context.Context, string, string) error { return nil }
func (neverGreets) close(context.Context, string) error            { return nil }
