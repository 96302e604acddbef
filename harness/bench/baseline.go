package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// baselineBridge is the plain, non-durable bridge the durable one is
// compared with: per session one goroutine streams the user's SSE events with
// the MIAW client, translates them with the same activities.TranslateEvent and
// posts them to the same webhook sink; user messages go straight to
// miaw.Client.SendMessage. Nothing survives a crash: that is the point of the
// comparison.
type baselineBridge struct {
	mc       *miaw.Client
	sink     activities.Sink
	settings workflows.Settings
	topic    string
	log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]*baselineSession
	wg       sync.WaitGroup
	errors   int64 // stream or delivery failures
}

type baselineSession struct {
	user, conversationID string
	cancel               context.CancelFunc
	done                 chan struct{}
}

func newBaselineBridge(mc *miaw.Client, sink activities.Sink, settings workflows.Settings, topic string, log *slog.Logger) *baselineBridge {
	return &baselineBridge{mc: mc, sink: sink, settings: settings, topic: topic, log: log, sessions: map[string]*baselineSession{}}
}

func (b *baselineBridge) routing(user string) map[string]string {
	return map[string]string{b.settings.RoutingUserField: user, b.settings.RoutingTopicField: b.topic}
}

func (b *baselineBridge) open(ctx context.Context, user string) error {
	b.mu.Lock()
	if _, ok := b.sessions[user]; ok {
		b.mu.Unlock()
		return nil // a retried open
	}
	b.mu.Unlock()
	conv := uuid.NewString()
	if err := b.mc.CreateConversation(ctx, user, miaw.CreateConversationRequest{
		ConversationID: conv, RoutingAttributes: b.routing(user), Language: "en_US",
	}); err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	// The description goes first, as the workflow sends it.
	if _, err := b.mc.SendMessage(ctx, user, conv, miaw.TextMessage{
		ID: uuid.NewString(), Text: "Load benchmark session " + user,
		RoutingAttributes: b.routing(user), Language: "en_US",
	}); err != nil {
		return fmt.Errorf("send description: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &baselineSession{user: user, conversationID: conv, cancel: cancel, done: make(chan struct{})}
	b.mu.Lock()
	b.sessions[user] = s
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(s.done)
		b.listen(sctx, s)
	}()
	return nil
}

// listen streams from before the conversation's first event ("0": the
// emulator's replay ring) so the accept is never missed, and delivers what
// the user must see, in order, deduplicated by entry id.
func (b *baselineBridge) listen(ctx context.Context, s *baselineSession) {
	seen := map[string]bool{}
	accepted := false
	deliver := func(d workflows.Delivery) {
		d.SessionID, d.UserID = "baseline-"+s.user, s.user
		if d.At.IsZero() {
			d.At = time.Now()
		}
		for attempt := 0; ; attempt++ {
			err := b.sink.Deliver(ctx, d)
			if err == nil {
				return
			}
			if ctx.Err() != nil || attempt >= 5 {
				b.countError()
				b.log.Warn("baseline delivery failed", "user", s.user, "error", err)
				return
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
	}
	err := b.mc.Stream(ctx, s.user, miaw.StreamOptions{LastEventID: "0"}, func(ev miaw.Event) error {
		if ev.ConversationID != s.conversationID {
			return nil
		}
		ae, keep, _, err := activities.TranslateEvent(ev)
		if err != nil {
			b.countError()
			return nil // malformed: skipped, as the listener does
		}
		if !keep || (ae.EntryID != "" && seen[ae.EntryID]) {
			return nil
		}
		seen[ae.EntryID] = true
		switch ae.Kind {
		case workflows.AgentJoined, workflows.AgentWorkResult, workflows.AgentSessionStatus:
			active := ae.Kind == workflows.AgentJoined ||
				(ae.Kind == workflows.AgentWorkResult && ae.WorkType == "Accepted") ||
				(ae.Kind == workflows.AgentSessionStatus && ae.SessionStatus == miaw.SessionActive)
			if active && !accepted {
				accepted = true
				deliver(workflows.Delivery{ID: "greeting-" + s.conversationID, Kind: workflows.DeliverSystem,
					Text: b.settings.Greeting, SenderName: ae.SenderName, State: workflows.StateActive})
			}
			if ae.Kind == workflows.AgentSessionStatus && ae.SessionStatus == miaw.SessionEnded {
				deliver(workflows.Delivery{ID: "closed-" + s.conversationID, Kind: workflows.DeliverClosed,
					Text: b.settings.AgentEndedMessage, State: workflows.StateClosed, CloseReason: workflows.CloseAgentEnded})
				return errSessionEnded
			}
		case workflows.AgentMessage:
			deliver(workflows.Delivery{ID: ae.EntryID, Kind: workflows.DeliverAgentMessage, At: ae.At,
				SenderName: ae.SenderName, Text: ae.Text, Link: ae.Link, State: workflows.StateActive})
		case workflows.AgentConversationShut:
			return errSessionEnded
		}
		return nil
	})
	// Stream always ends with an error: the session's end, the context's, or a failure.
	if !errors.Is(err, errSessionEnded) && ctx.Err() == nil {
		b.countError()
		b.log.Warn("baseline stream ended", "user", s.user, "error", err)
	}
}

var errSessionEnded = errors.New("session ended")

func (b *baselineBridge) countError() {
	b.mu.Lock()
	b.errors++
	b.mu.Unlock()
}

func (b *baselineBridge) session(user string) (*baselineSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[user]
	if s == nil {
		return nil, fmt.Errorf("baseline: no session for %s", user)
	}
	return s, nil
}

func (b *baselineBridge) sendUser(ctx context.Context, user, text string) error {
	s, err := b.session(user)
	if err != nil {
		return err
	}
	_, err = b.mc.SendMessage(ctx, user, s.conversationID, miaw.TextMessage{
		ID: uuid.NewString(), Text: text, RoutingAttributes: b.routing(user), Language: "en_US",
	})
	return err
}

func (b *baselineBridge) close(ctx context.Context, user string) error {
	s, err := b.session(user)
	if err != nil {
		return nil // never opened
	}
	s.cancel()
	<-s.done
	if err := b.mc.EndSession(ctx, user, s.conversationID); err != nil && !miaw.IsNotFound(err) {
		return fmt.Errorf("end session: %w", err)
	}
	if err := b.mc.CloseConversation(ctx, user, s.conversationID); err != nil && !miaw.IsNotFound(err) {
		return fmt.Errorf("close conversation: %w", err)
	}
	b.mu.Lock()
	delete(b.sessions, user)
	b.mu.Unlock()
	return nil
}

// stop cancels every stream still running and waits for them.
func (b *baselineBridge) stop() {
	b.mu.Lock()
	for _, s := range b.sessions {
		s.cancel()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *baselineBridge) errorCount() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errors
}
