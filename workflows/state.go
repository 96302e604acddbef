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

// session is the whole state of one workflow run. Every field is touched only
// by workflow coroutines, which Temporal runs one at a time.
type session struct {
	req        SessionRequest
	workflowID string
	logger     log.Logger

	// continueAsNewAfter is the SessionInput test hook (0 = off).
	continueAsNewAfter int

	phase phase
	// ending is set once a side ended the session (see end); the run closes
	// for it at its next step.
	ending CloseReason
	// draining is set while the run prepares to continue as new.
	draining bool

	conversationID string
	startedAt      time.Time
	waitingSince   time.Time
	acceptedAt     time.Time // the first accept; zero until then
	// lastMessageAt is when the user or the agent last wrote (idle.go).
	lastMessageAt time.Time
	// transferringSince is when the transfer in progress started (zero:
	// none); transfer.go requeues the session when no agent joined within
	// Settings.TransferTimeout of it.
	transferringSince time.Time
	// transferTimedOut is set while the session waits again because its
	// transfer timed out, so Salesforce's late word on that transfer does
	// not end it.
	transferTimedOut bool
	// inactive is set while Salesforce has marked the session Inactive and
	// nobody wrote since; endedInactive once Salesforce ended it so.
	inactive      bool
	endedInactive bool
	agentName     string
	queuePosition int
	estimatedWait time.Duration
	closeReason   CloseReason
	summary       *CloseSummary // set when the session closed
	lastEventID   string

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

	outbox outbox
	// pacing is when this run last sent to Salesforce (pacing.go).
	pacing pacing
	// presence is the typing and receipt state (presence.go).
	presence presence

	listener       workflow.Future
	cancelListener workflow.CancelFunc
	// shard is the listener shard this run joined (-1: none); see shard.go.
	shard int
	// listenerFailure is set when the shard reports this session's stream
	// failed for good.
	listenerFailure error

	// Survey window (survey.go): surveyOpen while the closed run takes a
	// survey, survey once one was recorded, finishing once a new start
	// asked the window to end (finishReason says who).
	surveyOpen   bool
	surveyUntil  time.Time // the window's end; zero: no survey
	survey       *Survey
	finishing    bool
	finishReason string
}

// view is the QueryState answer.
func (s *session) view() SessionView {
	return SessionView{
		State:          s.state(),
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
		SurveyOpen:     s.surveyOpen,
		Survey:         s.survey,
	}
}

// carry is what the next run needs. Unsent messages travel as Pending; the
// caller guarantees no attachment is left in the outbox (see continueAsNewWanted).
func (s *session) carry() *Carry {
	var pending []UserMessage
	for _, o := range s.outbox.items {
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
		State:              s.state(),
		Phase:              s.phase.String(),
		ConversationID:     s.conversationID,
		StartedAt:          s.startedAt,
		WaitingSince:       s.waitingSince,
		AcceptedAt:         s.acceptedAt,
		AgentName:          s.agentName,
		TransferringSince:  s.transferringSince,
		TransferTimedOut:   s.transferTimedOut,
		Inactive:           s.inactive,
		LastEventID:        s.lastEventID,
		SeenEntryIDs:       s.seenEntries.list(),
		SeenUserMessageIDs: s.seenUserMessages.list(),
		Pending:            pending,
		Transcript:         append([]TranscriptEntry(nil), transcript...),
	}
}

func (s *session) restore(c *Carry) {
	s.phase = resumedPhase(c)
	s.conversationID = c.ConversationID
	s.startedAt = c.StartedAt
	s.waitingSince = c.WaitingSince
	s.acceptedAt = c.AcceptedAt
	s.agentName = c.AgentName
	s.transferringSince = c.TransferringSince
	s.transferTimedOut = c.TransferTimedOut
	s.inactive = c.Inactive
	s.lastEventID = c.LastEventID
	s.seenEntries = newBoundedSet(maxSeenIDs, c.SeenEntryIDs)
	s.seenUserMessages = newBoundedSet(maxSeenIDs, c.SeenUserMessageIDs)
	for i := range c.Pending {
		m := c.Pending[i]
		s.outbox.items = append(s.outbox.items, &outgoing{msg: &m})
	}
	s.transcript = append([]TranscriptEntry(nil), c.Transcript...)
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
