package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
	"github.com/liveagent-bridge/liveagent/internal/gobuild"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const (
	benchOrgID      = "00D000000000001"
	benchDeployment = "Live_Agent_Bridge"
	benchKeyID      = "loadbench-key"
	benchIssuer     = "liveagent-loadbench"
	benchTopic      = "Benefits"
	benchGreeting   = "Welcome to HR Live Chat! (load benchmark)"
	workerReady     = 2 * time.Minute
	workerSettle    = 3 * time.Second
	workerStopGrace = 30 * time.Second
	// devserverCacheFloor is the devserver's history cache size; larger runs
	// raise it so every open session's state stays cached, as it would on a
	// real server (default 128,000 entries).
	devserverCacheFloor = 8096
)

// run is the shared state of one benchmark run.
type run struct {
	opts       Options
	log        *slog.Logger
	compLog    *slog.Logger
	tag        string
	emu        *emulator.Server
	tc         client.Client
	starter    *starter.Client
	recv       *receiver
	secretHex  string
	cfg        *config.Config // worker configuration (metrics address set per phase)
	settings   workflows.Settings
	httpClient *http.Client
	workerBin  string
	workerLog  string
	// certFile is the emulator's certificate with Options.HTTPS (else ""):
	// the worker trusts it through SSL_CERT_FILE, the baseline directly.
	certFile string
	// proxy counts the worker's Temporal calls when its metrics endpoint
	// serves no SDK counters (Options.CountRPCs).
	proxy         *rpcCounter
	workerMetrics bool // a worker served SDK request counters

	tokMu  sync.Mutex
	tokens []counterSample
}

