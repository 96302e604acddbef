package app

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Worker is the pair of Temporal workers of one bridge process:
//
//   - on workflows.TaskQueue the session workflow and its short activities
//     (Salesforce calls, downloads, deliveries), at most worker.activity_slots
//     of them at once;
//   - on workflows.ListenerTaskQueue only the SSE listener, at most
//     worker.listener_slots at once (one per open session), so open streams
//     can never starve the short activities.
type Worker struct {
	main, listener worker.Worker
	acts           *activities.Activities
	logger         *slog.Logger

	mu      sync.Mutex // guards started
	started bool
}

// ListenerHeartbeatThrottle caps how long the SDK holds back a listener's
// heartbeat. Cancellation reaches an activity only in a heartbeat response,
// and the SDK's default throttle (80% of the 30s heartbeat timeout) would
// keep a closing session's run open ~24s for its listener to stop. Each
// heartbeat is a write on the Temporal server, one per open session per
// interval (the load benchmark measures it), so this matches the listener's
// own cadence (activities.DefaultListenerHeartbeat) instead of adding calls.
const ListenerHeartbeatThrottle = 10 * time.Second

// WorkerOption adjusts NewWorker.
type WorkerOption func(*workerSettings)

type workerSettings struct {
	miawOptions []miaw.Option
	salesforce  activities.Salesforce
	stopTimeout time.Duration
}

// WithMIAWOptions passes options (HTTP client, ...) to the MIAW client.
func WithMIAWOptions(opts ...miaw.Option) WorkerOption {
	return func(s *workerSettings) { s.miawOptions = append(s.miawOptions, opts...) }
}

// WithSalesforce replaces the MIAW client built from cfg (tests, soak).
func WithSalesforce(sf activities.Salesforce) WorkerOption {
	return func(s *workerSettings) { s.salesforce = sf }
}

// WithStopTimeout sets how long Stop lets running short activities finish
// before cancelling them (default 10s). Listeners are always cancelled at
// once: their sessions resume them from the heartbeated cursor elsewhere.
func WithStopTimeout(d time.Duration) WorkerOption {
	return func(s *workerSettings) { s.stopTimeout = d }
}

// NewWorker builds the MIAW client from cfg.MIAW(), opens the attachment
// store at cfg.Attachments.Dir, and creates both Temporal workers with every
// workflow and activity registered. Nothing polls until Start.
func NewWorker(cfg *config.Config, tc client.Client, sink activities.Sink, logger *slog.Logger, opts ...WorkerOption) (*Worker, error) {
	if tc == nil {
		return nil, errNilClient
	}
	if sink == nil {
		return nil, errors.New("app: delivery sink is nil")
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := workerSettings{stopTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&s)
	}
	sf := s.salesforce
	if sf == nil {
		mc, err := miaw.New(cfg.MIAW(), append([]miaw.Option{miaw.WithLogger(logger.With("component", "miaw"))}, s.miawOptions...)...)
		if err != nil {
			return nil, fmt.Errorf("miaw client: %w", err)
		}
		sf = mc
	}
	store, err := attachstore.Open(cfg.Attachments.Dir)
	if err != nil {
		return nil, fmt.Errorf("attachment store %s: %w", cfg.Attachments.Dir, err)
	}
	acts := &activities.Activities{
		SF:                sf,
		Temporal:          tc,
		Store:             store,
		Sink:              sink,
		AttachmentBaseURL: cfg.Attachments.PublicURL,
		Logger:            logger.With("component", "activities"),
	}

	mainWorker := worker.New(tc, workflows.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.Worker.ActivitySlots,
		WorkerStopTimeout:                  s.stopTimeout,
	})
	workflows.Register(mainWorker)
	acts.Register(mainWorker)

	listenerWorker := worker.New(tc, workflows.ListenerTaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.Worker.ListenerSlots,
		DisableWorkflowWorker:              true,
		MaxHeartbeatThrottleInterval:       ListenerHeartbeatThrottle,
	})
	acts.RegisterListener(listenerWorker)

	return &Worker{main: mainWorker, listener: listenerWorker, acts: acts, logger: logger}, nil
}

// Activities returns the activities the workers run (for their stats).
func (w *Worker) Activities() *activities.Activities { return w.acts }

// Start starts both workers (non-blocking). If the second fails to start the
// first is stopped again. A stopped Worker cannot be started again: build a
// new one with NewWorker.
func (w *Worker) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("app: worker already started")
	}
	if err := w.listener.Start(); err != nil {
		return fmt.Errorf("start listener worker on %s: %w", workflows.ListenerTaskQueue, err)
	}
	if err := w.main.Start(); err != nil {
		w.listener.Stop()
		return fmt.Errorf("start session worker on %s: %w", workflows.TaskQueue, err)
	}
	w.started = true
	w.logger.Info("workers started", "task_queue", workflows.TaskQueue, "listener_task_queue", workflows.ListenerTaskQueue)
	return nil
}

// Stop stops both workers: the session worker first (letting short
// activities finish within the stop timeout), then the listeners. It does not
// close the Temporal client. It is safe to call more than once, and from
// another goroutine than Start.
func (w *Worker) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return
	}
	w.started = false
	w.main.Stop()
	w.listener.Stop()
	w.logger.Info("workers stopped")
}
