package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// Errors of the agent-side API. The control API maps ErrNotFound to 404 and
// ErrState to 409.
var (
	ErrNotFound = errors.New("conversation not found")
	ErrState    = errors.New("conversation is not in a state that allows this")
)

// ConversationInfo is the agent-side view of a conversation.
type ConversationInfo struct {
	ID                string            `json:"id"`
	UserSubject       string            `json:"userSubject"`
	State             string            `json:"state"` // waiting|active|ended|closed
	Agent             string            `json:"agent,omitempty"`
	RoutingAttributes map[string]string `json:"routingAttributes"`
	CreatedAt         time.Time         `json:"createdAt"`
	RoutingStatus     string            `json:"routingStatus"`
	UserTyping        bool              `json:"userTyping"`
	Messages          int               `json:"messages"` // end-user messages and files received
	// Language is the language the client created the conversation with
	// (e.g. fr_CA).
	Language string `json:"language,omitempty"`
}

// TranscriptEntry is one message as the agent side sees it.
type TranscriptEntry struct {
	EntryID    string    `json:"entryId"`
	Role       string    `json:"role"` // EndUser|Agent|System
	Sender     string    `json:"sender"`
	Text       string    `json:"text,omitempty"`
	MessageID  string    `json:"messageId,omitempty"` // client message id (end user) or abstractMessage id (agent)
	Attachment *FileInfo `json:"attachment,omitempty"`
	LinkURL    string    `json:"linkUrl,omitempty"` // RichLink messages
	// Rich content: what the agent offered (Choices, Form, WebView, or
	// Raw for any other abstractMessage) and the end user's pick (Choice).
	Choices *ChoicesInfo         `json:"choices,omitempty"`
	Form    *FormInfo            `json:"form,omitempty"`
	WebView *WebViewInfo         `json:"webView,omitempty"`
	Raw     map[string]any       `json:"raw,omitempty"`
	Choice  *ChoicesResponseInfo `json:"choice,omitempty"`
	At      time.Time            `json:"at"`
	// Delivered and Read are the end user's acknowledgements of agent messages.
	Delivered bool `json:"delivered,omitempty"`
	Read      bool `json:"read,omitempty"`
}

// FileInfo describes an attachment in a transcript.
type FileInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int    `json:"size"`
	SHA256   string `json:"sha256"` // hex
	URL      string `json:"url"`    // download URL on the emulator
	// UploadError is the error type of a late upload failure reported with
	// FailUpload (end-user files only).
	UploadError string `json:"uploadError,omitempty"`
}

func infoLocked(c *conversation) ConversationInfo {
	attrs := make(map[string]string, len(c.attrs))
	for k, v := range c.attrs {
		attrs[k] = v
	}
	return ConversationInfo{ID: c.id, UserSubject: c.owner, State: c.state, Agent: c.agent, RoutingAttributes: attrs,
		CreatedAt: c.createdAt, RoutingStatus: c.routingStatus, UserTyping: c.userTyping, Messages: c.userMessages,
		Language: c.language}
}

// Conversations lists all conversations, oldest first.
func (s *Server) Conversations() []ConversationInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConversationInfo, 0, len(s.convs))
	for _, c := range s.convs {
		out = append(out, infoLocked(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// Conversation returns one conversation's agent-side view.
func (s *Server) Conversation(conversationID string) (ConversationInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return ConversationInfo{}, fmt.Errorf("%w: %s", ErrNotFound, conversationID)
	}
	return infoLocked(c), nil
}

// OpenStreams returns how many SSE streams are connected right now for the
// end user who owns the conversation (0 for an unknown conversation): a
// client that finished with a conversation should leave none open.
func (s *Server) OpenStreams(conversationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return 0
	}
	if u := s.users[c.owner]; u != nil {
		return len(u.subs)
	}
	return 0
}

// Transcript returns the messages of a conversation in order: end-user
// messages and files as received, agent messages, links and files as sent.
func (s *Server) Transcript(conversationID string) []TranscriptEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return nil
	}
	out := make([]TranscriptEntry, len(c.transcript))
	copy(out, c.transcript)
	for i := range out {
		if out[i].Attachment != nil {
			a := *out[i].Attachment
			out[i].Attachment = &a
		}
	}
	return out
}

// withConv runs f on a conversation under the lock.
func (s *Server) withConv(id string, f func(c *conversation) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[id]
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return f(c)
}

