// Command loadbench measures the live-agent bridge under load and prints a
// markdown table: for each session count, the time to open all sessions,
// worker RSS per open session, worker CPU, listener heartbeat and signal
// rates, access-token requests per minute, and agent→user / user→agent
// latency percentiles, optionally next to a plain non-durable bridge.
//
//	go run ./cmd/loadbench -sessions 100,1000 -baseline -out bench.md
//
// It starts an embedded Temporal server (or runs on -temporal-address, or, with
// -cluster, on a 2-node Temporal cluster on PostgreSQL it starts:
// internal/devcluster), the MIAW emulator and the worker
// binary (built into the user cache unless -worker-bin is given) as a
// separate process. Progress goes to stderr, the table to stdout (and to
// -out). Opening is bound by Salesforce's access-token limit (one request per
// new user, at most -token-rpm per minute), so 1,000 sessions take at least
// ~5.5 minutes at the default 180/min, 10,000 at least ~56 minutes.
//
// Exit codes: 0 when every size completed cleanly, 1 when the benchmark
// could not run or a size did not complete (the table says what it reached),
// 2 on a usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/harness/bench"
	"github.com/liveagent-bridge/liveagent/internal/devcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sessions := fs.String("sessions", "100,1000", "comma-separated session counts, e.g. 100,1000,5000,10000")
	baseline := fs.Bool("baseline", false, "also run every size through the plain non-durable bridge and report the latency ratio")
	out := fs.String("out", "", "also write the markdown report to this file")
	concurrency := fs.Int("concurrency", 50, "sessions being opened at once (started, not yet greeted)")
	samples := fs.Int("samples", 300, "latency samples per direction and bridge")
	sampleRate := fs.Float64("rate", 25, "latency samples started per second")
	hold := fs.Duration("hold", 30*time.Second, "quiet period with all sessions open (steady heartbeat rate, idle CPU)")
	tokenRPM := fs.Int("token-rpm", 180, "access-token requests per minute per MIAW client (Salesforce allows 200 per org)")
	liftTokens := fs.Bool("lift-token-limit", false, "allow -token-rpm above Salesforce's 200/min (emulator only; the report says so), to open thousands of sessions in minutes")
	hbTimeout := fs.Duration("listener-heartbeat-timeout", 0, "session.listener_heartbeat_timeout of the sessions (0 = default 30s; listeners heartbeat every third)")
	shards := fs.Int("listener-shards", 0, "session.listener_shards (0 = the default)")
	perSession := fs.Bool("per-session-listeners", false, "one listener activity per session (listener_shards 0), the design before shards")
	openTimeout := fs.Duration("open-timeout", 0, "deadline for opening all sessions of one size (0 = from the token rate: N/rpm min × 1.5 + 2 min)")
	closeTimeout := fs.Duration("close-timeout", 5*time.Minute, "deadline for closing all sessions of one size")
	countRPCs := fs.String("count-rpcs", "auto", "how heartbeat/signal rates are measured: auto (worker metrics, else a counting gRPC proxy), on (proxy), off")
	dbFile := fs.String("db-file", "", "keep Temporal's SQLite database in this file (default: in memory)")
	workerBin := fs.String("worker-bin", "", "prebuilt worker binary (default: built from ./cmd/liveagent-worker into the user cache)")
	workDir := fs.String("work-dir", "", "directory for keys, attachments and logs (default: a temporary directory, removed after a clean run)")
	address := fs.String("temporal-address", "", "run on this Temporal (host:port, several comma-separated) instead of an embedded one")
	namespace := fs.String("temporal-namespace", "default", "namespace of -temporal-address")
	cluster := fs.Bool("cluster", false, "run on a 2-node Temporal cluster on PostgreSQL started here")
	https := fs.Bool("https", false, "serve the emulator over HTTPS (self-signed, trusted by the worker): streams share HTTP/2 connections, as with a Salesforce host that offers HTTP/2")
	wfCache := fs.Int("workflow-cache", 0, "worker.workflow_cache_size (0 = the SDK default, 10,000); fewer keeps idle sessions out of the worker's memory")
	verbose := fs.Bool("v", false, "also print the emulator, Temporal and driver logs (warnings and errors) to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadbench: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	sizes, err := parseSizes(*sessions)
	if err != nil {
		fmt.Fprintf(stderr, "loadbench: -sessions: %v\n", err)
		return 2
	}
	opts := bench.Options{
		Sessions: sizes, Baseline: *baseline, Concurrency: *concurrency, Samples: *samples, SampleRate: *sampleRate,
		Hold: *hold, TokenRPM: *tokenRPM, LiftTokenLimit: *liftTokens, ListenerHeartbeatTimeout: *hbTimeout,
		ListenerShards: *shards, PerSessionListeners: *perSession, HTTPS: *https, WorkflowCacheSize: *wfCache,
		OpenTimeout: *openTimeout, CloseTimeout: *closeTimeout,
		CountRPCs: *countRPCs, DatabaseFile: *dbFile, WorkerBinary: *workerBin, WorkDir: *workDir,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if *verbose {
		opts.ComponentLog = stderr
	}
	opts.TemporalAddress, opts.TemporalNamespace = *address, *namespace
	if *cluster {
		opts.Logger.Info("starting a 2-node Temporal cluster on PostgreSQL")
		c, err := devcluster.Start(ctx, devcluster.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "loadbench: %v\n", err)
			return 1
		}
		defer func() {
			if err := c.Stop(); err != nil {
				fmt.Fprintf(stderr, "loadbench: stop cluster: %v\n", err)
			}
		}()
		opts.TemporalAddress, opts.TemporalNamespace = c.Address(), c.Namespace()
		opts.TemporalDescription = "a 2-node Temporal cluster on PostgreSQL (" + c.Address() + ")"
	}
	rep, err := bench.Run(ctx, opts)
	if rep != nil {
		rep.WriteMarkdown(stdout)
		if *out != "" {
			f, ferr := os.Create(*out)
			if ferr != nil {
				fmt.Fprintf(stderr, "loadbench: -out: %v\n", ferr)
				return 1
			}
			rep.WriteMarkdown(f)
			if ferr := f.Close(); ferr != nil {
				fmt.Fprintf(stderr, "loadbench: -out: %v\n", ferr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadbench: %v\n", err)
		return 1
	}
	if rep.Incomplete() {
		return 1
	}
	return 0
}

// parseSizes parses "100,1000" into positive session counts.
func parseSizes(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive session count", part)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no session count in %q", s)
	}
	return out, nil
}
