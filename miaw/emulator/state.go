package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// Conversation states reported in ConversationInfo.State.
const (
	StateWaiting = "waiting" // messaging session routed to the queue, no agent yet
	StateActive  = "active"  // an agent is in the messaging session (none while a transfer is stalled, see StallTransfer)
	StateEnded   = "ended"   // the messaging session ended; the conversation stays open
	StateClosed  = "closed"  // the conversation was closed by the end user
)

// Routing statuses (GET /conversation/{id}).
const (
	RoutingInitial      = "INITIAL"
	RoutingRouted       = "ROUTED"
	RoutingTransfer     = "TRANSFER"
	RoutingNeedsRouting = "NEEDS_ROUTING"
)

// user is one end user (access-token subject): their replay ring and live
// SSE subscribers. Guarded by Server.mu.
type user struct {
	subject string
	seq     int64
	ring    []*sseEvent
	subs    map[*subscriber]struct{}
	convIDs []string
	tokens  int         // access tokens issued
	opens   []time.Time // when its SSE streams were accepted, the last maxStreamOpens
}

// maxStreamOpens bounds the stream-open times kept per user (StreamOpens).
const maxStreamOpens = 256

// sseEvent is one event as written on the stream.
type sseEvent struct {
	seq  int64
	id   string
	name string
	data []byte
	at   time.Time // when it was published (Config.ReplayWindow)
}

// subscriber is one open SSE stream.
type subscriber struct {
	ch     chan *sseEvent
	kick   chan struct{} // closed when the stream must end (overflow, revoke)
	kicked bool
	jti    string
}

func (sub *subscriber) kickLocked() {
	if !sub.kicked {
		sub.kicked = true
		close(sub.kick)
	}
}

// conversation is the emulator's record of one conversation. Guarded by Server.mu.
type conversation struct {
	id, owner     string
	authMode      string
	createdAt     time.Time
	closedAt      time.Time
	attrs         map[string]string
	language      string
	state         string
	routingStatus string
	agent         string // display name of the current agent
	agentSubject  string
	sessionID     string
	sessionStart  time.Time
	routingID     string
	history       []historyEntry
	transcript    []TranscriptEntry
	sent          map[string]sentEntry // message.id → first result (idempotency)
	undelivered   []string             // end-user entry ids without a delivery ack
	unread        []string             // end-user entry ids without a read ack
	userTyping    bool
	presence      conversationPresence // what the end user's client reported (presence.go)
	inactive      bool                 // the session went Inactive; the next end-user message revives it
	inbound       []time.Time          // accept times of recent end-user messages (MessageRate)
	userMessages  int                  // end-user messages and files in this conversation
	// sessionMessages counts end-user messages in the current messaging
	// session; waiting holds those that arrived before an agent accepted.
	sessionMessages int
	waiting         []TranscriptEntry
	agentReplies    int // scripted replies sent
	extrasShared    bool
	script          chan func() // scripted-agent work queue, nil when no scripted agent
	// imported is the third-party bot conversation loaded with the
	// Conversation History API, ordered by clientTimestamp; importedIDs
	// holds the entryPayload ids already kept (dedupe of re-sent batches);
	// historySessionID is the messagingSessionId the uploads answer.
	imported         []importedEntry
	importedIDs      map[string]struct{}
	historySessionID string
}

type sentEntry struct {
	entryID         string
	clientTimestamp int64
}

type historyEntry struct {
	entry     wireEntry
	timestamp int64
}

// wireEntry is the conversationEntry envelope. EntryPayload holds a string on
// SSE and a JSON object in the entries listing.
type wireEntry struct {
	SenderDisplayName     string            `json:"senderDisplayName"`
	Identifier            string            `json:"identifier"`
	EntryType             string            `json:"entryType"`
	EntryPayload          any               `json:"entryPayload"`
	Sender                miaw.Participant  `json:"sender"`
	ContextParamMap       map[string]string `json:"contextParamMap"`
	VisibilityStrategy    string            `json:"visibilityStrategy"`
	TranscriptedTimestamp int64             `json:"transcriptedTimestamp"`
	ClientTimestamp       int64             `json:"clientTimestamp"`
	ClientDuration        int64             `json:"clientDuration"`
	RelatedRecords        []string          `json:"relatedRecords"`
}

