package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// ConfigError is a Run failure caused by the configuration (a binary exits
// with its usage code); its message is one line naming the key.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Option adjusts Run.
type Option func(*runSettings)

type runSettings struct {
	logger      *slog.Logger
	client      client.Client
	registry    *metrics.Registry
	sink        activities.Sink
	console     io.Writer
	stopTimeout time.Duration
	onStarted   func()
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *runSettings) { s.logger = l } }

// WithClient runs the workers on c instead of dialing cfg.Temporal; the
// caller owns c (its encryption and metrics) and closes it after Run.
func WithClient(c client.Client) Option { return func(s *runSettings) { s.client = c } }

// WithMetrics reports the worker's counters into reg, which the caller owns
// and serves; without it Run makes its own registry and serves it on
// worker.metrics_listen when set.
func WithMetrics(reg *metrics.Registry) Option { return func(s *runSettings) { s.registry = reg } }

// WithSink delivers to the user through sink instead of the one
// cfg.Delivery describes.
func WithSink(sink activities.Sink) Option { return func(s *runSettings) { s.sink = sink } }

// WithConsole is where the console delivery sink writes (default stdout).
func WithConsole(w io.Writer) Option { return func(s *runSettings) { s.console = w } }

// WithStopTimeout sets how long stopping lets running short activities finish
// before cancelling them (default 10s). Listeners are always cancelled at
// once: their sessions resume them from the heartbeated cursor elsewhere.
func WithStopTimeout(d time.Duration) Option { return func(s *runSettings) { s.stopTimeout = d } }

// OnStarted is called once both workers poll.
func OnStarted(f func()) Option { return func(s *runSettings) { s.onStarted = f } }

// Run runs the bridge's workers until ctx ends, then stops them and returns
// nil. Unless WithClient is given it dials cfg.Temporal (encrypting payloads
// when codec.enabled, reporting SDK metrics) and registers the session search
// attributes, warning when it lacks the rights to. Failures to start are
// returned; a *ConfigError names the configuration key at fault. While it
// runs it also removes stored attachments past attachments.retention.
func Run(ctx context.Context, cfg *config.Config, opts ...Option) error {
	s := runSettings{logger: slog.Default(), console: os.Stdout, stopTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&s)
	}
	logger := s.logger

	reg := s.registry
	if reg == nil {
		var err error
		if reg, err = metrics.New(metrics.Options{Logger: logger.With("component", "metrics")}); err != nil {
			return fmt.Errorf("metrics registry: %w", err)
		}
		defer reg.Close()
		if cfg.Worker.MetricsListen != "" {
			var opts []metrics.ServeOption
			if cfg.Worker.PProf {
				opts = append(opts, metrics.WithProfiling())
			}
			srv, err := reg.Start(cfg.Worker.MetricsListen, opts...)
			if err != nil {
				return fmt.Errorf("worker.metrics_listen: cannot serve metrics on %s: %w", cfg.Worker.MetricsListen, err)
			}
			defer func() {
				shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdownCtx)
			}()
			logger.Info("serving metrics", "url", "http://"+srv.Addr()+metrics.Path)
		}
	}

	tc := s.client
	if tc == nil {
		var err error
		if tc, err = dial(ctx, cfg, logger, reg); err != nil {
			return err
		}
		defer tc.Close()
	}

	sink := s.sink
	if sink == nil {
		var err error
		if sink, err = NewSink(cfg.Delivery, s.console); err != nil {
			return &ConfigError{Err: err}
		}
	}
	w, err := newWorkers(cfg, tc, sink, nil, logger, s.stopTimeout)
	if err != nil {
		return fmt.Errorf("build workers: %w", err)
	}
	if err := registerMetrics(reg.Prometheus(), w); err != nil {
		return fmt.Errorf("register worker metrics: %w", err)
	}
	if err := w.start(); err != nil {
		return err
	}
	logger.Info("workers started", "task_queue", workflows.TaskQueue, "listener_task_queue", workflows.ListenerTaskQueue)
	if err := EnsureShards(ctx, tc, cfg.Session.ListenerShards); err != nil {
		// Sessions whose shard is not running run their own listener.
		logger.Error("listener shards not started; sessions fall back to their own listeners", "error", err)
	}
	go sweepAttachments(ctx, w.acts.Store, cfg.Attachments.Retention, attachmentSweepEvery, logger)
	if s.onStarted != nil {
		s.onStarted()
	}
	<-ctx.Done()
	logger.Info("shutting down", "cause", context.Cause(ctx))
	w.stop()
	logger.Info("workers stopped")
	return nil
}

// dial connects to cfg.Temporal with encryption and SDK metrics and
// registers the session search attributes.
func dial(ctx context.Context, cfg *config.Config, logger *slog.Logger, reg *metrics.Registry) (client.Client, error) {
	clientOpts, err := temporalclient.EncryptionOptions(cfg)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	clientOpts = append(clientOpts, temporalclient.WithMetricsHandler(reg.TemporalMetricsHandler()))
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	tc, err := temporalclient.Dial(dialCtx, cfg, logger, clientOpts...)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal: %w", err)
	}
	saCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = temporalclient.EnsureSearchAttributes(saCtx, tc, cfg.Temporal.Namespace)
	cancel()
	if err != nil {
		// Registering needs operator rights the worker may lack (e.g. Temporal
		// Cloud); starts fail without them, so say how to fix it.
		logger.Warn("search attributes not registered; register them with `temporal operator search-attribute create`",
			"error", err)
	}
	return tc, nil
}

// Background runs Run in a goroutine for a process that does more than run
// the workers (the demo, tests). It returns once the workers poll, or with
// Run's error if they cannot start; stop ends Run and waits for it, and
// may be called more than once.
func Background(cfg *config.Config, opts ...Option) (stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	opts = append(opts, OnStarted(func() { close(started) }))
	go func() { done <- Run(ctx, cfg, opts...) }()
	select {
	case <-started:
		var once sync.Once
		return func() { once.Do(func() { cancel(); <-done }) }, nil
	case err := <-done:
		cancel()
		return nil, err
	}
}
