package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// fakeSF is an in-memory Salesforce. Errors are queued per method: each call
// pops the next queued error (nil when none), so tests can script
// "fail, then succeed".
type fakeSF struct {
	mu sync.Mutex

	errs  map[string][]error
	calls []string // method names in call order

	created   []miaw.CreateConversationRequest
	messages  []miaw.TextMessage
	files     []miaw.File
	ended     map[string]bool // conversation id -> session ended
	closed    map[string]bool // conversation id -> conversation closed
	downloads map[string]*miaw.Download

	// stream, when set, is run by Stream; userStream, when set, instead,
	// with the user whose stream it is.
	stream     func(ctx context.Context, opts miaw.StreamOptions, handle func(miaw.Event) error) error
	userStream func(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error) error
	// streamOpts records the options of every Stream call.
	streamOpts []miaw.StreamOptions
	// entries are what EntriesSince lists (those at or after since);
	// entriesSince records each call's since.
	entries      []miaw.ConversationEntry
	entriesSince []int64
	// typing and acks record SendTyping and Acknowledge calls.
	typing []bool
	acks   [][]miaw.Ack
}

func (f *fakeSF) SendTyping(ctx context.Context, userID, conversationID string, started bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SendTyping"); err != nil {
		return err
	}
	f.typing = append(f.typing, started)
	return nil
}

func (f *fakeSF) Acknowledge(ctx context.Context, userID, conversationID string, acks ...miaw.Ack) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Acknowledge"); err != nil {
		return err
	}
	f.acks = append(f.acks, acks)
	return nil
}

func newFakeSF() *fakeSF {
	return &fakeSF{
		errs:      map[string][]error{},
		ended:     map[string]bool{},
		closed:    map[string]bool{},
		downloads: map[string]*miaw.Download{},
	}
}

func (f *fakeSF) failNext(method string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[method] = append(f.errs[method], errs...)
}

// enter records the call and returns the scripted error.
func (f *fakeSF) enter(method string) error {
	f.calls = append(f.calls, method)
	q := f.errs[method]
	if len(q) == 0 {
		return nil
	}
	f.errs[method] = q[1:]
	return q[0]
}

func (f *fakeSF) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == method {
			n++
		}
	}
	return n
}

// Token returns a token whose stream position is fakeCursor.
func (f *fakeSF) Token(ctx context.Context, userID string) (*miaw.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Token"); err != nil {
		return nil, err
	}
	return &miaw.Token{AccessToken: "fake-token", LastEventID: fakeCursor, Subject: "v2/iamessage/AUTH/k/uid:" + userID}, nil
}

// fakeCursor is the stream position of the fake's tokens.
const fakeCursor = "ev-before-create"

func (f *fakeSF) CreateConversation(ctx context.Context, userID string, req miaw.CreateConversationRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateConversation"); err != nil {
		return err
	}
	f.created = append(f.created, req)
	return nil
}

func (f *fakeSF) SendMessage(ctx context.Context, userID, conversationID string, msg miaw.TextMessage) (*miaw.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SendMessage"); err != nil {
		return nil, err
	}
	f.messages = append(f.messages, msg)
	return &miaw.SendResult{EntryID: "entry-" + msg.ID}, nil
}

func (f *fakeSF) SendFile(ctx context.Context, userID, conversationID string, file miaw.File) (*miaw.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SendFile"); err != nil {
		return nil, err
	}
	f.files = append(f.files, file)
	return &miaw.SendResult{EntryID: "entry-" + file.MessageID}, nil
}

// EndSession and CloseConversation behave like Salesforce: a second call
// answers 404 because the session/conversation is already gone.
func (f *fakeSF) EndSession(ctx context.Context, userID, conversationID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("EndSession"); err != nil {
		return err
	}
	if f.ended[conversationID] || f.closed[conversationID] {
		return &miaw.Error{Op: "end session", Method: "DELETE", Endpoint: "/iamessage/api/v2/conversation/{id}/session", Status: 404, Message: "no active session"}
	}
	f.ended[conversationID] = true
	return nil
}

func (f *fakeSF) CloseConversation(ctx context.Context, userID, conversationID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CloseConversation"); err != nil {
		return err
	}
	if f.closed[conversationID] {
		return &miaw.Error{Op: "close conversation", Method: "DELETE", Endpoint: "/iamessage/api/v2/conversation/{id}", Status: 404, Message: "conversation not found"}
	}
	f.closed[conversationID] = true
	return nil
}

func (f *fakeSF) DownloadAttachment(ctx context.Context, userID string, att miaw.Attachment) (*miaw.Download, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DownloadAttachment"); err != nil {
		return nil, err
	}
	d, ok := f.downloads[att.URL]
	if !ok {
		return nil, &miaw.Error{Op: "download attachment", Method: "GET", Endpoint: "(attachment)", Status: 404, Message: "not found"}
	}
	cp := *d
	return &cp, nil
}

func (f *fakeSF) Stream(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error) error {
	f.mu.Lock()
	f.calls = append(f.calls, "Stream")
	f.streamOpts = append(f.streamOpts, opts)
	stream, userStream := f.stream, f.userStream
	f.mu.Unlock()
	if userStream != nil {
		return userStream(ctx, userID, opts, handle)
	}
	if stream == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return stream(ctx, opts, handle)
}

func (f *fakeSF) GoStream(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error, done func(error)) error {
	go func() { done(f.Stream(ctx, userID, opts, handle)) }()
	return nil
}

func (f *fakeSF) EntriesSince(ctx context.Context, userID, conversationID string, sinceMillis int64) ([]miaw.ConversationEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("EntriesSince"); err != nil {
		return nil, err
	}
	f.entriesSince = append(f.entriesSince, sinceMillis)
	var out []miaw.ConversationEntry
	for _, e := range f.entries {
		if e.TranscriptedTimestamp >= sinceMillis {
			out = append(out, e)
		}
	}
	return out, nil
}

// fakeSignaler records signals; errs scripts failures of the next calls.
type fakeSignaler struct {
	mu      sync.Mutex
	errs    []error
	signals []workflows.AgentEvent
	targets []string // workflowID/runID/signalName
	calls   int
	// notify receives every successful signal (if set, buffered).
	notify chan workflows.AgentEvent
}

func (s *fakeSignaler) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return err
		}
	}
	ev, ok := arg.(workflows.AgentEvent)
	if !ok {
		return fmt.Errorf("unexpected signal arg %T", arg)
	}
	s.signals = append(s.signals, ev)
	s.targets = append(s.targets, workflowID+"/"+runID+"/"+signalName)
	if s.notify != nil {
		s.notify <- ev
	}
	return nil
}

func (s *fakeSignaler) snapshot() ([]workflows.AgentEvent, []string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]workflows.AgentEvent(nil), s.signals...), append([]string(nil), s.targets...), s.calls
}

// heartbeats records every heartbeat the listener makes.
type heartbeats struct {
	mu      sync.Mutex
	values  []string
	details []any // of the last heartbeat
	notify  chan string
}

func (h *heartbeats) record(_ context.Context, details ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := ""
	if len(details) > 0 {
		v, _ = details[0].(string) // the cursor; details[1] is the newest entry's time, details[2] the ids signalled at it
	}
	h.values = append(h.values, v)
	h.details = details
	if h.notify != nil {
		select {
		case h.notify <- v:
		default:
		}
	}
}

// lastDetails are the details of the last heartbeat.
func (h *heartbeats) lastDetails() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.details
}

func (h *heartbeats) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.values...)
}

func (h *heartbeats) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.values) == 0 {
		return ""
	}
	return h.values[len(h.values)-1]
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("condition not met within 10s")
}