func requireState(c *conversation, op string, states ...string) error {
	for _, st := range states {
		if c.state == st {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %w (state %s)", op, c.id, ErrState, c.state)
}

// Accept assigns a waiting conversation to agentName: RoutingWorkResult
// (Accepted), ParticipantChanged (add Agent), SessionStatusChanged (Active),
// then delivery acks for messages sent while waiting.
//
// It also lets a late agent take a stalled transfer (StallTransfer): the
// session never stopped being Active, so the agent joins as a transfer
// completes — RoutingResult (Transfer), RoutingWorkResult (Accepted),
// ParticipantChanged (add), routing status ROUTED — followed by delivery
// acks for the messages sent while no agent was there.
func (s *Server) Accept(conversationID, agentName string) error {
	if strings.TrimSpace(agentName) == "" {
		return errors.New("accept: agent name is empty")
	}
	return s.withConv(conversationID, func(c *conversation) error {
		if stalledLocked(c) {
			s.transferJoinLocked(c, agentName)
			s.ackLocked(c, false)
			return nil
		}
		if err := requireState(c, "accept", StateWaiting); err != nil {
			return err
		}
		s.acceptLocked(c, agentName)
		return nil
	})
}

// stalledLocked reports a stalled transfer (StallTransfer): the session is
// Active but no agent is in it. (During an ordinary Transfer the previous
// agent stays recorded until the new one joins.)
func stalledLocked(c *conversation) bool {
	return c.state == StateActive && c.agent == ""
}

// requireAgent is requireState(StateActive) for what only an agent in the
// conversation can do: ErrState during a stalled transfer too.
func requireAgent(c *conversation, op string) error {
	if err := requireState(c, op, StateActive); err != nil {
		return err
	}
	if c.agent == "" {
		return fmt.Errorf("%s %s: %w (no agent in the conversation: the transfer found none yet)", op, c.id, ErrState)
	}
	return nil
}

func (s *Server) acceptLocked(c *conversation, agentName string) {
	c.agent, c.agentSubject = agentName, agentSubjectFor(agentName)
	c.state = StateActive
	c.routingStatus = RoutingRouted
	c.waiting = nil
	s.emitLocked(c, entrySpec{event: miaw.EventRoutingWorkResult, entryType: miaw.EntryRoutingWorkResult,
		sender: routerParticipant, displayName: "Omni-Channel", payload: map[string]any{"workType": "Accepted"}})
	s.emitParticipantLocked(c, "add", c.agent, c.agentSubject)
	s.emitSessionStatusLocked(c, miaw.SessionActive, miaw.SessionWaiting, "")
	s.ackLocked(c, false)
	s.requeueLocked(c)
}

// agentMessageLocked emits an agent message with the given static content.
func (s *Server) agentMessageLocked(c *conversation, content map[string]any, te TranscriptEntry) string {
	s.ackLocked(c, true) // the agent has read everything before answering
	msgID := newUUID()
	am := map[string]any{"messageType": "StaticContentMessage", "id": msgID, "inReplyToMessageId": nil, "references": []any{}, "staticContent": content}
	entryID := s.emitLocked(c, entrySpec{event: miaw.EventMessage, entryType: miaw.EntryMessage,
		sender: agentParticipant(c.agent, c.agentSubject), displayName: c.agent,
		payload: map[string]any{"abstractMessage": am, "messageReason": nil}})
	te.EntryID, te.MessageID, te.Role, te.Sender, te.At = entryID, msgID, miaw.RoleAgent, c.agent, time.Now()
	c.transcript = append(c.transcript, te)
	return entryID
}

// AgentSend sends a text message from the agent; it returns the entry id.
func (s *Server) AgentSend(conversationID, text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", errors.New("agent send: text is empty")
	}
	var id string
	err := s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "agent send"); err != nil {
			return err
		}
		id = s.agentMessageLocked(c, map[string]any{"formatType": miaw.FormatText, "text": text}, TranscriptEntry{Text: text})
		return nil
	})
	return id, err
}

// AgentSendLink shares a rich link (formatType RichLink).
func (s *Server) AgentSendLink(conversationID, url, title string) (string, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return "", fmt.Errorf("agent send link: url must be http(s), got %q", url)
	}
	var id string
	err := s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "agent send link"); err != nil {
			return err
		}
		content := map[string]any{"formatType": miaw.FormatRichLink, "url": url, "title": title,
			"linkItem": map[string]any{"url": url, "titleItem": title}}
		id = s.agentMessageLocked(c, content, TranscriptEntry{Text: title, LinkURL: url})
		return nil
	})
	return id, err
}