// sseData is the data envelope of an SSE event.
type sseData struct {
	ChannelPlatformKey       string    `json:"channelPlatformKey"`
	ChannelType              string    `json:"channelType"`
	ChannelAddressIdentifier string    `json:"channelAddressIdentifier"`
	ConversationID           string    `json:"conversationId"`
	ConversationEntry        wireEntry `json:"conversationEntry"`
}

// entrySpec describes an entry to emit.
type entrySpec struct {
	event       string // SSE event name
	entryType   string
	sender      miaw.Participant
	displayName string
	payload     map[string]any // "id" and "entryType" are filled in
	related     []string
	clientTS    int64
	noHistory   bool // typing indicators are not kept in the entries listing
}

// emitLocked records an entry in the conversation history and publishes it on
// the owner's SSE streams. It returns the entry id. Callers hold s.mu.
func (s *Server) emitLocked(c *conversation, spec entrySpec) string {
	now := time.Now()
	id := newUUID()
	if spec.payload == nil {
		spec.payload = map[string]any{}
	}
	spec.payload["id"] = id
	spec.payload["entryType"] = spec.entryType
	raw, err := json.Marshal(spec.payload)
	if err != nil {
		s.log.Error("marshal entry payload", "entryType", spec.entryType, "err", err)
		return id
	}
	clientTS := spec.clientTS
	if clientTS == 0 {
		clientTS = millis(now)
	}
	related := spec.related
	if related == nil {
		related = []string{}
	}
	e := wireEntry{
		SenderDisplayName:     spec.displayName,
		Identifier:            id,
		EntryType:             spec.entryType,
		EntryPayload:          json.RawMessage(raw),
		Sender:                spec.sender,
		ContextParamMap:       map[string]string{},
		VisibilityStrategy:    "AllParticipants",
		TranscriptedTimestamp: millis(now),
		ClientTimestamp:       clientTS,
		RelatedRecords:        related,
	}
	if !spec.noHistory {
		c.history = append(c.history, historyEntry{entry: e, timestamp: millis(now)})
	}
	onWire := e
	onWire.EntryPayload = string(raw)
	data, err := json.Marshal(sseData{
		ChannelPlatformKey:       s.channelAddress,
		ChannelType:              "embedded_messaging",
		ChannelAddressIdentifier: s.channelAddress,
		ConversationID:           c.id,
		ConversationEntry:        onWire,
	})
	if err != nil {
		s.log.Error("marshal sse data", "err", err)
		return id
	}
	s.publishLocked(s.userLocked(c.owner), spec.event, data)
	return id
}

// userLocked returns (creating) the user record for subject.
func (s *Server) userLocked(subject string) *user {
	u := s.users[subject]
	if u == nil {
		u = &user{subject: subject, subs: map[*subscriber]struct{}{}}
		s.users[subject] = u
	}
	return u
}

// publishLocked appends an event to the user's replay ring and hands it to
// every live stream. A stream whose buffer is full is ended; its client
// resumes with Last-Event-ID from the ring.
func (s *Server) publishLocked(u *user, name string, data []byte) {
	u.seq++
	now := time.Now()
	ev := &sseEvent{seq: u.seq, id: formatEventID(now, u.seq), name: name, data: data, at: now}
	u.ring = append(u.ring, ev)
	if over := len(u.ring) - s.cfg.ReplayBuffer; over > 0 {
		u.ring = append([]*sseEvent(nil), u.ring[over:]...)
	}
	for sub := range u.subs {
		select {
		case sub.ch <- ev:
		default:
			s.log.Warn("SSE subscriber too slow; ending its stream", "subject", u.subject)
			sub.kickLocked()
			delete(u.subs, sub)
		}
	}
}

// formatEventID renders an opaque, per-user monotonic event id "<ms>-<seq>".
func formatEventID(t time.Time, seq int64) string {
	return strconv.FormatInt(t.UnixMilli(), 10) + "-" + strconv.FormatInt(seq, 10)
}

