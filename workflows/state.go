package workflows

import (
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// Bounds on what a run carries to its successor on continue-as-new, so the
// input payload stays far below Temporal's 2 MiB blob limit.
const (
	maxSeenIDs           = 1000 // per set: Salesforce entry ids, assistant message ids
	maxCarriedTranscript = 200  // newest transcript entries carried across
	// maxCarriedTranscriptBytes bounds the carried transcript by size too:
	// 200 entries of long texts would otherwise exceed the blob limit and the
	// continue-as-new would fail on every attempt.
	maxCarriedTranscriptBytes = 512 << 10
	// maxOutbox and maxOutboxBytes bound the user messages kept unsent (while
	// waiting for an agent they pile up and are carried to the next run).
	maxOutbox             = 100
	maxOutboxBytes        = 512 << 10
	acceptTimerSummary    = "wait for an agent to accept"
	errTypeSessionClosed  = "SessionClosed"
	errTypeListenerFailed = "ListenerStopped"
)

// ErrTypeInvalidRequest is the ApplicationError type of the non-retryable
// error a session fails with when its input is invalid.
const ErrTypeInvalidRequest = "InvalidSessionRequest"

// boundedSet remembers the newest ids (insertion order, oldest evicted first).
// It is deterministic: iteration uses the order slice, never the map.
type boundedSet struct {
	max   int
	order []string
	index map[string]struct{}
}

func newBoundedSet(max int, initial []string) *boundedSet {
	s := &boundedSet{max: max, index: make(map[string]struct{}, len(initial))}
	for _, id := range initial {
		s.add(id)
	}
	return s
}

func (s *boundedSet) has(id string) bool {
	_, ok := s.index[id]
	return ok
}

func (s *boundedSet) add(id string) {
	if id == "" || s.has(id) {
		return
	}
	s.order = append(s.order, id)
	s.index[id] = struct{}{}
	for len(s.order) > s.max {
		delete(s.index, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *boundedSet) remove(id string) {
	if !s.has(id) {
		return
	}
	delete(s.index, id)
	for i, v := range s.order {
		if v == id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			return
		}
	}
}

func (s *boundedSet) list() []string { return append([]string(nil), s.order...) }

// outgoing is one user message or attachment waiting to be sent to Salesforce.
// Exactly one of msg and att is set. An update handler waiting for the result
// has waiter set and is woken when done becomes true.
type outgoing struct {
	msg    *UserMessage
	att    *UserAttachment
	waiter bool

	done   bool
	result UpdateResult
	err    error
}

// session is the whole state of one workflow run. Every field is touched only
// by workflow coroutines, which Temporal runs one at a time.
type session struct {
	req        SessionRequest
	workflowID string
	logger     log.Logger

	// continueAsNewAfter is the SessionInput test hook (0 = off).
	continueAsNewAfter int

	state          State
	conversationID string
	// conversationRequested is true once CreateConversation was attempted: the
	// Salesforce side may exist from then on, so cleanup must end it.
	conversationRequested bool
	startedAt             time.Time
	waitingSince          time.Time
	agentName             string
	queuePosition         int
	estimatedWait         time.Duration
	closeReason           CloseReason
	lastEventID           string

	seenEntries      *boundedSet
	seenUserMessages *boundedSet
	transcript       []TranscriptEntry
	// sentEntryIDs maps assistant message ids to Salesforce entry ids for
	// the messages sent in this run (answers for duplicate updates).
	sentEntryIDs map[string]string

	// events receives SignalAgentEvent. Only the main coroutine reads it, and
	// only with ReceiveAsync after workflow.Await saw Len() > 0, so a signal is
	// either handled or still buffered when the run continues as new.
	events        workflow.ReceiveChannel
	handledEvents int // agent events handled in this run

	outbox      []*outgoing
	senderBusy  bool
	stopSending bool

	accepted       bool // an agent accepted (once per session)
	transferring   bool // the agent left or a transfer was routed; waiting for the next one
	agentEnded     bool // Salesforce or the agent ended the session
	routingFailed  bool // routing failed while waiting
	closeRequested bool // the user asked to close
	draining       bool // preparing to continue as new

	listener       workflow.Future
	cancelListener workflow.CancelFunc
}

// view is the QueryState answer.
func (s *session) view() SessionView {
	return SessionView{
		State:          s.state,
		UserID:         s.req.UserID,
		Topic:          s.req.Topic,
		ConversationID: s.conversationID,
		AgentName:      s.agentName,
		QueuePosition:  s.queuePosition,
		EstimatedWait:  s.estimatedWait,
		StartedAt:      s.startedAt,
		WaitingSince:   s.waitingSince,
		CloseReason:    s.closeReason,
		Transcript:     append([]TranscriptEntry(nil), s.transcript...),
	}
}

// carry is what the next run needs. Unsent messages travel as Pending; the
// caller guarantees no attachment is left in the outbox (see continueAsNewWanted).
func (s *session) carry() *Carry {
	var pending []UserMessage
	for _, o := range s.outbox {
		if o.msg != nil {
			pending = append(pending, *o.msg)
		}
	}
	transcript := s.transcript
	if len(transcript) > maxCarriedTranscript {
		transcript = transcript[len(transcript)-maxCarriedTranscript:]
	}
	size := 0
	for i := len(transcript) - 1; i >= 0; i-- {
		if size += transcriptEntrySize(transcript[i]); size > maxCarriedTranscriptBytes {
			transcript = transcript[i+1:]
			break
		}
	}
	return &Carry{
		State:              s.state,
		ConversationID:     s.conversationID,
		StartedAt:          s.startedAt,
		WaitingSince:       s.waitingSince,
		AgentName:          s.agentName,
		LastEventID:        s.lastEventID,
		SeenEntryIDs:       s.seenEntries.list(),
		SeenUserMessageIDs: s.seenUserMessages.list(),
		Pending:            pending,
		Transcript:         append([]TranscriptEntry(nil), transcript...),
	}
}

func (s *session) restore(c *Carry) {
	s.state = c.State
	s.conversationID = c.ConversationID
	s.conversationRequested = c.ConversationID != ""
	s.startedAt = c.StartedAt
	s.waitingSince = c.WaitingSince
	s.agentName = c.AgentName
	s.lastEventID = c.LastEventID
	s.seenEntries = newBoundedSet(maxSeenIDs, c.SeenEntryIDs)
	s.seenUserMessages = newBoundedSet(maxSeenIDs, c.SeenUserMessageIDs)
	for i := range c.Pending {
		m := c.Pending[i]
		s.outbox = append(s.outbox, &outgoing{msg: &m})
	}
	s.transcript = append([]TranscriptEntry(nil), c.Transcript...)
	// An active session was accepted in an earlier run.
	s.accepted = c.State == StateActive
}

// transcriptEntrySize approximates the encoded size of e.
func transcriptEntrySize(e TranscriptEntry) int {
	n := 128 + len(e.ID) + len(e.SenderName) + len(e.Text)
	if e.Link != nil {
		n += len(e.Link.URL) + len(e.Link.Title)
	}
	if a := e.Attachment; a != nil {
		n += len(a.Name) + len(a.MimeType) + len(a.SHA256) + len(a.URL)
	}
	return n
}

// outboxBytes is the text size of the unsent user messages and captions.
func (s *session) outboxBytes() int {
	n := 0
	for _, o := range s.outbox {
		if o.msg != nil {
			n += len(o.msg.Text)
		} else {
			n += len(o.att.Caption)
		}
	}
	return n
}

func (s *session) addTranscript(e TranscriptEntry) {
	s.transcript = append(s.transcript, e)
}

// countMessages counts user and agent lines in the transcript.
func (s *session) countMessages() (user, agent int) {
	for _, e := range s.transcript {
		switch e.From {
		case FromUser:
			user++
		case FromAgent:
			agent++
		}
	}
	return user, agent
}

// hasPendingAttachment reports whether an attachment waits in the outbox
// (attachments are not carried across continue-as-new).
func (s *session) hasPendingAttachment() bool {
	for _, o := range s.outbox {
		if o.att != nil {
			return true
		}
	}
	return false
}

// hasWaiter reports whether an update handler waits for an outbox item.
func (s *session) hasWaiter() bool {
	for _, o := range s.outbox {
		if o.waiter {
			return true
		}
	}
	return false
}
