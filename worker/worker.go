package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// ListenerHeartbeatThrottle caps how long the SDK holds back a listener's
// heartbeat. Cancellation reaches an activity only in a heartbeat response,
// and the SDK's default throttle (80% of the 30s heartbeat timeout) would
// keep a closing session's run open ~24s for its listener to stop. Each
// heartbeat is a write on the Temporal server, one per open session per
// interval (the load benchmark measures it), so this matches the listener's
// own cadence (activities.DefaultListenerHeartbeat) instead of adding calls.
const ListenerHeartbeatThrottle = 10 * time.Second

// ShardHeartbeatThrottle caps how long the SDK holds back a shard listener's
// heartbeat: a third of workflows.ShardHeartbeatTimeout, so a beat may be
// lost without the shard being taken for dead. There are only
// session.listener_shards of them, whatever the number of sessions.
const ShardHeartbeatThrottle = workflows.ShardHeartbeatTimeout / 3

// workflowTaskPollers is how the session worker polls for workflow tasks:
// the SDK's autoscaling pollers, which always keep one poll on the normal
// task queue open beside the sticky ones. The SDK's default (a simple
// maximum of 2 mixed pollers) sends every poll to the worker's sticky queue
// while the server reports a sticky backlog, so on a busy worker the normal
// queue is not polled at all. That is where a workflow task goes when its
// sticky queue was lost with a Temporal node (after the 5 s sticky
// schedule-to-start timeout): measured on a loaded 2-core machine, such
// tasks waited 94 s and 37 s, until a new worker process with no sticky
// backlog polled the normal queue (README, "Losing a node").
//
// Two pollers, as many as the SDK's default: the point is which queues they
// poll, not more concurrent polls on a CPU-starved worker (soaks at load
// average 20 with up to 10 pollers did no better). Measured again with the
// load benchmark (3,000 sessions, 2 cores shared with the embedded server,
// 2026-11-30): up to 8 opened them in 351 s instead of 283, agent→user p99
// 385 ms instead of 87, and the busier server timed out 233 shard listener
// attempts instead of 2. That is so although with 2, at 10,000 sessions,
// most workflow tasks waited 1–5 s for a poll: the server, not the polls,
// was the limit.
func workflowTaskPollers() sdkworker.PollerBehavior {
	return sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{
		InitialNumberOfPollers: 2,
		MinimumNumberOfPollers: 2, // one normal and one sticky
		MaximumNumberOfPollers: 2,
	})
}

// workers is the pair of Temporal workers of one bridge process:
//
//   - on workflows.TaskQueue the session workflow and its short activities
//     (Salesforce calls, downloads, deliveries), at most worker.activity_slots
//     of them at once;
//   - on workflows.ListenerTaskQueue only the SSE listener, at most
//     worker.listener_slots at once (one per open session), so open streams
//     can never starve the short activities.
//   - on workflows.ListenerShardTaskQueue the listener shard workflows and
//     their activities (session.listener_shards), each activity holding many
//     sessions' streams. The shard workflows' tasks and membership queries
//     have pollers of their own here, so they do not wait behind the
//     sessions' workflow tasks (after a restart, behind every session's
//     replay).
type workers struct {
	main, listener, shards sdkworker.Worker
	acts                   *activities.Activities
}

