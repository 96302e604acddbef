package soak

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devcluster"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// Options configure a soak run. Zero values take the defaults documented on
// each field; DefaultOptions returns them filled in.
type Options struct {
	// Sessions is the number of concurrent live-agent sessions (default 50).
	Sessions int
	// Messages is the number of text messages each side sends per session
	// (default 20). Each side also sends one attachment.
	Messages int
	// Kills is the minimum number of worker SIGKILLs: sessions do not close
	// before this many kills happened (default 3) and, when tokens expire
	// early, before an SSE stream has run into its token's expiry. The
	// chaos loop keeps killing at random intervals until every session is
	// verified.
	// Negative disables the chaos loop (no kills at all).
	Kills int
	// Seed makes the fault pattern, kill times and pacing reproducible
	// (default 1). Go scheduling still varies between runs.
	Seed int64

	// KillIntervalMin and KillIntervalMax bound the random time a worker
	// incarnation lives before it is killed (defaults 8s and 20s). They
	// should exceed the workflow task timeout (10s) now and then, or
	// progress only happens between kills.
	KillIntervalMin, KillIntervalMax time.Duration
	// RestartPauseMax bounds the random pause between a kill and the
	// restart (default 2s).
	RestartPauseMax time.Duration

	// Faults are the emulator faults. Nil means DefaultFaults(Seed): every
	// fault kind on.
	Faults *emulator.Faults
	// WebhookFailureRate is the fraction of webhook deliveries the receiver
	// records and then answers 503, as an assistant that processed a
	// delivery but failed to acknowledge it (default 0.02; negative = 0).
	WebhookFailureRate float64

	// WebhookOutage, when positive, makes the assistant's webhook refuse
	// every delivery (503) for this long from the moment sessions start: an
	// assistant that is down. Off by default.
	WebhookOutage time.Duration

	// StartSpread spreads session starts over this long (default
	// Sessions×50ms, at most 10s).
	StartSpread time.Duration
	// PaceMax bounds the random pause before each message a side sends
	// (default 400ms; with a Cluster 10s, so that messages flow before,
	// during and after the server-side faults).
	PaceMax time.Duration
	// AcceptDelay is how long the agent waits after the conversation reaches
	// its queue before accepting (default 0: at once, as a fast agent
	// would). A diagnostic knob: a delay hides races between the agent
	// accepting and the bridge starting to listen.
	AcceptDelay time.Duration
	// Timeout bounds the whole run (default 20m).
	Timeout time.Duration

	// TemporalAddress, when set, runs the soak on this Temporal instead of
	// an embedded dev server (temporal.address syntax: several frontends
	// comma-separated). Its namespace, TemporalNamespace (default
	// "default"), must exist with the live-agent search attributes.
	TemporalAddress   string
	TemporalNamespace string
	// Cluster, when set, runs the soak on this cluster (its address and
	// namespace) and adds server-side faults before the worker kills: one
	// Temporal node is killed with SIGKILL and started again NodeDownFor
	// later, then PostgreSQL restarts (immediate shutdown). The emulator's
	// and the webhook's faults pause from 35s before the node kill until
	// the database is back, so the messages in flight during each fault,
	// which are timed, meet that fault alone (see FaultNodeKill and the
	// other kinds); the node loss may delay none by more than
	// MaxNodeLossDelay.
	Cluster *devcluster.Cluster
	// NodeDownFor is how long the killed node stays down (default 30s; at
	// least MaxNodeLossDelay, so that messages sent while it is down can be
	// timed before it returns).
	NodeDownFor time.Duration
	// MaxNodeLossDelay bounds the delay of any message in flight while a
	// node is lost (default 15s).
	MaxNodeLossDelay time.Duration

	// HTTPS serves the emulator over TLS with a self-signed certificate the
	// worker trusts (SSL_CERT_FILE): the streams then share HTTP/2
	// connections. The emulator's faults still act per stream.
	HTTPS bool
	// WorkflowCacheSize is the worker's worker.workflow_cache_size (0 = the
	// SDK default): below the session count, sessions keep leaving the
	// worker's memory and replay their history at their next event.
	WorkflowCacheSize int
	// TokenRequestsPerMinute is the worker's
	// salesforce.token_requests_per_minute (0 = SalesforceTokenBudget). Above it (the emulator allows it), token waits leave the
	// delays across kills: opening 200 sessions at once needs two minutes of
	// Salesforce's budget.
	TokenRequestsPerMinute int

	// ModuleRoot is the directory of the liveagent go.mod, where ./cmd/liveagent-worker is
	// built (default: found with `go env GOMOD`).
	ModuleRoot string
	// WorkerBinary, when set, is used instead of building ./cmd/liveagent-worker.
	WorkerBinary string
	// WorkDir holds keys, the attachment store, the SQLite file and the
	// worker log (default: a new temporary directory, removed after a clean
	// run and kept after a failed one).
	WorkDir string

	// WorkerLogLevel is the worker's log.level (default "info"); its logs
	// go to worker.log in WorkDir.
	WorkerLogLevel string

	// Logger receives progress logs (default: discard).
	Logger *slog.Logger
}

