// Package sessionfakes provides in-memory session activities for the
// workflow tests and the replay-history recorder: they record every call,
// return deterministic results and fail only when a hook says so.
package sessionfakes

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// Stream positions the fakes report. CreatePosition is later than
// StreamPosition, as the position reported by a create attempt retried
// after an earlier attempt created the conversation would be.
const (
	StreamPosition = "ev-before-create"
	CreatePosition = "ev-after-accept"
)

// What DownloadAttachment stores for every agent attachment.
const (
	AttachmentSize   = 4
	AttachmentSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	AttachmentURL    = "http://127.0.0.1:8080/attachments/" + AttachmentSHA256
)

// Activities implements workflows.SessionActivities and workflows.Listener
// in memory. The zero value is ready to use; set the hooks before a worker
// runs the activities. Its methods are safe for concurrent use.
type Activities struct {
	// CreateErr, when set, is what CreateConversation fails with.
	CreateErr error
	// SendErr, when set, decides whether SendMessage fails.
	SendErr func(workflows.SendMessageInput) error
	// SendAttachmentErr, when set, decides whether SendAttachment fails; a
	// failed attachment is not recorded.
	SendAttachmentErr func(workflows.SendAttachmentInput) error
	// DeliverErr, when set, decides whether DeliverToUser fails; a failed
	// delivery is not recorded.
	DeliverErr func(context.Context, workflows.Delivery) error
	// Logger, when set, logs every delivery.
	Logger *slog.Logger
	// RecentEventsResult is what RecentEvents answers.
	RecentEventsResult []workflows.AgentEvent
	// ImportErr, when set, is what ImportHistory fails with; a failed
	// import is not recorded.
	ImportErr error

	mu          sync.Mutex
	recentCalls []workflows.RecentEventsInput
	created     []workflows.CreateConversationInput
	sent        []workflows.SendMessageInput
	attachments []workflows.SendAttachmentInput
	ended       []workflows.EndConversationInput
	downloads   []workflows.DownloadInput
	delivered   []workflows.Delivery
	typing      []workflows.SendTypingInput
	acks        []workflows.AcknowledgeInput
	imports     []workflows.ImportHistoryInput
	scripts     map[string]chan workflows.AgentEvent // by workflow id
}

var (
	_ workflows.SessionActivities = (*Activities)(nil)
	_ workflows.Listener          = (*Activities)(nil)
)

// StreamPosition reports StreamPosition.
func (f *Activities) StreamPosition(context.Context, workflows.StreamPositionInput) (workflows.StreamPositionResult, error) {
	return workflows.StreamPositionResult{LastEventID: StreamPosition}, nil
}

// CreateConversation records in and reports CreatePosition.
func (f *Activities) CreateConversation(_ context.Context, in workflows.CreateConversationInput) (workflows.CreateConversationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, in)
	if f.CreateErr != nil {
		return workflows.CreateConversationResult{}, f.CreateErr
	}
	return workflows.CreateConversationResult{LastEventID: CreatePosition}, nil
}

// SendMessage records in; its entry id is "entry-" + the MIAW message id.
func (f *Activities) SendMessage(_ context.Context, in workflows.SendMessageInput) (workflows.SendResult, error) {
	f.mu.Lock()
	f.sent = append(f.sent, in)
	f.mu.Unlock()
	if f.SendErr != nil {
		if err := f.SendErr(in); err != nil {
			return workflows.SendResult{}, err
		}
	}
	return workflows.SendResult{EntryID: "entry-" + in.MessageID}, nil
}

// SendAttachment records in; its entry id is "entry-" + the MIAW message id.
func (f *Activities) SendAttachment(_ context.Context, in workflows.SendAttachmentInput) (workflows.SendResult, error) {
	if f.SendAttachmentErr != nil {
		if err := f.SendAttachmentErr(in); err != nil {
			return workflows.SendResult{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attachments = append(f.attachments, in)
	return workflows.SendResult{EntryID: "entry-" + in.MessageID}, nil
}

// EndConversation records in.
func (f *Activities) EndConversation(_ context.Context, in workflows.EndConversationInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, in)
	return nil
}

// DownloadAttachment records in and answers as if it stored AttachmentSHA256.
func (f *Activities) DownloadAttachment(_ context.Context, in workflows.DownloadInput) (workflows.AttachmentRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.downloads = append(f.downloads, in)
	return workflows.AttachmentRef{
		Name: in.Attachment.Name, MimeType: in.Attachment.MimeType, Size: AttachmentSize,
		SHA256: AttachmentSHA256, URL: AttachmentURL,
	}, nil
}

// DeliverToUser records d unless DeliverErr fails it.
func (f *Activities) DeliverToUser(ctx context.Context, d workflows.Delivery) error {
	if f.DeliverErr != nil {
		if err := f.DeliverErr(ctx, d); err != nil {
			return err
		}
	}
	if f.Logger != nil {
		f.Logger.Info("Deliver", "user", d.UserID, "kind", d.Kind, "id", d.ID, "text", d.Text)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, d)
	return nil
}

// RecentEvents returns RecentEventsResult (nil: none) and records the call.
func (f *Activities) RecentEvents(_ context.Context, in workflows.RecentEventsInput) ([]workflows.AgentEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recentCalls = append(f.recentCalls, in)
	return f.RecentEventsResult, nil
}

// RecentCalls returns the RecentEvents calls, in order.
func (f *Activities) RecentCalls() []workflows.RecentEventsInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.recentCalls)
}

