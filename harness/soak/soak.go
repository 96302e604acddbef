package soak

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand"
	"os"
	"path/filepath"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
	"github.com/liveagent-bridge/liveagent/internal/gobuild"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const (
	soakOrgID      = "00D000000000001"
	soakDeployment = "Live_Agent_Bridge"
	soakKeyID      = "soak-key"
	soakIssuer     = "liveagent-soak"
	workerReady    = 2 * time.Minute // the first worker incarnation must poll within this
)

// run is the shared state of one soak run.
type run struct {
	opts      Options
	log       *slog.Logger
	tc        client.Client
	starter   *starter.Client
	emu       *emulator.Server
	hook      *webhookReceiver
	store     *attachstore.Store
	settings  workflows.Settings
	killsDone <-chan struct{}
	// historyDir receives the history of every failed session.
	historyDir string
}

// Run executes a soak as described in the package doc and returns its
// report. The error is for a soak that could not be set up or run (build
// failure, port in use, a worker that never starts); a soak that ran and found
// loss or duplication returns a report whose OK is false and a nil error.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	log := opts.Logger

	workDir, ownDir := opts.WorkDir, false
	if workDir == "" {
		d, err := os.MkdirTemp("", "liveagent-soak-")
		if err != nil {
			return nil, fmt.Errorf("soak: work dir: %w", err)
		}
		workDir, ownDir = d, true
	}
	keepDir := false // set when the work dir holds evidence of a failure
	defer func() {
		if ownDir && !keepDir {
			_ = os.RemoveAll(workDir)
		}
	}()

	// The worker binary: built once from this module.
	bin, err := gobuild.Worker(ctx, opts.WorkerBinary, opts.ModuleRoot, workDir, log)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}

	// Emulator with every fault on, verifying identity tokens signed by the
	// worker's key.
	privPath, jwksPath, err := emulator.GenerateKeyPair(filepath.Join(workDir, "keys"), soakKeyID)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		return nil, fmt.Errorf("soak: read jwks: %w", err)
	}
	var emuTLS *tls.Config
	var certFile string
	if opts.HTTPS {
		certFile = filepath.Join(workDir, "emulator-cert.pem")
		if emuTLS, err = emulator.SelfSignedTLS([]string{"127.0.0.1"}, certFile); err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
	}
	emu, err := emulator.New(emulator.Config{
		TLS:            emuTLS,
		OrgID:          soakOrgID,
		DeploymentName: soakDeployment,
		Issuer:         soakIssuer,
		JWKS:           jwks,
		RejectGuests:   true,
		PingInterval:   10 * time.Second,
		Faults:         *opts.Faults,
		Logger:         quieter(log, slog.LevelWarn).With("component", "emulator"),
	})
	if err != nil {
		return nil, fmt.Errorf("soak: emulator: %w", err)
	}
	emuURL, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("soak: emulator: %w", err)
	}
	defer emu.Close()

	// Temporal: the cluster, an external one, or embedded (in memory, no UI).
	address, namespace := opts.TemporalAddress, opts.TemporalNamespace
	if opts.Cluster != nil {
		address, namespace = opts.Cluster.Address(), opts.Cluster.Namespace()
	}
	if address == "" {
		ts, err := devtemporal.Start(ctx, devtemporal.Options{NoUI: true, Log: devtemporal.LogTo(log.With("component", "temporal")), LogLevel: "error"})
		if err != nil {
			return nil, fmt.Errorf("soak: temporal: %w", err)
		}
		defer ts.Stop()
		address, namespace = ts.FrontendAddress(), ts.Namespace()
	}
	driverCfg := config.Default()
	driverCfg.Temporal.Address, driverCfg.Temporal.Namespace = address, namespace
	tc, err := temporalclient.Dial(ctx, driverCfg, quieter(log, slog.LevelWarn).With("component", "driver-client"))
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	defer tc.Close()

	store, err := attachstore.Open(filepath.Join(workDir, "attachments"))
	if err != nil {
		return nil, fmt.Errorf("soak: attachment store: %w", err)
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("soak: webhook secret: %w", err)
	}
	secretHex := hex.EncodeToString(secret)
	hook := newWebhookReceiver([]byte(secretHex), opts.WebhookFailureRate, opts.Seed)
	hookURL, err := hook.start()
	if err != nil {
		return nil, fmt.Errorf("soak: webhook receiver: %w", err)
	}
	defer hook.close()

	// One configuration, validated here, drives both the worker process
	// (through LIVEAGENT_* variables) and the session settings.
	cfg := config.Default()
	cfg.Temporal.Address = address
	cfg.Temporal.Namespace = namespace
	cfg.Salesforce.SCRTURL = emuURL
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = soakOrgID
	cfg.Salesforce.Deployment = soakDeployment
	cfg.Salesforce.AuthMode = config.AuthVerified
	cfg.Salesforce.PrivateKeyFile = privPath
	cfg.Salesforce.KeyID = soakKeyID
	cfg.Salesforce.Issuer = soakIssuer
	cfg.Salesforce.TokenRequestsPerMinute = opts.TokenRequestsPerMinute
	// Each restarted worker takes the tokens of the one killed, as workers
	// sharing a store do in production.
	cfg.Salesforce.TokenStoreDir = filepath.Join(workDir, "tokens")
	cfg.Session.Topics = []string{soakTopic}
	// The agent accepts within seconds; a session still waiting after three
	// minutes missed its accept, so fail it sooner than the 5m default.
	cfg.Session.AcceptTimeout = 3 * time.Minute
	cfg.Attachments.Dir = store.Dir()
	cfg.Delivery.Mode = config.DeliveryWebhook
	cfg.Delivery.WebhookURL = hookURL
	cfg.Delivery.WebhookSecret = secretHex
	cfg.Log.Level = opts.WorkerLogLevel
	cfg.Worker.WorkflowCacheSize = opts.WorkflowCacheSize
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("soak: worker configuration: %w", err)
	}
	env := cfg.ChildEnviron()
	if certFile != "" {
		env = append(env, "SSL_CERT_FILE="+certFile)
	}

	proc := newWorkerProcess(bin, env, filepath.Join(workDir, "worker.log"))
	if err := proc.start(); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	defer proc.stop(10 * time.Second)
	if err := waitPolling(ctx, tc, proc); err != nil {
		keepDir = true
		return nil, fmt.Errorf("soak: %w (work dir %s kept)\nworker log tail:\n%s", err, workDir, proc.logTail(4000))
	}
	log.Info("worker is polling", "sessions", opts.Sessions)

	killsDone := make(chan struct{})
	chaosCtx, stopChaos := context.WithCancel(ctx)
	var chaosWG sync.WaitGroup
	var faults *clusterFaults
	if opts.Cluster != nil {
		faults = newClusterFaults(opts.Cluster, emu, hook, opts, log)
		chaosWG.Add(1)
		go func() { defer chaosWG.Done(); faults.run(chaosCtx) }()
	}
	chaos := &chaosLoop{opts: opts, proc: proc, barrier: killsDone, log: log,
		expired: func() bool { return emu.Stats().ExpiredStreams > 0 }, expireTokens: emu.ExpireTokens,
		streamOpens: emu.StreamOpens}
	if faults != nil {
		chaos.after = faults.done
	}
	chaosWG.Add(1)
	go func() {
		defer chaosWG.Done()
		chaos.run(chaosCtx)
	}()

	r := &run{
		opts: opts, log: log, tc: tc, emu: emu, hook: hook, store: store,
		starter:    starter.New(tc, cfg.SessionSettings(), store),
		settings:   cfg.SessionSettings(),
		killsDone:  killsDone,
		historyDir: filepath.Join(workDir, "histories"),
	}
	if opts.WebhookOutage > 0 {
		log.Info("assistant webhook outage begins", "for", opts.WebhookOutage)
		hook.startOutage(opts.WebhookOutage)
	}
	outcomes := r.runSessions(ctx)

	stopChaos()
	chaosWG.Wait()
	// Every session is verified: stop the worker gracefully.
	_ = proc.stop(10 * time.Second)

	rep := r.report(outcomes)
	if faults != nil {
		rep.ClusterFaults = faults.measure(outcomes)
		rep.ClusterFaultsRequired = true
		for i, f := range rep.ClusterFaults {
			rep.ClusterFaults[i].Offset = f.Start.Sub(began)
			if !f.OK() && f.slowestUser != "" {
				// The evidence: the history of the session that waited longest.
				if path, err := dumpHistory(ctx, tc, r.historyDir, workflows.WorkflowID(f.slowestUser)); err == nil {
					log.Info("history of the slowest session saved", "fault", f.Fault, "path", path)
				}
			}
		}
	}
	rep.WorkerKillDelays = chaos.killDelays(outcomes)
	chaos.resumes(rep.WorkerKillDelays, outcomes)
	for i, k := range rep.WorkerKillDelays {
		rep.WorkerKillDelays[i].Offset = k.Start.Sub(began)
	}
	if k, ok := slowestKillAlone(rep.WorkerKillDelays); ok && k.MaxDelayAlone > workerKillDelayBound {
		// The evidence of a takeover slower than the bound the bridge aims
		// at: the history of the session that waited longest.
		if path, err := dumpHistory(ctx, tc, r.historyDir, workflows.WorkflowID(k.slowestAloneUser)); err == nil {
			log.Info("history of the session slowest across one worker kill saved", "delay", k.MaxDelayAlone, "path", path)
			keepDir = true
		}
	}
	wc := proc.counts()
	rep.WorkerStarts, rep.WorkerKills, rep.WorkerCrashes = wc.Starts, wc.Kills, wc.Crashes
	rep.KillsRequired = max(opts.Kills, 0)
	rep.Duration = time.Since(began)
	if !rep.OK() {
		keepDir = true
	}
	if keepDir {
		rep.WorkDir = workDir
	}
	return rep, nil
}

