// Command liveagent-worker is the production live-agent worker: it loads and
// validates the configuration (file + env) and runs worker.Run (the session
// workflow, its activities and the SSE listeners against any Temporal) until
// SIGINT/SIGTERM, then stops gracefully.
//
// With codec.enabled every payload it writes to Temporal is encrypted with
// codec.keys (package codec). With worker.metrics_listen it serves
// Prometheus metrics on http://<metrics_listen>/metrics: the Temporal SDK's
// temporal_* metrics, go_*/process_*, and the bridge's liveagent_* counters.
//
//	liveagent-worker -config liveagent.yaml
//
// Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on a usage
// or configuration error (printed as one line naming the key).
//
// It links the Temporal SDK only, never the server (main_test.go checks).
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

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/logging"
	"github.com/liveagent-bridge/liveagent/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code. The worker runs until
// ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("liveagent-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file; LIVEAGENT_* and TEMPORAL_* environment variables override it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liveagent-worker: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	logger := logging.NewLogger(cfg.Log, stderr)
	logger.Info("configuration loaded", "file", *configPath, "config", cfg.Redacted())

	err = worker.Run(ctx, cfg, worker.WithLogger(logger), worker.WithConsole(stdout))
	var configErr *worker.ConfigError
	switch {
	case errors.As(err, &configErr):
		fmt.Fprintln(stderr, err)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return 1
	}
	return 0
}
