// Command worker is the production live-agent worker: it loads and validates
// the configuration (file + env), connects to any Temporal (address,
// namespace, TLS or API key), registers the session search attributes,
// and runs the session workflow, its activities and the SSE listeners until
// SIGINT/SIGTERM, then stops gracefully.
//
// With codec.enabled every payload it writes to Temporal is encrypted with
// codec.keys (package codec). With worker.metrics_listen it serves
// Prometheus metrics on http://<metrics_listen>/metrics: the Temporal SDK's
// temporal_* metrics, go_*/process_*, and the bridge's liveagent_* counters.
//
//	worker -config liveagent.yaml
//
// Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on a usage
// or configuration error (printed as one line naming the key).
//
// It links the Temporal SDK only, never the server (see deps_test.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/app"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/metrics"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code. The worker runs until
// ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file; LIVEAGENT_* and TEMPORAL_* environment variables override it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "worker: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	clientOpts, err := app.EncryptionOptions(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	logger := app.NewLogger(cfg.Log, stderr)
	logger.Info("configuration loaded", "file", *configPath, "config", cfg.Redacted())

	// One metrics registry per process: the SDK reports into it whether or
	// not it is served.
	reg, err := metrics.New(metrics.Options{Logger: logger.With("component", "metrics")})
	if err != nil {
		logger.Error("cannot create metrics registry", "error", err)
		return 1
	}
	defer reg.Close()
	clientOpts = append(clientOpts, app.WithMetricsHandler(reg.TemporalMetricsHandler()))
	if cfg.Worker.MetricsListen != "" {
		srv, err := reg.Start(cfg.Worker.MetricsListen)
		if err != nil {
			fmt.Fprintf(stderr, "worker.metrics_listen: cannot serve metrics on %s: %v\n", cfg.Worker.MetricsListen, err)
			return 1
		}
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		}()
		logger.Info("serving metrics", "url", "http://"+srv.Addr()+metrics.Path)
	}

	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := app.Dial(dialCtx, cfg, logger, clientOpts...)
	cancel()
	if err != nil {
		logger.Error("cannot connect to Temporal", "error", err)
		return 1
	}
	defer c.Close()

	saCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = app.EnsureSearchAttributes(saCtx, c, cfg.Temporal.Namespace)
	cancel()
	if err != nil {
		// Registering needs operator rights the worker may lack (e.g. Temporal
		// Cloud); starts fail without them, so say how to fix it.
		logger.Warn("search attributes not registered; register them with `temporal operator search-attribute create`",
			"error", err)
	}

	sink, err := app.NewSink(cfg.Delivery, stdout)
	if err != nil {
		logger.Error("delivery sink", "error", err)
		return 2
	}
	w, err := app.NewWorker(cfg, c, sink, logger)
	if err != nil {
		logger.Error("cannot build worker", "error", err)
		return 1
	}
	if err := app.RegisterWorkerMetrics(reg.Prometheus(), w); err != nil {
		logger.Error("cannot register worker metrics", "error", err)
		return 1
	}
	if err := w.Start(); err != nil {
		logger.Error("cannot start worker", "error", err)
		return 1
	}
	<-ctx.Done()
	logger.Info("shutting down", "cause", context.Cause(ctx))
	w.Stop()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}
