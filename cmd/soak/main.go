// Command soak runs the live-agent fault soak: many concurrent sessions
// exchanging messages and attachments both ways while the MIAW emulator
// injects every fault and the worker process is SIGKILLed and restarted. It
// prints the report and exits 1 when anything was lost, duplicated or
// reordered, 2 when the soak could not run.
//
// By default it runs on an embedded dev server. -temporal-address runs it on
// any Temporal (several frontends comma-separated); -cluster starts the
// production shape (internal/devcluster: a 2-node Temporal cluster on
// PostgreSQL) and adds its server-side faults: a node SIGKILL and a
// PostgreSQL restart.
//
//	go run ./cmd/soak -sessions 200 -messages 20 -kills 10 -seed 1
//	go run ./cmd/soak -cluster -sessions 50
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/harness/soak"
	"github.com/liveagent-bridge/liveagent/internal/devcluster"
)

func main() {
	d := soak.DefaultOptions()
	faults := soak.DefaultFaults(0)
	var (
		sessions = flag.Int("sessions", 200, "concurrent sessions")
		messages = flag.Int("messages", d.Messages, "text messages each side sends per session (plus one attachment each)")
		kills    = flag.Int("kills", 10, "minimum worker SIGKILLs before sessions close (negative: none)")
		seed     = flag.Int64("seed", d.Seed, "seed of faults, kill times and pacing")
		killMin  = flag.Duration("kill-min", d.KillIntervalMin, "shortest worker lifetime before a kill")
		killMax  = flag.Duration("kill-max", d.KillIntervalMax, "longest worker lifetime before a kill")
		timeout  = flag.Duration("timeout", 30*time.Minute, "bound on the whole run")
		tokenTTL = flag.Duration("token-ttl", faults.TokenTTL, "access-token lifetime the emulator grants (early expiry fault)")
		ttlEvery = flag.Bool("token-ttl-every-token", false, "the early expiry hits every token, not each user's first only (needs more tokens than Salesforce's budget: an overload run)")
		accept   = flag.Duration("accept-delay", 0, "diagnostic: delay before the agent accepts a queued conversation")
		outage   = flag.Duration("webhook-outage", 0, "make the assistant's webhook refuse every delivery this long, from the start of the sessions")
		worker   = flag.String("worker", "", "prebuilt worker binary (default: go build ./cmd/liveagent-worker)")
		workDir  = flag.String("workdir", "", "work directory (default: a temporary one, kept on failure)")
		verbose  = flag.Bool("v", false, "log progress and emulator warnings")
		address  = flag.String("temporal-address", "", "run on this Temporal (host:port, several comma-separated) instead of an embedded one")
		ns       = flag.String("temporal-namespace", "default", "namespace of -temporal-address (with the live-agent search attributes)")
		cluster  = flag.Bool("cluster", false, "run on a 2-node Temporal cluster on PostgreSQL started here, with a node SIGKILL and a PostgreSQL restart")
		nodeDown = flag.Duration("node-down", 30*time.Second, "with -cluster: how long the killed node stays down")
		https    = flag.Bool("https", false, "serve the emulator over HTTPS (self-signed, trusted by the worker): streams share HTTP/2 connections")
		wfCache  = flag.Int("workflow-cache", 0, "worker.workflow_cache_size (0 = the SDK default); below -sessions, sessions replay at their events")
		nodeLog  = flag.String("cluster-log-level", "warn", "with -cluster: the Temporal nodes' log level (logs in the cluster directory, kept on failure)")
		wLog     = flag.String("worker-log-level", "info", "the worker's log.level (worker.log in the work directory)")
		tokenRPM = flag.Int("token-rpm", soak.SalesforceTokenBudget, "the worker's access-token budget per minute (Salesforce allows 200; more, against the emulator, keeps token waits out of the delays across kills)")
	)
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f := soak.DefaultFaults(*seed)
	f.TokenTTL = *tokenTTL
	f.TokenTTLOnce = !*ttlEvery
	opts := soak.Options{
		Sessions: *sessions, Messages: *messages, Kills: *kills, Seed: *seed,
		KillIntervalMin: *killMin, KillIntervalMax: *killMax, Timeout: *timeout,
		AcceptDelay: *accept, WebhookOutage: *outage, Faults: &f, WorkerBinary: *worker, WorkDir: *workDir, Logger: logger,
		TemporalAddress: *address, TemporalNamespace: *ns, NodeDownFor: *nodeDown,
		HTTPS: *https, WorkflowCacheSize: *wfCache, WorkerLogLevel: *wLog,
		TokenRequestsPerMinute: *tokenRPM,
	}

	if !*cluster {
		*nodeLog = ""
	}
	os.Exit(run(opts, *nodeLog, logger))
}

// run runs the soak (on a cluster it starts and stops, when clusterLog names
// the nodes' log level) and returns the exit code.
func run(opts soak.Options, clusterLog string, logger *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if clusterLog != "" {
		logger.Info("starting a 2-node Temporal cluster on PostgreSQL")
		c, err := devcluster.Start(ctx, devcluster.Options{LogLevel: clusterLog})
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			return 2
		}
		defer func() {
			if err := c.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "soak: stop cluster:", err)
			}
		}()
		logger.Info("cluster up", "frontends", c.Address(), "dir", c.Dir())
		opts.Cluster = c
	}
	rep, err := soak.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	fmt.Print(rep)
	if !rep.OK() {
		if opts.Cluster != nil {
			opts.Cluster.KeepDir()
			fmt.Printf("cluster logs (kept)   %s\n", opts.Cluster.Dir())
		}
		return 1
	}
	return 0
}