// AgentSendFile shares a file (formatType Attachments). The emulator serves it
// at a download URL on its own host, /emulator/files/{id}.
func (s *Server) AgentSendFile(conversationID, name, mimeType string, data []byte) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", errors.New("agent send file: name is empty")
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	var id string
	err := s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "agent send file"); err != nil {
			return err
		}
		fileID := newUUID()
		s.files[fileID] = &storedFile{name: name, mimeType: mimeType, data: append([]byte(nil), data...), owner: c.owner}
		sum := sha256.Sum256(data)
		url := s.fileURLLocked(fileID)
		content := map[string]any{"formatType": miaw.FormatAttachments, "text": nil, "attachments": []map[string]any{{
			"id": fileID, "name": name, "mimeType": mimeType, "url": url, "referenceId": fileID, "attachmentUploadResult": nil}}}
		id = s.agentMessageLocked(c, content, TranscriptEntry{Attachment: &FileInfo{ID: fileID, Name: name, MimeType: mimeType,
			Size: len(data), SHA256: hex.EncodeToString(sum[:]), URL: url}})
		return nil
	})
	return id, err
}

// AgentTyping sends a typing started/stopped indicator from the agent.
func (s *Server) AgentTyping(conversationID string, started bool) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "agent typing"); err != nil {
			return err
		}
		event, entryType := miaw.EventTypingStopped, miaw.EntryTypingStopped
		if started {
			event, entryType = miaw.EventTypingStarted, miaw.EntryTypingStarted
		}
		s.emitLocked(c, entrySpec{event: event, entryType: entryType, sender: agentParticipant(c.agent, c.agentSubject),
			displayName: c.agent, noHistory: true, payload: map[string]any{"timestamp": millis(time.Now())}})
		return nil
	})
}

// AgentRead marks every end-user message as read (delivery and read acks).
func (s *Server) AgentRead(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "agent read"); err != nil {
			return err
		}
		s.ackLocked(c, true)
		return nil
	})
}

// Transfer hands an active conversation to toAgent: ParticipantChanged
// (remove), routing status TRANSFER, then after Config.TransferDelay
// RoutingResult (Transfer), RoutingWorkResult (Accepted), ParticipantChanged
// (add) and routing status ROUTED.
func (s *Server) Transfer(conversationID, toAgent string) error {
	if strings.TrimSpace(toAgent) == "" {
		return errors.New("transfer: target agent name is empty")
	}
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "transfer"); err != nil {
			return err
		}
		if c.routingStatus == RoutingTransfer {
			return fmt.Errorf("transfer %s: %w (transfer already in progress)", c.id, ErrState)
		}
		s.emitParticipantLocked(c, "remove", c.agent, c.agentSubject)
		c.routingStatus = RoutingTransfer
		session := c.sessionID
		finish := func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.sessionID != session || c.state != StateActive || c.routingStatus != RoutingTransfer {
				return
			}
			s.transferJoinLocked(c, toAgent)
		}
		if s.cfg.TransferDelay < 0 {
			s.mu.Unlock()
			finish()
			s.mu.Lock()
		} else {
			s.afterFuncLocked(s.cfg.TransferDelay, finish)
		}
		return nil
	})
}

// transferJoinLocked completes a transfer: toAgent joins with RoutingResult
// (Transfer), RoutingWorkResult (Accepted), ParticipantChanged (add);
// routing status ROUTED.
func (s *Server) transferJoinLocked(c *conversation, toAgent string) {
	c.agent, c.agentSubject = toAgent, agentSubjectFor(toAgent)
	s.emitLocked(c, entrySpec{event: miaw.EventRoutingResult, entryType: miaw.EntryRoutingResult,
		sender: routerParticipant, displayName: "Omni-Channel",
		payload: map[string]any{"recordId": c.sessionID, "errorMessages": []string{}, "pendingServiceRoutingId": sfID("0JR"),
			"routingType": "Transfer", "failureType": "None", "failureReason": nil,
			"estimatedWaitTime":  map[string]any{"estimatedWaitTimeInSeconds": -1, "isEWTRequested": false},
			"isExternallyRouted": false, "workOwnerId": nil, "cancelReason": nil}})
	s.emitLocked(c, entrySpec{event: miaw.EventRoutingWorkResult, entryType: miaw.EntryRoutingWorkResult,
		sender: routerParticipant, displayName: "Omni-Channel", payload: map[string]any{"workType": "Accepted"}})
	s.emitParticipantLocked(c, "add", c.agent, c.agentSubject)
	c.routingStatus = RoutingRouted
}