// ListenEvents signals the events Emit scripts for in.WorkflowID to that
// workflow, heartbeating the cursor, until it is cancelled.
func (f *Activities) ListenEvents(ctx context.Context, in workflows.ListenInput) error {
	events := f.script(in.WorkflowID)
	c := activity.GetClient(ctx)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		activity.RecordHeartbeat(ctx, in.LastEventID)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case ev := <-events:
			if err := c.SignalWorkflow(ctx, in.WorkflowID, "", workflows.SignalAgentEvent, ev); err != nil {
				return fmt.Errorf("signal %s: %w", in.WorkflowID, err)
			}
			in.LastEventID = ev.EventID
		}
	}
}

// ListenShard signals the events Emit scripts for every member of the shard
// (read with QueryShardMembers) to the member's run, until it is cancelled
// or the shard drains.
func (f *Activities) ListenShard(ctx context.Context, in workflows.ListenShardInput) (workflows.ListenShardResult, error) {
	c := activity.GetClient(ctx)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		activity.RecordHeartbeat(ctx)
		v, err := c.QueryWorkflow(ctx, in.ShardWorkflowID, "", workflows.QueryShardMembers, int64(-1))
		var view workflows.ShardView
		if err == nil {
			err = v.Get(&view)
		}
		if err == nil && view.Draining {
			return workflows.ListenShardResult{}, nil
		}
		for _, m := range view.Members {
			select {
			case ev := <-f.script(m.WorkflowID):
				if err := c.SignalWorkflow(ctx, m.WorkflowID, m.RunID, workflows.SignalAgentEvent, ev); err != nil {
					return workflows.ListenShardResult{}, fmt.Errorf("signal %s: %w", m.WorkflowID, err)
				}
			default:
			}
		}
		select {
		case <-ctx.Done():
			return workflows.ListenShardResult{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// Emit scripts ev for the listener of workflowID. At most 100 events wait
// per workflow; Emit blocks beyond that.
func (f *Activities) Emit(workflowID string, ev workflows.AgentEvent) {
	f.script(workflowID) <- ev
}

func (f *Activities) script(workflowID string) chan workflows.AgentEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.scripts[workflowID]
	if !ok {
		if f.scripts == nil {
			f.scripts = map[string]chan workflows.AgentEvent{}
		}
		ch = make(chan workflows.AgentEvent, 100)
		f.scripts[workflowID] = ch
	}
	return ch
}

// Created returns the CreateConversation calls, in order.
func (f *Activities) Created() []workflows.CreateConversationInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.created)
}

// Sent returns the SendMessage calls, in order.
func (f *Activities) Sent() []workflows.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// SentTexts returns the text of every SendMessage call, in order.
func (f *Activities) SentTexts() []string {
	var out []string
	for _, s := range f.Sent() {
		out = append(out, s.Text)
	}
	return out
}

// Attachments returns the SendAttachment calls, in order.
func (f *Activities) Attachments() []workflows.SendAttachmentInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attachments)
}

// Ended returns the EndConversation calls, in order.
func (f *Activities) Ended() []workflows.EndConversationInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ended)
}

// Downloads returns the DownloadAttachment calls, in order.
func (f *Activities) Downloads() []workflows.DownloadInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.downloads)
}

// Delivered returns the successful deliveries, in order.
func (f *Activities) Delivered() []workflows.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.delivered)
}

// Deliveries returns the successful deliveries of kind, in order.
func (f *Activities) Deliveries(kind workflows.DeliveryKind) []workflows.Delivery {
	var out []workflows.Delivery
	for _, d := range f.Delivered() {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// DeliveredTexts returns the text of every successful delivery of kind.
func (f *Activities) DeliveredTexts(kind workflows.DeliveryKind) []string {
	var out []string
	for _, d := range f.Deliveries(kind) {
		out = append(out, d.Text)
	}
	return out
}

// SendTyping records in.
func (f *Activities) SendTyping(_ context.Context, in workflows.SendTypingInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing = append(f.typing, in)
	return nil
}

// AcknowledgeEntries records in.
func (f *Activities) AcknowledgeEntries(_ context.Context, in workflows.AcknowledgeInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, in)
	return nil
}

// ImportHistory records in, or fails with ImportErr.
func (f *Activities) ImportHistory(_ context.Context, in workflows.ImportHistoryInput) error {
	if f.ImportErr != nil {
		return f.ImportErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports = append(f.imports, in)
	return nil
}

// Imports returns the history imports made, in order.
func (f *Activities) Imports() []workflows.ImportHistoryInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.imports)
}

// Typing returns the typing indicators sent, in order.
func (f *Activities) Typing() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]bool, len(f.typing))
	for i, in := range f.typing {
		out[i] = in.Typing
	}
	return out
}

// Acknowledged returns the acknowledge-entries calls, in order.
func (f *Activities) Acknowledged() []workflows.AcknowledgeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.acks)
}
