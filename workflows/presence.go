package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Presence: typing indicators and delivery/read receipts, both ways.
//
// User typing reaches the workflow as UpdateTyping. The starter coalesces
// repeated reports before they reach the workflow (at most one update per
// half quiet time per user), and the workflow sends Salesforce one
// TypingStartedIndicator per typing spell, then one TypingStoppedIndicator
// when the user's message is sent, when the assistant reports typing false,
// or Settings.TypingQuietTime after the last report. So a typing spell costs
// a few updates, two activities and a timer or two, never a history event per
// keystroke.
//
// Agent receipts (AgentDeliveryAck, AgentReadAck) are delivered to the
// assistant as DeliverReceipt, naming the assistant's own message ids; the
// receipts of the events handled together go out as one delivery. Most
// never reach the workflow: the listener delivers them itself
// (listenerdelivery.go), and signals only those the session must handle. The
// assistant's receipts for agent messages reach the workflow as
// UpdateReceipts and Salesforce as acknowledge-entries calls, every receipt
// waiting while one call is in flight sent by the next.

// Updates and activities of the presence feature.
const (
	// UpdateTyping takes a UserTyping and returns nothing. It is accepted
	// only while an agent is chatting with the user (StateActive).
	UpdateTyping = "typing"
	// UpdateReceipts takes a UserReceipts and returns a ReceiptsResult.
	UpdateReceipts = "receipts"

	// ActivitySendTyping sends a typing indicator (SendTypingInput).
	ActivitySendTyping = "SendTyping"
	// ActivityAcknowledge sends delivery/read acknowledgements of agent
	// entries (AcknowledgeInput).
	ActivityAcknowledge = "AcknowledgeEntries"
)

// Defaults and limits of the presence feature.
const (
	// DefaultTypingQuietTime is Settings.TypingQuietTime when 0: Salesforce's
	// own web client stops its typing indicator 5 s after the last keystroke.
	DefaultTypingQuietTime = 5 * time.Second
	// DefaultAgentTypingExpiry is Settings.AgentTypingExpiry when 0: the
	// time Salesforce's web client shows an agent typing without a new
	// "started" (5 s), with a margin for the delivery's own latency.
	DefaultAgentTypingExpiry = 10 * time.Second
	// MaxReceiptIDs is the most message ids one UpdateReceipts may carry.
	MaxReceiptIDs = 100
)

// UserTyping is the argument of UpdateTyping: whether the user is typing.
type UserTyping struct {
	Typing bool
}

// ReceiptStatus is how far a message got: delivered to the other side's
// client, or read there.
type ReceiptStatus string

const (
	ReceiptDelivered ReceiptStatus = "delivered"
	ReceiptRead      ReceiptStatus = "read"
)

// Receipt says that the agent side received or read one of the user's
// messages, named by the assistant's own message id (UserMessage.ID or
// UserAttachment.ID).
type Receipt struct {
	MessageID string
	Status    ReceiptStatus
	At        time.Time
}

// UserReceipts is the argument of UpdateReceipts: the user received or
// read these agent messages, named by their delivery ids (Delivery.ID of
// DeliverAgentMessage deliveries).
type UserReceipts struct {
	Status     ReceiptStatus
	MessageIDs []string
}

// ReceiptsResult is the result of UpdateReceipts.
type ReceiptsResult struct {
	// Queued is how many acknowledgements were queued for Salesforce;
	// messages already acknowledged with this status (or read, for
	// delivered) are not sent again.
	Queued int
}

// SendTypingInput is the argument of ActivitySendTyping.
type SendTypingInput struct {
	UserID         string
	ConversationID string
	Typing         bool // true: TypingStartedIndicator; false: TypingStoppedIndicator
}

// EntryAck acknowledges one agent conversation entry.
type EntryAck struct {
	EntryID string
	Status  ReceiptStatus
}

// AcknowledgeInput is the argument of ActivityAcknowledge.
type AcknowledgeInput struct {
	UserID         string
	ConversationID string
	Acks           []EntryAck
}