// parseEventSeq extracts the sequence number from an event id; ok is false for
// ids the emulator did not issue. "0" means "before the first event".
func parseEventSeq(id string) (int64, bool) {
	id = strings.TrimSpace(id)
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		id = id[i+1:]
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// lastEventIDLocked is the id of the user's newest event, or "0".
func (s *Server) lastEventIDLocked(subject string) string {
	u := s.users[subject]
	if u == nil || len(u.ring) == 0 {
		return "0"
	}
	return u.ring[len(u.ring)-1].id
}

// Participants.

func endUserParticipant(c *conversation) (miaw.Participant, string) {
	name := "Guest"
	if i := strings.LastIndex(c.owner, "uid:"); i >= 0 && c.authMode == "Auth" {
		name = c.owner[i+4:]
	}
	return miaw.Participant{Role: miaw.RoleEndUser, AppType: "iamessage", Subject: c.owner, ClientIdentifier: c.owner}, name
}

func agentParticipant(name, subject string) miaw.Participant {
	return miaw.Participant{Role: miaw.RoleAgent, AppType: "agent", Subject: subject, ClientIdentifier: subject}
}

var systemParticipant = miaw.Participant{Role: miaw.RoleSystem, AppType: "conversation", Subject: "Automated Process"}
var routerParticipant = miaw.Participant{Role: miaw.RoleRouter, AppType: "conversation", Subject: "Omni-Channel"}

// agentSubjectFor derives a stable User id (005…) from an agent name.
func agentSubjectFor(name string) string {
	h := uint64(1469598103934665603)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("005%012X", h&0xFFFFFFFFFFFF)[:15]
}

// Event sequences (miaw-api.md §2.5).

// startSessionLocked starts a messaging session and its routing: RoutingResult
// (Initial, None, EWT), SessionStatusChanged (Waiting), QueuePosition.
func (s *Server) startSessionLocked(c *conversation) {
	prev := miaw.SessionNew
	if c.sessionID != "" {
		prev = miaw.SessionEnded
	}
	c.state = StateWaiting
	c.routingStatus = RoutingInitial
	c.sessionID = sfID("0Mw")
	c.sessionStart = time.Now()
	c.routingID = sfID("0JR")
	c.agent, c.agentSubject = "", ""
	c.sessionMessages, c.waiting = 0, nil
	pos := s.queuePositionLocked(c)
	ewt := -1
	if a := s.cfg.Agent; a != nil && !a.Never {
		ewt = int(a.AcceptAfter.Seconds())
	}
	if s.silentRouting.Load() {
		return // routing never answers (SetSilentRouting)
	}
	s.emitLocked(c, entrySpec{event: miaw.EventRoutingResult, entryType: miaw.EntryRoutingResult,
		sender: routerParticipant, displayName: "Omni-Channel",
		payload: map[string]any{
			"recordId": c.sessionID, "errorMessages": []string{}, "pendingServiceRoutingId": c.routingID,
			"routingType": "Initial", "failureType": "None", "failureReason": nil,
			"estimatedWaitTime":           map[string]any{"estimatedWaitTimeInSeconds": ewt, "isEWTRequested": ewt >= 0},
			"isExternallyRouted":          false,
			"routingConfigurationDetails": map[string]any{"routingConfigurationType": "QueueRoutingType", "queueId": "00G000000000001"},
			"workOwnerId":                 nil, "cancelReason": nil,
		}})
	s.emitSessionStatusLocked(c, miaw.SessionWaiting, prev, "")
	s.emitQueuePositionLocked(c, pos)
	if a := s.cfg.Agent; a != nil && !a.Never {
		id := c.id
		sessionID := c.sessionID
		s.afterFuncLocked(a.AcceptAfter, func() { s.scriptAccept(id, sessionID) })
	}
}

func (s *Server) emitSessionStatusLocked(c *conversation, status, prev, endedBy string) {
	p := map[string]any{
		"sessionId": c.sessionID, "channelAddressIdentifier": s.channelAddress,
		"conversationIdentifier": c.id, "sessionStatus": status, "sessionStatusPrev": prev,
		"sessionStartTime": millis(c.sessionStart),
	}
	if status == miaw.SessionEnded {
		p["sessionEndTime"] = millis(time.Now())
		p["sessionEndedByRole"] = endedBy
	}
	s.emitLocked(c, entrySpec{event: miaw.EventSessionStatusChanged, entryType: miaw.EntrySessionStatusChanged,
		sender: systemParticipant, displayName: "Automated Process", payload: p})
}

func (s *Server) emitQueuePositionLocked(c *conversation, pos int) {
	s.emitLocked(c, entrySpec{event: miaw.EventQueuePosition, entryType: miaw.EntryQueuePosition,
		sender: routerParticipant, displayName: "Omni-Channel",
		payload: map[string]any{"pendingServiceRoutingId": c.routingID, "workItemId": c.sessionID, "position": pos}})
}

// queuePositionLocked is c's 1-based position among waiting conversations
// (oldest session first).
func (s *Server) queuePositionLocked(c *conversation) int {
	pos := 1
	for _, o := range s.convs {
		if o != c && o.state == StateWaiting && o.sessionStart.Before(c.sessionStart) {
			pos++
		}
	}
	return pos
}

// requeueLocked sends new QueuePosition events after left left the queue, to
// the waiting conversations behind it (the only ones whose position changed).
// One pass over the conversations and a sort of the waiting ones, so an
// accept costs O(n + w log w), not O(w·n).
func (s *Server) requeueLocked(left *conversation) {
	var waiting []*conversation
	for _, o := range s.convs {
		if o.state == StateWaiting {
			waiting = append(waiting, o)
		}
	}
	slices.SortFunc(waiting, func(a, b *conversation) int {
		if c := a.sessionStart.Compare(b.sessionStart); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for i, o := range waiting {
		if o.sessionStart.After(left.sessionStart) {
			s.emitQueuePositionLocked(o, i+1)
		}
	}
}

func (s *Server) emitParticipantLocked(c *conversation, op, name, subject string) {
	s.emitLocked(c, entrySpec{event: miaw.EventParticipantChanged, entryType: miaw.EntryParticipantChanged,
		sender: systemParticipant, displayName: "Automated Process",
		payload: map[string]any{"entries": []map[string]any{{
			"operation": op, "menuMetadata": nil, "displayName": name,
			"participant": agentParticipant(name, subject),
		}}}})
}

// endSessionLocked ends the messaging session: the agent (if any) leaves, then
// SessionStatusChanged (Ended). Routing status becomes NEEDS_ROUTING.
func (s *Server) endSessionLocked(c *conversation, endedBy string) {
	prev := miaw.SessionWaiting
	if c.state == StateActive {
		prev = miaw.SessionActive
		if c.agent != "" { // none during a stalled transfer
			s.emitParticipantLocked(c, "remove", c.agent, c.agentSubject)
		}
	}
	wasWaiting := c.state == StateWaiting
	c.state = StateEnded
	c.routingStatus = RoutingNeedsRouting
	c.userTyping = false
	s.emitSessionStatusLocked(c, miaw.SessionEnded, prev, endedBy)
	c.agent, c.agentSubject = "", ""
	if wasWaiting {
		s.requeueLocked(c)
	}
}

// ackLocked emits delivery or read acknowledgements for end-user entries.
func (s *Server) ackLocked(c *conversation, read bool) {
	ids := &c.undelivered
	event, entryType := miaw.EventDeliveryAck, miaw.EntryDeliveryAck
	if read {
		// Reading implies delivery.
		s.ackLocked(c, false)
		ids = &c.unread
		event, entryType = miaw.EventReadAck, miaw.EntryReadAck
	}
	for _, id := range *ids {
		s.emitLocked(c, entrySpec{event: event, entryType: entryType,
			sender: agentParticipant(c.agent, c.agentSubject), displayName: c.agent, related: []string{id},
			payload: map[string]any{"acknowledgedConversationEntryIdentifier": id, "acknowledgementTimestamp": millis(time.Now())}})
	}
	*ids = nil
}