// DefaultOptions returns the CI-sized defaults.
func DefaultOptions() Options {
	return Options{
		Sessions:           50,
		Messages:           20,
		Kills:              3,
		Seed:               1,
		KillIntervalMin:    8 * time.Second,
		KillIntervalMax:    20 * time.Second,
		RestartPauseMax:    2 * time.Second,
		WebhookFailureRate: 0.02,
		PaceMax:            400 * time.Millisecond,
		Timeout:            20 * time.Minute,
	}
}

// SalesforceTokenBudget is the access-token requests a minute Salesforce
// allows an org: the soak's default budget.
const SalesforceTokenBudget = 200

// DefaultFaults turns every emulator fault on at rates that keep a run
// moving: every SSE stream is cut after 7 events, 10% of events are sent
// twice, 3% of REST calls get a 503, 2% start a burst of three 429s, each
// user's first access token expires after 20s and every event is delayed by
// 20ms. Only the first: were every token to live 20 s, 200 users would need
// 600 tokens a minute, three times Salesforce's budget, and every delay the
// run measures would be a wait for a token.
func DefaultFaults(seed int64) emulator.Faults {
	return emulator.Faults{
		DropStreamEvery: 7,
		DuplicateRate:   0.10,
		ErrorRate:       0.03,
		ThrottleRate:    0.02,
		ThrottleBurst:   3,
		TokenTTL:        20 * time.Second,
		TokenTTLOnce:    true,
		EventDelay:      20 * time.Millisecond,
		Seed:            seed,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Sessions == 0 {
		o.Sessions = d.Sessions
	}
	if o.Messages == 0 {
		o.Messages = d.Messages
	}
	if o.Kills == 0 {
		o.Kills = d.Kills
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.KillIntervalMin == 0 {
		o.KillIntervalMin = d.KillIntervalMin
	}
	if o.KillIntervalMax == 0 {
		o.KillIntervalMax = max(d.KillIntervalMax, o.KillIntervalMin)
	}
	if o.RestartPauseMax == 0 {
		o.RestartPauseMax = d.RestartPauseMax
	}
	if o.Faults == nil {
		f := DefaultFaults(o.Seed)
		o.Faults = &f
	}
	if o.WebhookFailureRate == 0 {
		o.WebhookFailureRate = d.WebhookFailureRate
	} else if o.WebhookFailureRate < 0 {
		o.WebhookFailureRate = 0
	}
	if o.StartSpread == 0 {
		o.StartSpread = min(time.Duration(o.Sessions)*50*time.Millisecond, 10*time.Second)
	}
	if o.PaceMax == 0 {
		o.PaceMax = d.PaceMax
		if o.Cluster != nil {
			o.PaceMax = 10 * time.Second
		}
	}
	if o.NodeDownFor == 0 {
		o.NodeDownFor = 30 * time.Second
	}
	if o.MaxNodeLossDelay == 0 {
		o.MaxNodeLossDelay = 15 * time.Second
	}
	if o.TokenRequestsPerMinute == 0 {
		o.TokenRequestsPerMinute = SalesforceTokenBudget
	}
	if o.TemporalNamespace == "" {
		o.TemporalNamespace = "default"
	}
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	if o.WorkerLogLevel == "" {
		o.WorkerLogLevel = "info"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.Sessions < 1:
		return fmt.Errorf("soak: sessions: must be at least 1, got %d", o.Sessions)
	case o.Messages < 1:
		return fmt.Errorf("soak: messages: must be at least 1, got %d", o.Messages)
	case o.KillIntervalMin <= 0 || o.KillIntervalMax < o.KillIntervalMin:
		return fmt.Errorf("soak: kill interval: need 0 < min (%s) <= max (%s)", o.KillIntervalMin, o.KillIntervalMax)
	case o.Cluster != nil && o.NodeDownFor < o.MaxNodeLossDelay:
		return fmt.Errorf("soak: node down for %s: must be at least the node loss bound %s", o.NodeDownFor, o.MaxNodeLossDelay)
	case o.WebhookFailureRate >= 1:
		return errors.New("soak: webhook failure rate: must be below 1")
	}
	return nil
}