// presence is the session's typing and receipt state. Its zero value is a
// session that has seen none; nothing of it is carried across
// continue-as-new (a typing spell and receipts not yet sent end with the run
// that saw them; the next run's first report starts again).
type presence struct {
	typingRelay      bool      // the typing coroutine runs
	typingWanted     bool      // the user is typing, as last reported
	typingTold       bool      // Salesforce was last told the user is typing
	lastTypingReport time.Time // the latest UpdateTyping with Typing true

	ackSender    bool                     // the acknowledgement coroutine runs
	acks         []EntryAck               // waiting to be sent
	acksInFlight bool                     // an acknowledge-entries call runs
	acked        map[string]ReceiptStatus // entry id -> status sent in this run

	receipts   []Receipt // agent receipts waiting for the next flush
	receiptKey string    // event key of the first of them
	// parked are receipts that named no known message while a send was in
	// flight: Salesforce acknowledges a message before the send's answer
	// (which names its entry id) reaches the workflow. The send's end
	// matches them (matchParked).
	parked []parkedReceipt

	// listenerDelivers: the listener may deliver this run's agent typing
	// and receipts (listenerdelivery.go); legacy: this run was asked
	// changePresence before it existed and drops agent receipts.
	listenerDelivers bool
	legacy           bool
}

// parkedReceipt is an agent receipt waiting for its message's send.
type parkedReceipt struct {
	acked   string // the entry or MIAW message id Salesforce named
	key     string // event key
	receipt Receipt
}

// maxParkedReceipts bounds parked receipts; the oldest are dropped.
const maxParkedReceipts = 100

// idle reports whether no acknowledgement waits or is being sent.
func (p *presence) idle() bool { return len(p.acks) == 0 && !p.acksInFlight }

// tracksPresence reports whether this session runs the presence feature;
// it is asked only where presence does something, so histories without
// typing, receipts or agent acks carry no marker. Legacy sessions drop
// agent receipts.
func (s *session) tracksPresence(ctx workflow.Context) bool {
	on := workflow.GetVersion(ctx, changePresence, workflow.DefaultVersion, 1) == 1
	s.presence.legacy = !on
	return on
}

func (s *session) typingQuietTime() time.Duration {
	if d := s.req.Settings.TypingQuietTime; d > 0 {
		return d
	}
	return DefaultTypingQuietTime
}

func (s *session) agentTypingExpiry() time.Duration {
	if d := s.req.Settings.AgentTypingExpiry; d > 0 {
		return d
	}
	return DefaultAgentTypingExpiry
}

// validateTyping accepts typing reports only while an agent chats with the
// user: nobody would see them otherwise.
func (s *session) validateTyping(_ workflow.Context, _ UserTyping) error {
	if err := s.validateOpen(); err != nil {
		return err
	}
	if st := s.state(); st != StateActive {
		return fmt.Errorf("session is %s: typing is shown only while an agent chats with the user", st)
	}
	if s.draining {
		return errors.New("session is moving to a new run; report typing again in a moment")
	}
	return nil
}

// onUserTyping records a typing report; the typing coroutine tells
// Salesforce.
func (s *session) onUserTyping(ctx workflow.Context, t UserTyping) error {
	if !s.tracksPresence(ctx) {
		return nil
	}
	p := &s.presence
	p.typingWanted = t.Typing
	if t.Typing {
		p.lastTypingReport = workflow.Now(ctx)
		if !p.typingRelay {
			s.startTypingRelay(ctx)
		}
	}
	return nil
}

// userSent ends the user's typing spell: their message is on its way.
func (s *session) userSent() {
	s.presence.typingWanted = false
}

// startTypingRelay starts the coroutine that tells Salesforce when the user
// starts and stops typing. It sends "started" once per spell and "stopped"
// when typingWanted turns false or the quiet time passes without a report;
// it ends with the run's sender (outbox.stopped).
func (s *session) startTypingRelay(ctx workflow.Context) {
	p := &s.presence
	p.typingRelay = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		var (
			quiet       workflow.Future
			cancelQuiet workflow.CancelFunc = func() {}
		)
		// armQuiet waits until the quiet time after the latest report has
		// passed; it reports false when it already has.
		armQuiet := func() bool {
			cancelQuiet()
			quiet = nil
			left := p.lastTypingReport.Add(s.typingQuietTime()).Sub(workflow.Now(ctx))
			if left <= 0 {
				return false
			}
			var tctx workflow.Context
			tctx, cancelQuiet = workflow.WithCancel(ctx)
			quiet = workflow.NewTimerWithOptions(tctx, left, workflow.TimerOptions{Summary: "user typing quiet time"})
			return true
		}
		defer func() { cancelQuiet() }()
		for {
			err := workflow.Await(ctx, func() bool {
				return s.outbox.stopped || p.typingWanted != p.typingTold || (quiet != nil && quiet.IsReady())
			})
			if err != nil || s.outbox.stopped {
				return
			}
			if quiet != nil && quiet.IsReady() {
				quiet = nil
				if p.typingWanted && !armQuiet() {
					p.typingWanted = false // quiet for long enough: stopped
				}
			}
			if p.typingWanted == p.typingTold {
				continue
			}
			want := p.typingWanted
			if err := s.sendTyping(ctx, want); err != nil {
				// Typing is ephemeral: a lost indicator is not retried
				// beyond the activity's own attempts.
				s.logger.Warn("Typing indicator not sent", "typing", want, "error", err)
			}
			p.typingTold = want
			if want {
				if !armQuiet() {
					p.typingWanted = false
				}
			} else {
				cancelQuiet()
				quiet = nil
			}
		}
	})
}

