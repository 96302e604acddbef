package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// Options configure Run. The zero value of every field selects its default.
type Options struct {
	// Sessions are the session counts measured, in order (default 100, 1000).
	Sessions []int
	// Baseline also runs every size through the plain non-durable bridge.
	Baseline bool
	// Concurrency bounds how many sessions are being opened at once: started
	// but not yet greeted (default 50). Opening is bound by token requests
	// anyway (one per new user), so a larger value only queues more work.
	Concurrency int
	// Samples is the number of latency samples per direction and bridge
	// (default 300), spread round-robin over the open sessions.
	Samples int
	// SampleRate is how many samples start per second (default 25): a steady
	// load, not a saturation test.
	SampleRate float64
	// SampleTimeout bounds one latency sample (default 60s); a sample that
	// times out is counted as lost.
	SampleTimeout time.Duration
	// Hold is the quiet period with all sessions open, used for the steady
	// heartbeat rate and idle CPU (default 30s).
	Hold time.Duration
	// TokenRPM is salesforce.token_requests_per_minute for the worker and the
	// baseline's MIAW client (default 180; Salesforce allows 200 per org).
	TokenRPM int
	// LiftTokenLimit allows TokenRPM above Salesforce's 200 per minute, for
	// opening thousands of sessions against the emulator in minutes rather
	// than an hour; the report says so. The open rate at the real limit is
	// N/200 minutes (the report prints it too).
	LiftTokenLimit bool
	// ListenerHeartbeatTimeout is session.listener_heartbeat_timeout for the
	// sessions (0 = the default, 30s).
	ListenerHeartbeatTimeout time.Duration
	// ListenerShards is session.listener_shards (0 = the default,
	// config.DefaultListenerShards); PerSessionListeners sets it to 0, one
	// listener activity per session, the design before shards.
	ListenerShards      int
	PerSessionListeners bool
	// HTTPS serves the emulator over TLS with a self-signed certificate the
	// worker trusts (SSL_CERT_FILE): the worker's streams then share HTTP/2
	// connections, as they do with any Salesforce host that offers HTTP/2.
	// Without it every stream holds an HTTP/1.1 connection of its own.
	HTTPS bool
	// WorkflowCacheSize is worker.workflow_cache_size (0 = the SDK default,
	// 10,000): below the open sessions, idle ones leave the worker's memory
	// and replay their history at their next event.
	WorkflowCacheSize int
	// OpenTimeout bounds opening all sessions of one size. Zero derives it
	// from the token rate: N/TokenRPM minutes × 1.5 + 2 minutes.
	OpenTimeout time.Duration
	// CloseTimeout bounds closing all sessions of one size (default 5m).
	CloseTimeout time.Duration
	// CountRPCs selects how heartbeat and signal rates are measured: "auto"
	// (default) reads the worker's Temporal SDK request counters from its
	// worker.metrics_listen endpoint and, when the worker serves none, counts
	// the worker's calls at a transparent gRPC proxy in front of Temporal;
	// "on" always uses the proxy; "off" never does (rates are then estimated
	// from the emulator or unknown).
	CountRPCs string
	// DatabaseFile keeps Temporal's SQLite database in this file; empty (the
	// default) keeps it in memory.
	DatabaseFile string
	// TemporalAddress, when set, runs on this Temporal instead of an
	// embedded dev server (temporal.address syntax: several frontends
	// comma-separated); TemporalNamespace (default "default") must exist.
	// The session search attributes are registered when missing.
	// TemporalDescription names it in the report (default: the address).
	TemporalAddress, TemporalNamespace, TemporalDescription string
	// WorkerBinary is a prebuilt ./cmd/liveagent-worker binary; empty builds one into
	// the user cache (gobuild.CacheDir).
	WorkerBinary string
	// ModuleRoot is the repository root used to build the worker (default:
	// found with `go env GOMOD`).
	ModuleRoot string
	// WorkDir holds keys, the attachment store and logs (default: a new
	// temporary directory, removed after a run without problems).
	WorkDir string
	// Logger receives progress lines (default: discarded).
	Logger *slog.Logger
	// ComponentLog receives the logs of the emulator, Temporal server and
	// driver client (default: <WorkDir>/components.log). The worker always
	// logs to <WorkDir>/worker.log.
	ComponentLog io.Writer
}

const (
	defaultConcurrency = 50
	defaultSamples     = 300
	defaultSampleRate  = 25
	defaultTokenRPM    = 180
	salesforceTokenCap = 200 // access-token requests per minute per org
)

func (o Options) withDefaults() Options {
	if len(o.Sessions) == 0 {
		o.Sessions = []int{100, 1000}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.Samples <= 0 {
		o.Samples = defaultSamples
	}
	if o.SampleRate <= 0 {
		o.SampleRate = defaultSampleRate
	}
	if o.SampleTimeout <= 0 {
		o.SampleTimeout = 60 * time.Second
	}
	if o.Hold <= 0 {
		o.Hold = 30 * time.Second
	}
	if o.TokenRPM <= 0 {
		o.TokenRPM = defaultTokenRPM
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Minute
	}
	if o.CountRPCs == "" {
		o.CountRPCs = "auto"
	}
	if o.TemporalNamespace == "" {
		o.TemporalNamespace = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	for _, n := range o.Sessions {
		if n <= 0 {
			return fmt.Errorf("bench: sessions: %d is not a positive session count", n)
		}
	}
	if o.TokenRPM > salesforceTokenCap && !o.LiftTokenLimit {
		return fmt.Errorf("bench: token rpm: %d is above Salesforce's %d access-token requests per minute per org (lift the limit explicitly for a scale run)", o.TokenRPM, salesforceTokenCap)
	}
	if t := o.ListenerHeartbeatTimeout; t != 0 && (t < workflows.MinListenerHeartbeatTimeout || t > workflows.MaxListenerHeartbeatTimeout) {
		return fmt.Errorf("bench: listener heartbeat timeout: %s is not between %s and %s", t, workflows.MinListenerHeartbeatTimeout, workflows.MaxListenerHeartbeatTimeout)
	}
	switch o.CountRPCs {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("bench: count rpcs: %q is not auto, on or off", o.CountRPCs)
	}
	if o.SampleRate > 1000 {
		return errors.New("bench: sample rate: at most 1000 samples per second")
	}
	return nil
}

// openTimeout is the deadline for opening n sessions.
func (o Options) openTimeout(n int) time.Duration {
	if o.OpenTimeout > 0 {
		return o.OpenTimeout
	}
	minutes := float64(n) / float64(o.TokenRPM)
	return (time.Duration(minutes*1.5*float64(time.Minute)) + 2*time.Minute).Round(time.Second)
}
