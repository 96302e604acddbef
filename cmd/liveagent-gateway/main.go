// Command liveagent-gateway serves the assistant HTTP JSON API (package
// gateway) against a Temporal cluster: it loads and validates the
// configuration (file + env, the same keys as the worker), dials Temporal,
// opens the attachment store shared with the worker (attachments.dir) and
// listens on gateway.listen until SIGINT/SIGTERM.
//
//	liveagent-gateway -config liveagent.yaml
//
// gateway.bearer_token is required. Starts are checked against
// availability.* (GET /v1/availability answers the same check); with
// availability.source salesforce it reads the deployment's business hours
// from Salesforce (unauthenticated, cached availability.salesforce_cache_ttl). With codec.enabled the client encrypts
// payloads exactly like the worker must, and the gateway serves the codec
// endpoint for operators on /codec/ (POST /codec/decode, /codec/encode),
// guarded by codec.operator_token (then required) and open to browsers from
// codec.cors_origins. Exit codes: 0 after a clean shutdown, 1 on a runtime
// failure, 2 on a usage or configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/httpserver"
	"github.com/liveagent-bridge/liveagent/internal/logging"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run is the whole program; it returns the exit code. When ready is not nil
// it receives the listening address once the gateway serves.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("liveagent-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file; LIVEAGENT_* and TEMPORAL_* environment variables override it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liveagent-gateway: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cfg.Gateway.BearerToken == "" {
		fmt.Fprintln(stderr, "config: gateway.bearer_token: must be set for the gateway (env LIVEAGENT_GATEWAY_BEARER_TOKEN)")
		return 2
	}
	logger := logging.NewLogger(cfg.Log, stderr)

	// With codec.enabled the client encrypts payloads exactly like the
	// worker, and operators decrypt history through /codec/.
	ring, err := temporalclient.Keyring(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var codecHandler http.Handler
	if ring != nil {
		if codecHandler, err = temporalclient.NewCodecHandler(cfg, ring, logger); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	clientOpts := []temporalclient.ClientOption{temporalclient.WithEncryption(ring)}
	logger.Info("configuration loaded", "file", *configPath, "config", cfg.Redacted())

	store, err := attachstore.Open(cfg.Attachments.Dir)
	if err != nil {
		logger.Error("cannot open attachment store", "dir", cfg.Attachments.Dir, "error", err)
		return 1
	}

	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	tc, err := temporalclient.Dial(dialCtx, cfg, logger, clientOpts...)
	cancel()
	if err != nil {
		logger.Error("cannot connect to Temporal", "error", err)
		return 1
	}
	defer tc.Close()

	sessions, err := wiring.Starter(cfg, tc, store, logger)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	links, err := cfg.LinkSigner()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	g, err := gateway.New(gateway.Options{
		Sessions:     sessions,
		Files:        store,
		Links:        links,
		BearerToken:  cfg.Gateway.BearerToken,
		Topics:       cfg.Session.Topics,
		MaxBodyBytes: cfg.Gateway.MaxBodyBytes,
		Codec:        codecHandler,
		Logger:       logger.With("component", "gateway"),
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return serve(ctx, cfg.Gateway.Listen, g, logger, ready)
}

func serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, ready chan<- string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("cannot listen", "addr", addr, "error", err)
		return 1
	}
	logger.Info("gateway listening", "addr", l.Addr().String())
	if ready != nil {
		ready <- l.Addr().String()
	}
	err = httpserver.Serve(ctx, l, h, httpserver.Limits{}, logger)
	switch {
	case errors.Is(err, httpserver.ErrShutdown):
		logger.Warn("gateway shutdown", "error", err)
	case err != nil:
		logger.Error("gateway stopped", "error", err)
		return 1
	}
	logger.Info("gateway stopped")
	return 0
}