// StallTransfer starts a transfer of an active conversation that never finds
// an agent: exactly the start of Transfer — ParticipantChanged (remove) and
// routing status TRANSFER — and then nothing: no agent joins and no routing
// failure is sent. The session stays Active with no agent in it (the
// conversation's Agent is empty): the end user's messages are echoed but not
// acknowledged, and the agent-side sends answer ErrState. A late agent can
// still Accept it (see Accept); FailTransfer makes routing give up and
// AgentEnd or the end user ends it. ErrState unless an agent is in the
// conversation.
func (s *Server) StallTransfer(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, "stall transfer"); err != nil {
			return err
		}
		if c.routingStatus == RoutingTransfer {
			return fmt.Errorf("stall transfer %s: %w (transfer already in progress)", c.id, ErrState)
		}
		s.emitParticipantLocked(c, "remove", c.agent, c.agentSubject)
		c.agent, c.agentSubject = "", ""
		c.routingStatus = RoutingTransfer
		return nil
	})
}

// FailTransfer starts a transfer of an active conversation that finds no
// agent: ParticipantChanged (remove), routing status TRANSFER, then
// RoutingResult (routingType Initial, failureType RoutingError; Salesforce's
// sample app shows an Initial result for every failure) and routing status
// INITIAL. The session waits in the queue again, so another agent can
// Accept it. (Salesforce's exact sequence for a failed transfer is not
// documented; this is our best reading, see docs/miaw-api.md §2.4.) On a
// stalled transfer (StallTransfer) the agent has already left: only the
// routing failure is sent.
func (s *Server) FailTransfer(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireState(c, "fail transfer", StateActive); err != nil {
			return err
		}
		if c.agent != "" {
			s.emitParticipantLocked(c, "remove", c.agent, c.agentSubject)
		}
		c.agent, c.agentSubject = "", ""
		s.emitLocked(c, entrySpec{event: miaw.EventRoutingResult, entryType: miaw.EntryRoutingResult,
			sender: routerParticipant, displayName: "Omni-Channel",
			payload: map[string]any{"recordId": c.sessionID, "errorMessages": []string{"No agent is available for the transfer."},
				"pendingServiceRoutingId": sfID("0JR"), "routingType": "Initial", "failureType": "RoutingError",
				"failureReason": "No agent available", "estimatedWaitTime": map[string]any{"estimatedWaitTimeInSeconds": -1, "isEWTRequested": false},
				"isExternallyRouted": false, "workOwnerId": nil, "cancelReason": nil}})
		c.state = StateWaiting
		c.routingStatus = RoutingInitial
		return nil
	})
}

// MarkInactive reports the active session Inactive (SessionStatusChanged),
// as Salesforce does after customer inactivity; the next end-user message
// makes it Active again.
func (s *Server) MarkInactive(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireState(c, "mark inactive", StateActive); err != nil {
			return err
		}
		if !c.inactive {
			c.inactive = true
			s.emitSessionStatusLocked(c, miaw.SessionInactive, miaw.SessionActive, "")
		}
		return nil
	})
}

// SetSilentRouting makes routing say nothing (no routing result, status or
// queue position) about sessions started from now on while on is true: the
// "stuck in a void" case.
func (s *Server) SetSilentRouting(on bool) { s.silentRouting.Store(on) }

// AgentEnd ends the messaging session from the agent side: ParticipantChanged
// (remove) and SessionStatusChanged (Ended); routing status NEEDS_ROUTING. The
// conversation stays open; the next end-user message gets 417.
func (s *Server) AgentEnd(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireState(c, "agent end", StateActive, StateWaiting); err != nil {
			return err
		}
		s.endSessionLocked(c, miaw.RoleAgent)
		return nil
	})
}