// waitPolling waits until a worker polls the session task queue, failing
// early if the process exits (a configuration error, say).
func waitPolling(ctx context.Context, tc client.Client, proc *workerProcess) error {
	ctx, cancel := context.WithTimeout(ctx, workerReady)
	defer cancel()
	for {
		resp, err := tc.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil && len(resp.GetPollers()) > 0 {
			return nil
		}
		if alive, _ := proc.running(); !alive {
			return errors.New("the worker exited during start-up")
		}
		if ctx.Err() != nil {
			return fmt.Errorf("the worker did not poll %s within %s", workflows.TaskQueue, workerReady)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// runSessions runs every scripted session concurrently, starts spread over
// opts.StartSpread, and returns their outcomes.
func (r *run) runSessions(ctx context.Context) []*sessionOutcome {
	n := r.opts.Sessions
	outcomes := make([]*sessionOutcome, n)
	var wg sync.WaitGroup
	var done sync.WaitGroup
	done.Add(n)
	progress := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		spec := planSession(r.opts.Seed, i, r.opts.Messages)
		out := &sessionOutcome{userID: spec.userID}
		outcomes[i] = out
		s := &sessionRunner{run: r, spec: spec, out: out, rng: mathrand.New(mathrand.NewSource(r.opts.Seed*1_000_003 + int64(i)))}
		delay := time.Duration(int64(r.opts.StartSpread) * int64(i) / int64(n))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { progress <- struct{}{} }()
			sleepCtx(ctx, delay)
			if ctx.Err() != nil {
				out.problemf("not started before the soak deadline")
				return
			}
			s.runSession(ctx)
		}()
	}
	go func() {
		finished := 0
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for finished < n {
			select {
			case <-progress:
				finished++
			case <-tick.C:
				r.log.Info("soak progress", "sessions_verified", finished, "of", n)
			}
		}
	}()
	wg.Wait()
	return outcomes
}

// report aggregates the session outcomes and the counters.
func (r *run) report(outcomes []*sessionOutcome) *Report {
	rep := &Report{
		Seed:                 r.opts.Seed,
		Sessions:             r.opts.Sessions,
		MessagesPerDirection: r.opts.Messages,
		AttachmentsSent:      2 * r.opts.Sessions,
		Transport:            "emulator over plain HTTP (a connection per stream)",
		WorkflowCache:        r.opts.WorkflowCacheSize,
		TokenRPM:             r.opts.TokenRequestsPerMinute,
	}
	if r.opts.HTTPS {
		rep.Transport = "emulator over HTTPS (streams share HTTP/2 connections)"
	}
	for _, o := range outcomes {
		if o.started {
			rep.SessionsStarted++
		}
		rep.UserToAgent.Add(o.userDiff)
		rep.AgentToUser.Add(o.agentDiff)
		rep.UserSent += o.userSent
		rep.AgentSent += o.agentSent
		rep.AttachmentsOK += o.attachmentsOK
		if o.ended {
			rep.SessionsEnded++
		}
		if o.sfClosed {
			rep.SFClosed++
		}
		if o.closedNotice {
			rep.ClosedNotices++
		}
		rep.UpdateRetries += o.updateRetries
		rep.Problems = append(rep.Problems, o.problems...)
	}
	hc := r.hook.counts()
	rep.WebhookPosts, rep.WebhookRedeliveries = hc.Posts, hc.Redeliveries
	rep.WebhookInjectedFailures, rep.WebhookBadSignatures = hc.InjectedFailures, hc.BadSignatures
	rep.WebhookMalformed, rep.WebhookKeyMismatches = hc.Malformed, hc.KeyMismatches
	rep.WebhookOutageRefusals = hc.OutageRefusals
	rep.Faults = flattenCounters(r.emu.Stats())
	rep.TokenExpiryRequired = r.opts.Faults != nil && r.opts.Faults.TokenTTL > 0
	return rep
}