// Run executes the benchmark. The error is for a benchmark that could not be
// set up (build failure, no port, a worker that never polls); sizes that did
// not complete are reported in the Report with what they reached.
func Run(ctx context.Context, opts Options) (rep *Report, err error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	began := time.Now()
	log := opts.Logger

	workDir, ownDir := opts.WorkDir, false
	if workDir == "" {
		d, err := os.MkdirTemp("", "liveagent-loadbench-")
		if err != nil {
			return nil, fmt.Errorf("bench: work dir: %w", err)
		}
		workDir, ownDir = d, true
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: work dir: %w", err)
	}
	keepDir := true
	defer func() {
		if ownDir && !keepDir {
			_ = os.RemoveAll(workDir)
		}
	}()

	compOut := opts.ComponentLog
	if compOut == nil {
		f, err := os.Create(filepath.Join(workDir, "components.log"))
		if err != nil {
			return nil, fmt.Errorf("bench: component log: %w", err)
		}
		defer f.Close()
		compOut = f
	}
	compLog := slog.New(slog.NewTextHandler(compOut, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The worker binary.
	bin, err := gobuild.Worker(ctx, opts.WorkerBinary, opts.ModuleRoot, "", log)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	// Emulator: verified users only, no faults, default ping interval, an
	// agent that accepts at once and leaves answering to the benchmark.
	privPath, jwksPath, err := emulator.GenerateKeyPair(filepath.Join(workDir, "keys"), benchKeyID)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		return nil, fmt.Errorf("bench: read jwks: %w", err)
	}
	var emuTLS *tls.Config
	var certFile string
	if opts.HTTPS {
		certFile = filepath.Join(workDir, "emulator-cert.pem")
		if emuTLS, err = emulator.SelfSignedTLS([]string{"127.0.0.1"}, certFile); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	emu, err := emulator.New(emulator.Config{
		TLS:            emuTLS,
		OrgID:          benchOrgID,
		DeploymentName: benchDeployment,
		Issuer:         benchIssuer,
		JWKS:           jwks,
		RejectGuests:   true,
		Agent: &emulator.ScriptedAgent{
			Name:  "Bench Agent",
			Reply: func(string) string { return "" }, // the benchmark sends agent messages itself
		},
		Logger: compLog.With("component", "emulator"),
	})
	if err != nil {
		return nil, fmt.Errorf("bench: emulator: %w", err)
	}
	emuURL, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: emulator: %w", err)
	}
	defer emu.Close()

	// Temporal: external, or embedded.
	address, namespace := opts.TemporalAddress, opts.TemporalNamespace
	if address == "" {
		maxN := slices.Max(opts.Sessions)
		dyn := map[string]any{}
		if 2*maxN > devserverCacheFloor {
			dyn["history.hostLevelCacheMaxSize"] = 2 * maxN
		}
		startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		ts, err := devtemporal.Start(startCtx, devtemporal.Options{
			NoUI: true, DatabaseFile: opts.DatabaseFile, DynamicConfig: dyn,
			Log: devtemporal.LogTo(compLog.With("component", "temporal")), LogLevel: "error",
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("bench: temporal: %w", err)
		}
		defer ts.Stop()
		address, namespace = ts.FrontendAddress(), ts.Namespace()
	}
	driverCfg := config.Default()
	driverCfg.Temporal.Address, driverCfg.Temporal.Namespace = address, namespace
	tc, err := temporalclient.Dial(ctx, driverCfg, compLog.With("component", "driver-client"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer tc.Close()
	if opts.TemporalAddress != "" {
		if err := temporalclient.EnsureSearchAttributes(ctx, tc, namespace); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}

	store, err := attachstore.Open(filepath.Join(workDir, "attachments"))
	if err != nil {
		return nil, fmt.Errorf("bench: attachment store: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("bench: webhook secret: %w", err)
	}
	secretHex := hex.EncodeToString(secret)
	recv := newReceiver([]byte(secretHex))
	hookURL, err := recv.start()
	if err != nil {
		return nil, fmt.Errorf("bench: webhook receiver: %w", err)
	}
	defer recv.close()

	cfg := config.Default()
	cfg.Temporal.Address = address
	cfg.Temporal.Namespace = namespace
	cfg.Salesforce.SCRTURL = emuURL
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = benchOrgID
	cfg.Salesforce.Deployment = benchDeployment
	cfg.Salesforce.AuthMode = config.AuthVerified
	cfg.Salesforce.PrivateKeyFile = privPath
	cfg.Salesforce.KeyID = benchKeyID
	cfg.Salesforce.Issuer = benchIssuer
	cfg.Salesforce.TokenRequestsPerMinute = opts.TokenRPM
	cfg.Session.Topics = []string{benchTopic}
	cfg.Session.Greeting = benchGreeting
	cfg.Session.AcceptTimeout = time.Hour // acceptance is immediate; never time a session out under load
	if opts.ListenerHeartbeatTimeout > 0 {
		cfg.Session.ListenerHeartbeatTimeout = opts.ListenerHeartbeatTimeout
	}
	switch {
	case opts.PerSessionListeners:
		cfg.Session.ListenerShards = 0
	case opts.ListenerShards > 0:
		cfg.Session.ListenerShards = opts.ListenerShards
	}
	cfg.Attachments.Dir = store.Dir()
	// The workers share tokens, as production workers should: a session then
	// costs one token request, not one per worker that touches it.
	cfg.Salesforce.TokenStoreDir = filepath.Join(workDir, "tokens")
	cfg.Delivery.Mode = config.DeliveryWebhook
	cfg.Delivery.WebhookURL = hookURL
	cfg.Delivery.WebhookSecret = secretHex
	cfg.Worker.ListenerSlots = max(cfg.Worker.ListenerSlots, slices.Max(opts.Sessions)+100)
	cfg.Worker.WorkflowCacheSize = opts.WorkflowCacheSize
	cfg.Log.Level = "warn"
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench: worker configuration: %w", err)
	}

	tagBytes := make([]byte, 3)
	_, _ = rand.Read(tagBytes)
	r := &run{
		opts: opts, log: log, compLog: compLog, tag: hex.EncodeToString(tagBytes),
		emu: emu, tc: tc, recv: recv, secretHex: secretHex, cfg: cfg,
		settings:   cfg.SessionSettings(),
		starter:    starter.New(tc, cfg.SessionSettings(), store),
		httpClient: &http.Client{Timeout: 10 * time.Second},
		workerBin:  bin,
		workerLog:  filepath.Join(workDir, "worker.log"),
		certFile:   certFile,
	}

	samplerCtx, stopSampler := context.WithCancel(context.WithoutCancel(ctx))
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		r.sampleTokens(samplerCtx)
	}()

	rep = &Report{Setup: r.setup(opts)}
	var runErr error
	for _, n := range opts.Sessions {
		if ctx.Err() != nil {
			break
		}
		row := Row{Sessions: n}
		d, err := r.durablePhase(ctx, n)
		if err != nil {
			runErr = err
			break
		}
		row.Durable = d
		if opts.Baseline && ctx.Err() == nil {
			if limit, need := fdLimit(), baselineFDs(n); limit > 0 && need > limit {
				row.BaselineSkipped = fmt.Sprintf("skipped: the in-process baseline needs about %d file descriptors "+
					"(both ends of %d SSE streams) and the limit is %d", need, n, limit)
				r.log.Warn("baseline skipped", "sessions", n, "reason", row.BaselineSkipped)
				rep.Rows = append(rep.Rows, row)
				continue
			}
			b, err := r.baselinePhase(ctx, n)
			if err != nil {
				runErr = err
				rep.Rows = append(rep.Rows, row)
				break
			}
			row.Baseline = b
		}
		rep.Rows = append(rep.Rows, row)
	}
	stopSampler()
	<-samplerDone
	if r.proxy != nil {
		r.proxy.close()
		rep.Setup.RPCProxy = true
	}
	rep.TokenMax60s = maxInWindow(r.tokenSamples(), time.Minute, began, time.Now())
	rep.TokenRequests = emu.Stats().TokensIssued
	rep.Duration = time.Since(began)
	rep.Interrupted = ctx.Err() != nil
	if runErr != nil {
		rep.WorkDir = workDir
		return rep, runErr
	}
	if rep.problems() {
		rep.WorkDir = workDir // keep the logs of a run that had problems
	} else {
		keepDir = false
	}
	return rep, nil
}

func (r *run) setup(opts Options) Setup {
	db := "SQLite in memory"
	switch {
	case opts.TemporalDescription != "":
		db = opts.TemporalDescription
	case opts.TemporalAddress != "":
		db = opts.TemporalAddress
	case opts.DatabaseFile != "":
		db = "SQLite file " + opts.DatabaseFile
	}
	return Setup{
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Database: db,
		Concurrency: opts.Concurrency, Samples: opts.Samples, SampleRate: opts.SampleRate,
		Hold: opts.Hold, TokenRPM: opts.TokenRPM, TokenLimitLifted: opts.TokenRPM > salesforceTokenCap, WorkerBinary: r.workerBin,
		ListenerHeartbeatTimeout: r.cfg.Session.ListenerHeartbeatTimeout,
		ListenerShards:           r.cfg.Session.ListenerShards,
		ListenerSlots:            r.cfg.Worker.ListenerSlots, ActivitySlots: r.cfg.Worker.ActivitySlots,
		HistoryCache: max(devserverCacheFloor, 2*slices.Max(opts.Sessions)),
		HTTPS:        opts.HTTPS, WorkflowCacheSize: r.cfg.Worker.WorkflowCacheSize,
	}
}

// sampleTokens records the emulator's access-token counter every 250ms.
func (r *run) sampleTokens(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		r.tokMu.Lock()
		r.tokens = append(r.tokens, counterSample{At: time.Now(), Value: r.emu.Stats().TokensIssued})
		r.tokMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *run) tokenSamples() []counterSample {
	r.tokMu.Lock()
	defer r.tokMu.Unlock()
	out := make([]counterSample, len(r.tokens))
	copy(out, r.tokens)
	return out
}

func users(tag, bridge string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("lb-%s-%s%d-%05d", tag, bridge[:1], n, i)
	}
	return out
}

// durablePhase runs one size through a fresh worker process, so its idle
// RSS and CPU are this size's own.
func (r *run) durablePhase(ctx context.Context, n int) (*PhaseResult, error) {
	w, metricsURL, err := r.startMeasuredWorker(ctx)
	if err != nil {
		return nil, err
	}
	defer w.stop(workerStopGrace)
	br := &durableBridge{starter: r.starter, tc: r.tc, topic: benchTopic}
	us := users(r.tag, BridgeDurable, n)
	res := r.runPhase(ctx, BridgeDurable, br, us, w, metricsURL)
	if err := w.stop(workerStopGrace); err != nil {
		res.notef("worker stop: %v", err)
	}
	r.recv.forget(setOf(us))
	return res, nil
}

// startMeasuredWorker starts the worker process, waits until it polls and
// settles, and decides (once per run) how its calls are counted: its own
// metrics endpoint, or the counting proxy when that serves no SDK counters.
func (r *run) startMeasuredWorker(ctx context.Context) (*workerProc, string, error) {
	if r.opts.CountRPCs == "on" && r.proxy == nil {
		if err := r.startProxy(); err != nil {
			return nil, "", err
		}
	}
	for {
		metricsAddr, err := freeAddr()
		if err != nil {
			return nil, "", fmt.Errorf("bench: metrics port: %w", err)
		}
		cfg := *r.cfg
		cfg.Worker.MetricsListen = metricsAddr
		cfg.Worker.PProf = true // heap profiles (heap.go)
		if r.proxy != nil {
			cfg.Temporal.Address = r.proxy.addr
		}
		env := cfg.ChildEnviron()
		if r.certFile != "" {
			env = append(env, "SSL_CERT_FILE="+r.certFile)
		}
		w, err := startWorker(r.workerBin, env, r.workerLog)
		if err != nil {
			return nil, "", fmt.Errorf("bench: %w", err)
		}
		if err := r.waitPolling(ctx, w); err != nil {
			_ = w.stop(workerStopGrace)
			return nil, "", fmt.Errorf("bench: %w\nworker log tail:\n%s", err, logTail(r.workerLog, 4000))
		}
		sleepCtx(ctx, workerSettle)
		metricsURL := "http://" + metricsAddr + "/metrics"
		if r.proxy != nil || r.workerMetrics || r.opts.CountRPCs == "off" {
			return w, metricsURL, nil
		}
		wc, err := scrapeWorker(ctx, r.httpClient, metricsURL)
		if err == nil && wc.OK {
			r.workerMetrics = true
			return w, metricsURL, nil
		}
		r.log.Warn("the worker serves no Temporal SDK request counters on worker.metrics_listen; counting its calls at a gRPC proxy instead",
			"metrics_url", metricsURL, "error", err)
		if err := w.stop(workerStopGrace); err != nil {
			r.log.Warn("worker stop", "error", err)
		}
		if err := r.startProxy(); err != nil {
			return nil, "", err
		}
	}
}

func (r *run) startProxy() error {
	// The proxy forwards to one frontend: the first of a list.
	first, _, _ := strings.Cut(r.cfg.Temporal.Address, ",")
	p, err := startRPCCounter(first)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	r.proxy = p
	return nil
}

// baselinePhase runs one size through the plain bridge in this process.
func (r *run) baselinePhase(ctx context.Context, n int) (*PhaseResult, error) {
	hc, err := trustingClient(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	mc, err := miaw.New(r.cfg.MIAW(), miaw.WithLogger(r.compLog.With("component", "baseline-miaw")), miaw.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("bench: baseline miaw client: %w", err)
	}
	sink := activities.NewWebhookSink(r.cfg.Delivery.WebhookURL, []byte(r.secretHex), r.cfg.Delivery.Timeout, nil)
	br := newBaselineBridge(mc, sink, r.settings, benchTopic, r.compLog.With("component", "baseline"))
	us := users(r.tag, BridgeBaseline, n)
	res := r.runPhase(ctx, BridgeBaseline, br, us, nil, "")
	br.stop()
	if e := br.errorCount(); e > 0 {
		res.notef("baseline stream/delivery errors: %d (see components.log)", e)
	}
	if st := mc.Stats(); st.TokenRequests != res.TokenRequests {
		res.notef("baseline client made %d token requests, the emulator issued %d", st.TokenRequests, res.TokenRequests)
	}
	r.recv.forget(setOf(us))
	return res, nil
}

// fdLimit is the soft RLIMIT_NOFILE (Go raises it to the hard limit at
// start-up), or 0 when unknown.
func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return int(min(rl.Cur, 1<<30))
}

// baselineFDs estimates the descriptors the baseline needs in this process:
// the client and the emulator end of every SSE stream, plus the embedded
// server, REST and webhook connections.
func baselineFDs(n int) int { return 2*n + 1000 }

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// waitPolling waits until this worker process polls both task queues (its
// poller identity starts with "<pid>@", the SDK default).
func (r *run) waitPolling(ctx context.Context, w *workerProc) error {
	ctx, cancel := context.WithTimeout(ctx, workerReady)
	defer cancel()
	prefix := fmt.Sprintf("%d@", w.pid())
	polls := func(queue string, typ enumspb.TaskQueueType) bool {
		resp, err := r.tc.DescribeTaskQueue(ctx, queue, typ)
		if err != nil {
			return false
		}
		for _, p := range resp.GetPollers() {
			if strings.HasPrefix(p.GetIdentity(), prefix) {
				return true
			}
		}
		return false
	}
	for {
		if polls(workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW) &&
			polls(workflows.ListenerTaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY) {
			return nil
		}
		if !w.alive() {
			return fmt.Errorf("the worker exited during start-up: %v", w.err)
		}
		if ctx.Err() != nil {
			return errors.New("the worker did not poll its task queues within " + workerReady.String())
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}
