package activities

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Salesforce is the subset of *miaw.Client the activities use. Tests provide
// an in-memory fake.
type Salesforce interface {
	Token(ctx context.Context, userID string) (*miaw.Token, error)
	CreateConversation(ctx context.Context, userID string, req miaw.CreateConversationRequest) error
	SendMessage(ctx context.Context, userID, conversationID string, msg miaw.TextMessage) (*miaw.SendResult, error)
	SendFile(ctx context.Context, userID, conversationID string, f miaw.File) (*miaw.SendResult, error)
	EndSession(ctx context.Context, userID, conversationID string) error
	CloseConversation(ctx context.Context, userID, conversationID string) error
	DownloadAttachment(ctx context.Context, userID string, att miaw.Attachment) (*miaw.Download, error)
	Stream(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error) error
	GoStream(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error, done func(error)) error
	EntriesSince(ctx context.Context, userID, conversationID string, sinceMillis int64) ([]miaw.ConversationEntry, error)
	SendTyping(ctx context.Context, userID, conversationID string, started bool) error
	Acknowledge(ctx context.Context, userID, conversationID string, acks ...miaw.Ack) error
}

// WorkflowSignaler is the part of client.Client the listener needs; a
// client.Client satisfies it.
type WorkflowSignaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Sink shows things to the user: it is how the bridge talks back to the
// assistant. Deliver must be idempotent on Delivery.ID, because an activity
// may run more than once.
type Sink interface {
	Deliver(ctx context.Context, d workflows.Delivery) error
}

// DefaultListenerHeartbeat is how often the listener heartbeats when no event
// arrives, so the workflow's cancellation reaches it within this interval.
// Each heartbeat is a write on the Temporal server per open session, so it is
// not shorter; the activity's HeartbeatTimeout must be comfortably larger
// (workflows.Settings.ListenerHeartbeatTimeout, at least
// workflows.MinListenerHeartbeatTimeout).
const DefaultListenerHeartbeat = 10 * time.Second

// Activities holds the dependencies of every activity. Create it once per
// worker process and register it with Register and RegisterListener. All
// fields except Logger are required for the activities that use them.
type Activities struct {
	SF Salesforce
	// Temporal signals agent events to session workflows (a client.Client).
	Temporal WorkflowSignaler
	// Shards reads listener shard membership (a client.Client); only
	// ListenShard needs it.
	Shards ShardQuerier
	// Sessions lets the listeners deliver agent typing and receipts without
	// signalling them, when the session answers with their delivery (a
	// client.Client; listenerdelivery.go); nil: every event is signalled.
	Sessions SessionQuerier
	Store    *attachstore.Store
	Sink     Sink
	// History imports the assistant's conversation with Salesforce's
	// Conversation History API (salesforce.conversation_history); nil makes
	// ImportHistory fail, and the session attaches the transcript file.
	History HistoryImporter
	// AttachmentBaseURL is where the assistant fetches stored attachments;
	// AttachmentRef.URL is AttachmentBaseURL + "/" + sha256.
	AttachmentBaseURL string
	// Links, when set, signs the attachment link of every delivery at
	// delivery time (attachments.link_secret), so the user's browser can
	// open it without a secret until it expires. History keeps the unsigned
	// URL. Nil delivers the unsigned URL (it needs the gateway bearer token).
	Links *attachstore.LinkSigner
	// MaxDownloadBytes caps a file an agent shares
	// (attachments.max_download_bytes, which the miaw client enforces too);
	// 0 leaves it to the client.
	MaxDownloadBytes int64
	Logger           *slog.Logger

	// Test hooks; zero values mean production behaviour.
	heartbeatEvery  time.Duration
	recordHeartbeat func(ctx context.Context, details ...any)
	signalBackoff   time.Duration
	shardPoll       time.Duration

	stats listenerCounters
}

// Register registers every activity except the listener under its
// workflows.Activity* name. Any worker.Worker (or test environment) is an
// ActivityRegistry.
func (a *Activities) Register(r worker.ActivityRegistry) {
	workflows.RegisterActivities(r, a)
}

// RegisterListener registers the SSE listener (workflows.ActivityListen). Call
// it on the worker of workflows.ListenerTaskQueue, whose activity slot budget
// bounds the number of concurrently open streams.
func (a *Activities) RegisterListener(r worker.ActivityRegistry) {
	workflows.RegisterListener(r, a)
}

// RegisterShardListener registers the shard listener
// (workflows.ActivityListenShard). Call it on the worker of
// workflows.ListenerShardTaskQueue.
func (a *Activities) RegisterShardListener(r worker.ActivityRegistry) {
	workflows.RegisterShardListener(r, a)
}

// ListenerStats are cumulative counters of the listeners of this process.
type ListenerStats struct {
	Signalled int64 // events signalled to a workflow
	// Delivered counts agent typing and receipts the listeners delivered
	// to the assistant themselves, without a signal.
	Delivered     int64
	Skipped       int64 // echoes, other conversations, unmodelled events
	Malformed     int64 // events that could not be translated
	SignalRetries int64 // transient signal failures that were retried
	Undeliverable int64 // events that could not be encoded or that the server refused to take as a signal
	// CaughtUp counts entries forwarded from the conversation entries list
	// after a resume (included in Signalled or Delivered); CatchUpFailures
	// counts catch-ups given up on a permanent listing error.
	CaughtUp, CatchUpFailures int64
	// Unsupported counts agent messages signalled as a notice because their
	// message or format type cannot be shown (MetricUnsupportedContent).
	Unsupported int64
	// ShardStreams is the number of streams the shard listeners of this
	// process hold now; ShardQueryFailures counts failed membership queries.
	ShardStreams, ShardQueryFailures int64
}

type listenerCounters struct {
	signalled, skipped, malformed, signalRetries, undeliverable, caughtUp, catchUpFailures, unsupported atomic.Int64
	delivered                                                                                           atomic.Int64
	shardStreams, shardQueryFailures                                                                    atomic.Int64
}

// ListenerStats returns the listener counters.
func (a *Activities) ListenerStats() ListenerStats {
	return ListenerStats{
		Signalled:       a.stats.signalled.Load(),
		Delivered:       a.stats.delivered.Load(),
		Skipped:         a.stats.skipped.Load(),
		Malformed:       a.stats.malformed.Load(),
		SignalRetries:   a.stats.signalRetries.Load(),
		Undeliverable:   a.stats.undeliverable.Load(),
		CaughtUp:        a.stats.caughtUp.Load(),
		CatchUpFailures: a.stats.catchUpFailures.Load(),
		Unsupported:     a.stats.unsupported.Load(),

		ShardStreams:       a.stats.shardStreams.Load(),
		ShardQueryFailures: a.stats.shardQueryFailures.Load(),
	}
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