// TimeoutQueue makes routing give up on a waiting conversation: RoutingResult
// (failureType RoutingError) and SessionStatusChanged (Ended).
func (s *Server) TimeoutQueue(conversationID string) error {
	return s.withConv(conversationID, func(c *conversation) error {
		if err := requireState(c, "timeout queue", StateWaiting); err != nil {
			return err
		}
		s.emitLocked(c, entrySpec{event: miaw.EventRoutingResult, entryType: miaw.EntryRoutingResult,
			sender: routerParticipant, displayName: "Omni-Channel",
			payload: map[string]any{"recordId": c.sessionID, "errorMessages": []string{"No agent accepted the work item before the routing timeout."},
				"pendingServiceRoutingId": c.routingID, "routingType": "Initial", "failureType": "RoutingError",
				"failureReason": "No agent available", "estimatedWaitTime": map[string]any{"estimatedWaitTimeInSeconds": -1, "isEWTRequested": false},
				"isExternallyRouted": false, "workOwnerId": nil, "cancelReason": nil}})
		s.endSessionLocked(c, miaw.RoleRouter)
		return nil
	})
}

// Scripted agent.

func runScript(q chan func()) {
	for f := range q {
		f()
	}
}

// enqueueLocked queues scripted work for a conversation (in order).
func (s *Server) enqueueLocked(c *conversation, f func()) {
	if c.script == nil || s.closed {
		return
	}
	select {
	case c.script <- f:
	default:
		s.log.Warn("scripted agent queue full; dropping an action", "conversation", c.id)
	}
}

// scriptAccept is the scripted agent accepting a conversation when its timer fires.
func (s *Server) scriptAccept(conversationID, sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil || c.state != StateWaiting || c.sessionID != sessionID {
		return
	}
	pending := c.waiting
	s.acceptLocked(c, s.cfg.Agent.Name)
	if g := s.cfg.Agent.Greeting; g != "" {
		s.agentMessageLocked(c, map[string]any{"formatType": miaw.FormatText, "text": g}, TranscriptEntry{Text: g})
	}
	// Answer what arrived while waiting.
	for _, te := range pending {
		s.scriptReplyLocked(c, te)
	}
}

func (s *Server) scriptOnUserMessageLocked(c *conversation, te TranscriptEntry) {
	if s.cfg.Agent == nil || c.state != StateActive || c.agent == "" {
		return
	}
	s.scriptReplyLocked(c, te)
}

// scriptReplyLocked queues the scripted agent's answer to one end-user message.
func (s *Server) scriptReplyLocked(c *conversation, te TranscriptEntry) {
	a := s.cfg.Agent
	session := c.sessionID
	id := c.id
	s.enqueueLocked(c, func() {
		text := te.Text
		if text == "" && te.Attachment != nil {
			text = te.Attachment.Name
		}
		reply := "You said: " + text
		if a.Reply != nil {
			reply = a.Reply(text) // outside the lock: Reply may call the Server
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.sessionID != session || c.state != StateActive || c.agent == "" {
			return
		}
		if reply != "" {
			s.agentMessageLocked(c, map[string]any{"formatType": miaw.FormatText, "text": reply}, TranscriptEntry{Text: reply})
			c.agentReplies++
		} else {
			s.ackLocked(c, true)
		}
		if c.agentReplies > 0 && !c.extrasShared {
			c.extrasShared = true
			if a.SendLink {
				url := "https://help.example.com/articles/getting-started"
				s.agentMessageLocked(c, map[string]any{"formatType": miaw.FormatRichLink, "url": url, "title": "Getting started",
					"linkItem": map[string]any{"url": url, "titleItem": "Getting started"}}, TranscriptEntry{Text: "Getting started", LinkURL: url})
			}
			if a.SendFile {
				data := []byte("Emulated agent notes for conversation " + id + "\n")
				fileID := newUUID()
				s.files[fileID] = &storedFile{name: "agent-notes.txt", mimeType: "text/plain", data: data, owner: c.owner}
				sum := sha256.Sum256(data)
				url := s.fileURLLocked(fileID)
				s.agentMessageLocked(c, map[string]any{"formatType": miaw.FormatAttachments, "text": nil, "attachments": []map[string]any{{
					"id": fileID, "name": "agent-notes.txt", "mimeType": "text/plain", "url": url, "referenceId": fileID, "attachmentUploadResult": nil}}},
					TranscriptEntry{Attachment: &FileInfo{ID: fileID, Name: "agent-notes.txt", MimeType: "text/plain", Size: len(data), SHA256: hex.EncodeToString(sum[:]), URL: url}})
			}
		}
		if a.CloseAfter > 0 && c.sessionMessages >= a.CloseAfter {
			s.endSessionLocked(c, miaw.RoleAgent)
		}
	})
}