// newWorkers builds the MIAW client from cfg.MIAW() (unless sf is given),
// opens the attachment store at cfg.Attachments.Dir, and creates the three
// Temporal workers with every workflow and activity registered. Nothing
// polls until start.
func newWorkers(cfg *config.Config, tc client.Client, sink activities.Sink, sf activities.Salesforce, logger *slog.Logger, stopTimeout time.Duration) (*workers, error) {
	if tc == nil {
		return nil, errors.New("worker: temporal client is nil")
	}
	if sink == nil {
		return nil, errors.New("worker: delivery sink is nil")
	}
	w := &workers{}
	if sf == nil {
		mc, err := miaw.New(cfg.MIAW(), miaw.WithLogger(logger.With("component", "miaw")))
		if err != nil {
			return nil, fmt.Errorf("miaw client: %w", err)
		}
		sf = mc
	}
	store, err := attachstore.Open(cfg.Attachments.Dir)
	if err != nil {
		return nil, fmt.Errorf("attachment store %s: %w", cfg.Attachments.Dir, err)
	}
	links, err := cfg.LinkSigner()
	if err != nil {
		return nil, err
	}
	history, err := historyClient(cfg, logger)
	if err != nil {
		return nil, err
	}
	w.acts = &activities.Activities{
		SF:                sf,
		History:           history,
		Temporal:          tc,
		Shards:            tc,
		Sessions:          tc,
		Store:             store,
		Sink:              sink,
		AttachmentBaseURL: cfg.Attachments.PublicURL,
		MaxDownloadBytes:  cfg.Attachments.MaxDownloadBytes,
		Links:             links,
		Logger:            logger.With("component", "activities"),
	}

	// The SDK's workflow cache is process-wide: its size is read when the
	// first worker of the process is created, so every newWorkers sets it.
	cacheSize := cfg.Worker.WorkflowCacheSize
	if cacheSize == 0 {
		cacheSize = config.DefaultWorkflowCacheSize
	}
	sdkworker.SetStickyWorkflowCacheSize(cacheSize)
	w.main = sdkworker.New(tc, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: cfg.Worker.ActivitySlots,
		WorkerStopTimeout:                  stopTimeout,
		WorkflowTaskPollerBehavior:         workflowTaskPollers(),
		Interceptors:                       []interceptor.WorkerInterceptor{activities.KeepAlive()},
	})
	workflows.Register(w.main)
	w.acts.Register(w.main)

	w.listener = sdkworker.New(tc, workflows.ListenerTaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: cfg.Worker.ListenerSlots,
		DisableWorkflowWorker:              true,
		MaxHeartbeatThrottleInterval:       ListenerHeartbeatThrottle,
	})
	w.acts.RegisterListener(w.listener)

	w.shards = sdkworker.New(tc, workflows.ListenerShardTaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: max(cfg.Session.ListenerShards, 1),
		MaxHeartbeatThrottleInterval:       ShardHeartbeatThrottle,
		WorkflowTaskPollerBehavior:         workflowTaskPollers(),
	})
	workflows.RegisterShard(w.shards)
	w.acts.RegisterShardListener(w.shards)
	return w, nil
}

// start starts the three workers (non-blocking); if one fails those started
// are stopped again.
func (w *workers) start() error {
	if err := w.shards.Start(); err != nil {
		return fmt.Errorf("start shard listener worker on %s: %w", workflows.ListenerShardTaskQueue, err)
	}
	if err := w.listener.Start(); err != nil {
		w.shards.Stop()
		return fmt.Errorf("start listener worker on %s: %w", workflows.ListenerTaskQueue, err)
	}
	if err := w.main.Start(); err != nil {
		w.listener.Stop()
		w.shards.Stop()
		return fmt.Errorf("start session worker on %s: %w", workflows.TaskQueue, err)
	}
	return nil
}

// stop stops the session worker first (letting short activities finish
// within the stop timeout), then the listeners, which their sessions resume
// elsewhere from the heartbeated cursor. It does not close the client.
func (w *workers) stop() {
	w.main.Stop()
	w.listener.Stop()
	w.shards.Stop()
}

// historyClient is the Conversation History API client of
// salesforce.conversation_history, or nil (an untyped nil interface) when it
// is disabled.
func historyClient(cfg *config.Config, logger *slog.Logger) (activities.HistoryImporter, error) {
	hc, ok := cfg.HistoryAPI()
	if !ok {
		return nil, nil
	}
	c, err := miaw.NewHistoryClient(hc, miaw.WithHistoryLogger(logger.With("component", "conversation-history")))
	if err != nil {
		return nil, fmt.Errorf("conversation history client: %w", err)
	}
	return c, nil
}