// validateReceipts accepts receipts for agent messages this session
// delivered, while it is open.
func (s *session) validateReceipts(_ workflow.Context, r UserReceipts) error {
	if err := s.validateOpen(); err != nil {
		return err
	}
	if s.acceptedAt.IsZero() {
		return errors.New("no agent has joined the session yet")
	}
	if s.draining {
		return errors.New("session is moving to a new run; retry the receipts in a moment")
	}
	if r.Status != ReceiptDelivered && r.Status != ReceiptRead {
		return fmt.Errorf("receipt status must be %q or %q, got %q", ReceiptDelivered, ReceiptRead, r.Status)
	}
	if n := len(r.MessageIDs); n == 0 || n > MaxReceiptIDs {
		return fmt.Errorf("receipts must name 1 to %d messages, got %d", MaxReceiptIDs, n)
	}
	for _, id := range r.MessageIDs {
		if err := validateID(id); err != nil {
			return err
		}
		if !s.seenEntries.has(agentEntryID(id)) {
			return fmt.Errorf("message %q is not an agent message of this session", id)
		}
	}
	return nil
}

// agentEntryID is the Salesforce entry id behind an agent message's
// delivery id (an attachment's is "<entry id>/attachment/<n>").
func agentEntryID(deliveryID string) string {
	entry, _, _ := strings.Cut(deliveryID, "/attachment/")
	return entry
}

// onReceipts queues acknowledgements for the agent messages named; the
// acknowledgement coroutine sends them.
func (s *session) onReceipts(ctx workflow.Context, r UserReceipts) (ReceiptsResult, error) {
	if !s.tracksPresence(ctx) {
		return ReceiptsResult{}, nil
	}
	p := &s.presence
	if p.acked == nil {
		p.acked = map[string]ReceiptStatus{}
	}
	queued := 0
	for _, id := range r.MessageIDs {
		entry := agentEntryID(id)
		if done := p.acked[entry]; done == ReceiptRead || done == r.Status {
			continue
		}
		p.acked[entry] = r.Status
		p.acks = append(p.acks, EntryAck{EntryID: entry, Status: r.Status})
		queued++
	}
	if queued > 0 && !p.ackSender {
		s.startAckSender(ctx)
	}
	return ReceiptsResult{Queued: queued}, nil
}

// startAckSender starts the coroutine that sends the queued
// acknowledgements, all that wait in one call.
func (s *session) startAckSender(ctx workflow.Context) {
	p := &s.presence
	p.ackSender = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return s.outbox.stopped || len(p.acks) > 0 }); err != nil || s.outbox.stopped {
				return
			}
			batch := p.acks
			p.acks = nil
			p.acksInFlight = true
			err := s.acknowledge(ctx, batch)
			p.acksInFlight = false
			if err != nil {
				s.logger.Warn("Acknowledgements not sent", "count", len(batch), "error", err)
				for _, a := range batch {
					delete(p.acked, a.EntryID) // the assistant may report them again
				}
			}
		}
	})
}

