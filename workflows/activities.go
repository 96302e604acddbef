package workflows

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
)

// Activity names. The workflow schedules activities by these names, so it
// never imports the code that does I/O; they are persisted in history, so
// never rename one.
const (
	ActivityStreamPosition     = "StreamPosition"
	ActivityCreateConversation = "CreateConversation"
	ActivitySendMessage        = "SendMessage"
	ActivitySendAttachment     = "SendAttachment"
	ActivityEndConversation    = "EndConversation"
	ActivityListen             = "ListenEvents"
	ActivityDownloadAttachment = "DownloadAttachment"
	ActivityDeliver            = "DeliverToUser"
	ActivityRecentEvents       = "RecentEvents"
	// ActivitySendTyping and ActivityAcknowledge are in presence.go,
	// ActivityImportHistory in historyimport.go.
)

// HeartbeatsOwnDetails reports whether the activity records heartbeat
// details itself (progress its next attempt resumes from). The worker's
// keep-alive heartbeats (activities.KeepAlive) leave those alone: a heartbeat
// without details would overwrite them.
func HeartbeatsOwnDetails(activityType string) bool {
	switch activityType {
	case ActivityListen, ActivityListenShard, ActivityImportHistory:
		return true
	}
	return false
}

// SessionActivities are the short activities a session runs on TaskQueue,
// with the signatures the workflow calls them with. Package activities
// implements them against Salesforce and the assistant.
type SessionActivities interface {
	// StreamPosition is ActivityStreamPosition.
	StreamPosition(context.Context, StreamPositionInput) (StreamPositionResult, error)
	// CreateConversation is ActivityCreateConversation.
	CreateConversation(context.Context, CreateConversationInput) (CreateConversationResult, error)
	// SendMessage is ActivitySendMessage.
	SendMessage(context.Context, SendMessageInput) (SendResult, error)
	// SendAttachment is ActivitySendAttachment.
	SendAttachment(context.Context, SendAttachmentInput) (SendResult, error)
	// EndConversation is ActivityEndConversation.
	EndConversation(context.Context, EndConversationInput) error
	// DownloadAttachment is ActivityDownloadAttachment.
	DownloadAttachment(context.Context, DownloadInput) (AttachmentRef, error)
	// DeliverToUser is ActivityDeliver.
	DeliverToUser(context.Context, Delivery) error
	// RecentEvents is ActivityRecentEvents.
	RecentEvents(context.Context, RecentEventsInput) ([]AgentEvent, error)
	// SendTyping is ActivitySendTyping.
	SendTyping(context.Context, SendTypingInput) error
	// AcknowledgeEntries is ActivityAcknowledge.
	AcknowledgeEntries(context.Context, AcknowledgeInput) error
	// ImportHistory is ActivityImportHistory (historyimport.go).
	ImportHistory(context.Context, ImportHistoryInput) error
}

// Listener is the long-running SSE listener a session runs on
// ListenerTaskQueue.
type Listener interface {
	// ListenEvents is ActivityListen.
	ListenEvents(context.Context, ListenInput) error
}

// RegisterActivities registers every method of a under its Activity* name,
// on the worker of TaskQueue (or a test environment). It is the one table
// from names to implementations.
func RegisterActivities(r worker.ActivityRegistry, a SessionActivities) {
	for _, act := range []struct {
		name string
		fn   any
	}{
		{ActivityStreamPosition, a.StreamPosition},
		{ActivityCreateConversation, a.CreateConversation},
		{ActivitySendMessage, a.SendMessage},
		{ActivitySendAttachment, a.SendAttachment},
		{ActivityEndConversation, a.EndConversation},
		{ActivityDownloadAttachment, a.DownloadAttachment},
		{ActivityDeliver, a.DeliverToUser},
		{ActivityRecentEvents, a.RecentEvents},
		{ActivitySendTyping, a.SendTyping},
		{ActivityAcknowledge, a.AcknowledgeEntries},
		{ActivityImportHistory, a.ImportHistory},
	} {
		r.RegisterActivityWithOptions(act.fn, activity.RegisterOptions{Name: act.name})
	}
}

// RegisterListener registers l as ActivityListen, on the worker of
// ListenerTaskQueue, whose activity slot budget bounds the number of open
// streams.
func RegisterListener(r worker.ActivityRegistry, l Listener) {
	r.RegisterActivityWithOptions(l.ListenEvents, activity.RegisterOptions{Name: ActivityListen})
}

// ShardListener is the listener of a listener shard, run on
// ListenerShardTaskQueue.
type ShardListener interface {
	// ListenShard is ActivityListenShard.
	ListenShard(context.Context, ListenShardInput) (ListenShardResult, error)
}

// RegisterShardListener registers l as ActivityListenShard, on the worker of
// ListenerShardTaskQueue.
func RegisterShardListener(r worker.ActivityRegistry, l ShardListener) {
	r.RegisterActivityWithOptions(l.ListenShard, activity.RegisterOptions{Name: ActivityListenShard})
}