// onAgentReceipt keeps an agent delivery/read acknowledgement of a user
// message for the next flushReceipts.
func (s *session) onAgentReceipt(ctx workflow.Context, ev AgentEvent) {
	if !s.tracksPresence(ctx) || s.ending != "" {
		return // legacy: receipts were not shown to the user
	}
	status := receiptStatus(ev.Kind)
	at := ev.At
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	p := &s.presence
	id := s.userMessageIDFor(ev.AckedEntryID)
	if id == "" {
		if s.outbox.inFlight == nil {
			s.logger.Debug("Receipt for an entry that is no user message", "ackedEntryID", ev.AckedEntryID, "kind", ev.Kind)
			return
		}
		if len(p.parked) >= maxParkedReceipts {
			p.parked = p.parked[1:]
		}
		p.parked = append(p.parked, parkedReceipt{acked: ev.AckedEntryID, key: s.eventKey(ev), receipt: Receipt{Status: status, At: at}})
		return
	}
	p.keep(s.eventKey(ev), Receipt{MessageID: id, Status: status, At: at})
}

// keep adds a receipt to the next flush.
func (p *presence) keep(key string, r Receipt) {
	if len(p.receipts) == 0 {
		p.receiptKey = key
	}
	p.receipts = append(p.receipts, r)
}

// matchParked gives the parked receipts of the message just sent (the
// assistant's id, and the entry id Salesforce answered) to the next flush;
// the main loop wakes for them. Receipts parked for no message in flight
// any more are dropped.
func (s *session) matchParked(id, entryID string) {
	p := &s.presence
	if len(p.parked) == 0 {
		return
	}
	miawID := miawMessageID(s.conversationID, id)
	for _, pr := range p.parked {
		if pr.acked == entryID || pr.acked == miawID {
			pr.receipt.MessageID = id
			p.keep(pr.key, pr.receipt)
		}
	}
	p.parked = nil
}

// flushReceipts delivers the receipts kept by onAgentReceipt, as one
// delivery.
func (s *session) flushReceipts(ctx workflow.Context) {
	p := &s.presence
	if len(p.receipts) == 0 {
		return
	}
	receipts, key := p.receipts, p.receiptKey
	p.receipts, p.receiptKey = nil, ""
	_ = s.deliver(ctx, s.receiptDelivery(ctx, key, receipts))
}

// receiptDelivery is the delivery of receipts, the first of them kept under
// event key key.
func (s *session) receiptDelivery(ctx workflow.Context, key string, receipts []Receipt) Delivery {
	return Delivery{ID: s.noticeID(ctx, "receipts/"+key), Kind: DeliverReceipt, Receipts: receipts}
}

// receiptStatus is the status an agent acknowledgement of kind reports.
func receiptStatus(kind AgentEventKind) ReceiptStatus {
	if kind == AgentReadAck {
		return ReceiptRead
	}
	return ReceiptDelivered
}

// userMessageIDFor maps the Salesforce id an agent acknowledgement names
// (the entry id the send returned, or the MIAW message id the bridge gave
// the message) back to the assistant's message id; "" when it names no
// message of the assistant (the description the bridge wrote, or one older
// than the transcript kept).
func (s *session) userMessageIDFor(acked string) string {
	if acked == "" {
		return ""
	}
	for id, entry := range s.sentEntryIDs {
		if entry == acked && id != descriptionMessageID {
			return id
		}
	}
	for i := len(s.transcript) - 1; i >= 0; i-- {
		e := s.transcript[i]
		if e.From != FromUser || e.ID == descriptionMessageID {
			continue
		}
		if e.ID == acked || miawMessageID(s.conversationID, e.ID) == acked {
			return e.ID
		}
	}
	return ""
}

// presenceOptions is for typing indicators and acknowledgements: ephemeral,
// so retried briefly only.
func presenceOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              TaskQueue,
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:       ActivityHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
			MaximumAttempts:    3,
		},
		Summary: summary,
	})
}

func (s *session) sendTyping(ctx workflow.Context, typing bool) error {
	summary := "user stopped typing"
	if typing {
		summary = "user typing"
	}
	return workflow.ExecuteActivity(presenceOptions(ctx, summary), ActivitySendTyping, SendTypingInput{
		UserID: s.req.UserID, ConversationID: s.conversationID, Typing: typing,
	}).Get(ctx, nil)
}

func (s *session) acknowledge(ctx workflow.Context, acks []EntryAck) error {
	return workflow.ExecuteActivity(presenceOptions(ctx, "acknowledge agent messages"), ActivityAcknowledge, AcknowledgeInput{
		UserID: s.req.UserID, ConversationID: s.conversationID, Acks: acks,
	}).Get(ctx, nil)
}
