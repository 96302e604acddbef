package miaw_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// These tests run the real emulator over loopback and drive the agent side
// with its Go API, so every request and event crosses real HTTP and SSE.

const (
	emuKID    = "bridge-test-key"
	emuIssuer = "https://bridge.example.test"
	emuOrg    = "00D000000000001"
	emuDeploy = "Live_Agent_Bridge"
	waitLong  = 20 * time.Second // generous: CI machines are shared
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type emuEnv struct {
	emu    *emulator.Server
	client *miaw.Client
	cfg    miaw.Config
}

// startEmulator starts an emulator with a fresh key pair and a verified-mode
// client for it. mutate may adjust the client config.
func startEmulator(t *testing.T, ecfg emulator.Config, mutate func(*miaw.Config)) *emuEnv {
	t.Helper()
	keyPath, jwksPath, err := emulator.GenerateKeyPair(t.TempDir(), emuKID)
	if err != nil {
		t.Fatalf("GenerateKeyPair: %v", err)
	}
	jwks, err := os.ReadFile(jwksPath)
	if err != nil {
		t.Fatal(err)
	}
	ecfg.JWKS = jwks
	ecfg.Issuer = emuIssuer
	ecfg.OrgID = emuOrg
	ecfg.DeploymentName = emuDeploy
	if ecfg.Logger == nil {
		ecfg.Logger = quiet
	}
	emu, err := emulator.New(ecfg)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("emulator Start: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	cfg := miaw.Config{
		BaseURL: base, AllowAnyHost: true, OrgID: emuOrg, DeploymentName: emuDeploy,
		PrivateKeyFile: keyPath, KeyID: emuKID, Issuer: emuIssuer,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := miaw.New(cfg, miaw.WithLogger(quiet))
	if err != nil {
		t.Fatalf("miaw.New: %v", err)
	}
	return &emuEnv{emu: emu, client: c, cfg: cfg}
}

// eventLog runs Stream for a user in the background.
type eventLog struct {
	ch   chan miaw.Event
	mu   sync.Mutex
	seen []miaw.Event
}

func (env *emuEnv) stream(t *testing.T, userID string) *eventLog {
	t.Helper()
	l := &eventLog{ch: make(chan miaw.Event, 4096)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- env.client.Stream(ctx, userID, miaw.StreamOptions{}, func(e miaw.Event) error {
			l.mu.Lock()
			l.seen = append(l.seen, e)
			l.mu.Unlock()
			l.ch <- e
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
	})
	return l
}

// next returns the first event (from now on) matching pred, failing the
// test after waitLong.
func (l *eventLog) next(t *testing.T, what string, pred func(miaw.Event) bool) miaw.Event {
	t.Helper()
	timeout := time.After(waitLong)
	for {
		select {
		case e := <-l.ch:
			if pred(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (l *eventLog) all() []miaw.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

func ofType(conv, eventType string) func(miaw.Event) bool {
	return func(e miaw.Event) bool { return e.ConversationID == conv && e.Type == eventType }
}

func message(conv, role, text string) func(miaw.Event) bool {
	return func(e miaw.Event) bool {
		m, ok := e.Payload.(*miaw.MessagePayload)
		return ok && e.ConversationID == conv && e.Entry.Sender.Role == role && (text == "" || m.Text() == text)
	}
}

func TestEmulatorFullConversation(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{TransferDelay: 3 * time.Second, RequireAuthForFiles: true}, nil)
	c, ctx, user := env.client, context.Background(), "ada@example.com"

	tok, err := c.Token(ctx, user)
	if err != nil {
		t.Fatalf("verified token: %v", err)
	}
	if !strings.Contains(tok.Subject, "/AUTH/") || !strings.HasSuffix(tok.Subject, "uid:"+user) || time.Until(tok.Expiry) < 30*time.Minute {
		t.Fatalf("token %v", tok)
	}
	events := env.stream(t, user)
	conv := uuid.NewString()

	// Create: routing result, waiting, queue position.
	if err := c.CreateConversation(ctx, user, miaw.CreateConversationRequest{ConversationID: conv,
		RoutingAttributes: map[string]string{"_firstName": "Ada", "Topic": "billing"}, Language: "en_US"}); err != nil {
		t.Fatal(err)
	}
	rr := events.next(t, "routing result", ofType(conv, miaw.EventRoutingResult)).Payload.(*miaw.RoutingResultPayload)
	if rr.RoutingType != "Initial" || rr.FailureType != "None" {
		t.Fatalf("routing result %+v", rr)
	}
	if ss := events.next(t, "waiting", ofType(conv, miaw.EventSessionStatusChanged)).Payload.(*miaw.SessionStatusChangedPayload); ss.SessionStatus != miaw.SessionWaiting {
		t.Fatalf("session status %+v", ss)
	}
	if qp := events.next(t, "queue position", ofType(conv, miaw.EventQueuePosition)).Payload.(*miaw.QueuePositionPayload); qp.Position < 1 {
		t.Fatalf("queue position %+v", qp)
	}
	if info, err := env.emu.Conversation(conv); err != nil || info.RoutingAttributes["Topic"] != "billing" || info.State != emulator.StateWaiting {
		t.Fatalf("emulator view %+v, %v", info, err)
	}
	if st, err := c.RoutingStatus(ctx, user, conv); err != nil || st == "" {
		t.Fatalf("routing status %q, %v", st, err)
	}

	// User message while waiting: echoed with role EndUser.
	msgID := uuid.NewString()
	res, err := c.SendMessage(ctx, user, conv, miaw.TextMessage{ID: msgID, Text: "I was double charged"})
	if err != nil || res.EntryID == "" || res.NewSession {
		t.Fatalf("send: %+v, %v", res, err)
	}
	echo := events.next(t, "echo", message(conv, miaw.RoleEndUser, "I was double charged"))
	if echo.Payload.(*miaw.MessagePayload).AbstractMessage.ID != msgID {
		t.Fatalf("echo carries message id %q, want %q", echo.Payload.(*miaw.MessagePayload).AbstractMessage.ID, msgID)
	}
	if err := c.SendTyping(ctx, user, conv, true); err != nil {
		t.Fatal(err)
	}
	events.next(t, "typing echo", ofType(conv, miaw.EventTypingStarted))
	if err := c.SendTyping(ctx, user, conv, false); err != nil {
		t.Fatal(err)
	}
	events.next(t, "typing stopped echo", ofType(conv, miaw.EventTypingStopped))

	// Agent accepts.
	if err := env.emu.Accept(conv, "Jane Agent"); err != nil {
		t.Fatal(err)
	}
	if wr := events.next(t, "work result", ofType(conv, miaw.EventRoutingWorkResult)).Payload.(*miaw.RoutingWorkResultPayload); wr.WorkType != "Accepted" {
		t.Fatalf("work result %+v", wr)
	}
	pc := events.next(t, "agent joined", ofType(conv, miaw.EventParticipantChanged)).Payload.(*miaw.ParticipantChangedPayload)
	if len(pc.Entries) != 1 || pc.Entries[0].Operation != "add" || pc.Entries[0].Participant.Role != miaw.RoleAgent || pc.Entries[0].DisplayName != "Jane Agent" {
		t.Fatalf("participant changed %+v", pc)
	}
	events.next(t, "active", func(e miaw.Event) bool {
		ss, ok := e.Payload.(*miaw.SessionStatusChangedPayload)
		return ok && ss.SessionStatus == miaw.SessionActive
	})
	ack := events.next(t, "delivery ack", ofType(conv, miaw.EventDeliveryAck)).Payload.(*miaw.AcknowledgementPayload)
	if ack.AcknowledgedEntryID == "" {
		t.Fatalf("delivery ack without acknowledged entry: %+v", ack)
	}

	// Agent types, answers, shares a link and a file.
	if err := env.emu.AgentTyping(conv, true); err != nil {
		t.Fatal(err)
	}
	if e := events.next(t, "agent typing", ofType(conv, miaw.EventTypingStarted)); e.Entry.Sender.Role != miaw.RoleAgent {
		t.Fatalf("typing from %q", e.Entry.Sender.Role)
	}
	agentEntry, err := env.emu.AgentSend(conv, "Let me check that for you")
	if err != nil {
		t.Fatal(err)
	}
	// The agent reads everything before answering: a read ack precedes the reply.
	if ra := events.next(t, "read ack", ofType(conv, miaw.EventReadAck)).Payload.(*miaw.AcknowledgementPayload); ra.AcknowledgedEntryID != echo.Entry.Identifier {
		t.Fatalf("read ack for %q, want our message entry %q", ra.AcknowledgedEntryID, echo.Entry.Identifier)
	}
	reply := events.next(t, "agent reply", message(conv, miaw.RoleAgent, "Let me check that for you"))
	if reply.Entry.Identifier != agentEntry || reply.Entry.SenderDisplayName != "Jane Agent" {
		t.Fatalf("reply entry %q by %q, want %q", reply.Entry.Identifier, reply.Entry.SenderDisplayName, agentEntry)
	}
	if _, err := env.emu.AgentSendLink(conv, "https://example.com/refunds", "Refund policy"); err != nil {
		t.Fatal(err)
	}
	link := events.next(t, "rich link", message(conv, miaw.RoleAgent, "")).Payload.(*miaw.MessagePayload).AbstractMessage.StaticContent
	if link.FormatType != miaw.FormatRichLink || link.LinkItem == nil || link.LinkItem.URL != "https://example.com/refunds" || link.LinkItem.TitleStr != "Refund policy" {
		t.Fatalf("rich link %+v / %+v", link, link.LinkItem)
	}
	fileData := []byte("refund form\nline 2\n")
	if _, err := env.emu.AgentSendFile(conv, "refund.txt", "text/plain", fileData); err != nil {
		t.Fatal(err)
	}
	fileMsg := events.next(t, "agent file", message(conv, miaw.RoleAgent, "")).Payload.(*miaw.MessagePayload).AbstractMessage.StaticContent
	if fileMsg.FormatType != miaw.FormatAttachments || len(fileMsg.Attachments) != 1 {
		t.Fatalf("attachment message %+v", fileMsg)
	}
	dl, err := c.DownloadAttachment(ctx, user, fileMsg.Attachments[0])
	if err != nil {
		t.Fatalf("download (emulator requires the bearer token): %v", err)
	}
	if !bytes.Equal(dl.Data, fileData) || dl.Name != "refund.txt" || !strings.HasPrefix(dl.MimeType, "text/plain") {
		t.Fatalf("download %q %q %q", dl.Name, dl.MimeType, dl.Data)
	}

	// Receipts both ways.
	if err := c.Acknowledge(ctx, user, conv, miaw.Ack{Type: miaw.AckDelivery, EntryID: agentEntry}, miaw.Ack{Type: miaw.AckRead, EntryID: agentEntry}); err != nil {
		t.Fatal(err)
	}
	acked := false
	for _, te := range env.emu.Transcript(conv) {
		if te.EntryID == agentEntry {
			acked = te.Delivered && te.Read
		}
	}
	if !acked {
		t.Fatalf("agent message not marked delivered+read: %+v", env.emu.Transcript(conv))
	}

	// User uploads a file: the agent side gets the same bytes.
	upload := []byte("%PDF-1.4 statement")
	if _, err := c.SendFile(ctx, user, conv, miaw.File{MessageID: uuid.NewString(), Name: "statement.pdf", MimeType: "application/pdf", Caption: "my statement", Data: upload}); err != nil {
		t.Fatal(err)
	}
	events.next(t, "file echo", func(e miaw.Event) bool {
		m, ok := e.Payload.(*miaw.MessagePayload)
		return ok && e.Entry.Sender.Role == miaw.RoleEndUser && m.AbstractMessage.StaticContent != nil && m.AbstractMessage.StaticContent.FormatType == miaw.FormatAttachments
	})
	sum := sha256.Sum256(upload)
	var gotFile *emulator.FileInfo
	for _, te := range env.emu.Transcript(conv) {
		if te.Attachment != nil && te.Role == "EndUser" {
			gotFile = te.Attachment
		}
	}
	if gotFile == nil || gotFile.SHA256 != hex.EncodeToString(sum[:]) || gotFile.Name != "statement.pdf" {
		t.Fatalf("agent side got file %+v", gotFile)
	}
	if err := env.emu.AgentRead(conv); err != nil {
		t.Fatal(err)
	}
	events.next(t, "read ack for the file", ofType(conv, miaw.EventReadAck))

	// History and lists.
	entries, err := c.ListEntries(ctx, user, conv, miaw.EntriesQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range entries {
		if m, ok := e.Payload.(*miaw.MessagePayload); ok && m.Text() != "" {
			texts = append(texts, m.Text())
		}
	}
	if !slices.Contains(texts, "I was double charged") || !slices.Contains(texts, "Let me check that for you") {
		t.Fatalf("entries texts %q", texts)
	}
	list, err := c.ListConversations(ctx, user, false, 10)
	if err != nil || list.OpenConversationsFound != 1 || len(list.Conversations) != 1 || list.Conversations[0].ConversationID != conv {
		t.Fatalf("conversation list %+v, %v", list, err)
	}
	if st, err := c.RoutingStatus(ctx, user, conv); err != nil || st != miaw.RoutingRouted {
		t.Fatalf("routing status %q, %v", st, err)
	}

	// Transfer: agent leaves, TRANSFER, then the new agent joins.
	if err := env.emu.Transfer(conv, "Bob Agent"); err != nil {
		t.Fatal(err)
	}
	if st, err := c.RoutingStatus(ctx, user, conv); err != nil || st != miaw.RoutingTransfer {
		t.Fatalf("routing status during transfer %q, %v", st, err)
	}
	tr := events.next(t, "transfer routing result", ofType(conv, miaw.EventRoutingResult)).Payload.(*miaw.RoutingResultPayload)
	if tr.RoutingType != "Transfer" {
		t.Fatalf("transfer routing result %+v", tr)
	}
	events.next(t, "new agent", func(e miaw.Event) bool {
		p, ok := e.Payload.(*miaw.ParticipantChangedPayload)
		return ok && len(p.Entries) > 0 && p.Entries[0].Operation == "add" && p.Entries[0].DisplayName == "Bob Agent"
	})

	// Agent ends the session: Ended, NEEDS_ROUTING, and the next message needs a new session (417).
	if err := env.emu.AgentEnd(conv); err != nil {
		t.Fatal(err)
	}
	events.next(t, "ended", func(e miaw.Event) bool {
		ss, ok := e.Payload.(*miaw.SessionStatusChangedPayload)
		return ok && e.ConversationID == conv && ss.SessionStatus == miaw.SessionEnded
	})
	if st, err := c.RoutingStatus(ctx, user, conv); err != nil || st != miaw.RoutingNeedsRouting {
		t.Fatalf("routing status after end %q, %v", st, err)
	}
	// A client whose chat ends with the session gets the 417 and routes nothing.
	if _, err := c.SendMessage(ctx, user, conv, miaw.TextMessage{ID: uuid.NewString(), Text: "Hello?", NoNewSession: true}); !miaw.IsStatus(err, 417) {
		t.Fatalf("send with NoNewSession after agent end: %v, want 417", err)
	}
	if info, _ := env.emu.Conversation(conv); info.State != emulator.StateEnded {
		t.Fatalf("emulator state after a refused send %q, want %q", info.State, emulator.StateEnded)
	}
	again, err := c.SendMessage(ctx, user, conv, miaw.TextMessage{ID: uuid.NewString(), Text: "One more thing",
		RoutingAttributes: map[string]string{"_firstName": "Ada"}, Language: "en_US"})
	if err != nil || !again.NewSession {
		t.Fatalf("send after agent end: %+v, %v (want a transparent re-send after 417)", again, err)
	}
	events.next(t, "new session routing", ofType(conv, miaw.EventRoutingResult))
	if info, _ := env.emu.Conversation(conv); info.State != emulator.StateWaiting {
		t.Fatalf("emulator state after new session %q", info.State)
	}

	// End the session ourselves, then close the conversation.
	if err := c.EndSession(ctx, user, conv); err != nil {
		t.Fatal(err)
	}
	events.next(t, "ended by user", func(e miaw.Event) bool {
		ss, ok := e.Payload.(*miaw.SessionStatusChangedPayload)
		return ok && e.ConversationID == conv && ss.SessionStatus == miaw.SessionEnded
	})
	if err := c.CloseConversation(ctx, user, conv); err != nil {
		t.Fatal(err)
	}
	if cc := events.next(t, "close", ofType(conv, miaw.EventCloseConversation)).Payload.(*miaw.CloseConversationPayload); cc.EntryType != miaw.EntryCloseConversation {
		t.Fatalf("close payload %+v", cc)
	}
	if list, err := c.ListConversations(ctx, user, true, 10); err != nil || list.ClosedConversationsFound != 1 {
		t.Fatalf("list with closed %+v, %v", list, err)
	}

	// Every modelled event type reached Stream.
	seen := map[string]bool{}
	for _, e := range events.all() {
		seen[e.Type] = true
	}
	for _, typ := range []string{miaw.EventMessage, miaw.EventParticipantChanged, miaw.EventRoutingResult, miaw.EventRoutingWorkResult,
		miaw.EventDeliveryAck, miaw.EventReadAck, miaw.EventTypingStarted, miaw.EventTypingStopped, miaw.EventCloseConversation,
		miaw.EventSessionStatusChanged, miaw.EventQueuePosition} {
		if !seen[typ] {
			t.Errorf("event type %s never reached Stream", typ)
		}
	}
	if st := c.Stats(); st.MalformedEvents != 0 {
		t.Errorf("emulator events failed to decode: %+v", st)
	}

	// Continuation and revoke.
	cont, err := c.ContinuationToken(ctx, user)
	if err != nil || cont.Subject != tok.Subject || cont.AccessToken == tok.AccessToken {
		t.Fatalf("continuation %v, %v", cont, err)
	}
	if err := c.RevokeToken(ctx, user); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

func TestEmulatorQueueTimeout(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{}, nil)
	user, conv := "timeout-user", uuid.NewString()
	events := env.stream(t, user)
	if err := env.client.CreateConversation(context.Background(), user, miaw.CreateConversationRequest{ConversationID: conv}); err != nil {
		t.Fatal(err)
	}
	events.next(t, "initial routing", ofType(conv, miaw.EventRoutingResult))
	if err := env.emu.TimeoutQueue(conv); err != nil {
		t.Fatal(err)
	}
	rr := events.next(t, "failed routing", ofType(conv, miaw.EventRoutingResult)).Payload.(*miaw.RoutingResultPayload)
	if rr.FailureType == "" || rr.FailureType == "None" {
		t.Fatalf("timeout routing result %+v", rr)
	}
}

func TestEmulatorGuest(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{}, func(c *miaw.Config) {
		c.AuthMode, c.PrivateKeyFile, c.KeyID, c.Issuer = miaw.AuthGuest, "", "", ""
	})
	tok, err := env.client.Token(context.Background(), "guest-1")
	if err != nil || strings.Contains(tok.Subject, "/AUTH/") {
		t.Fatalf("guest token %v, %v", tok, err)
	}
	if err := env.client.CreateConversation(context.Background(), "guest-1", miaw.CreateConversationRequest{ConversationID: uuid.NewString()}); err != nil {
		t.Fatal(err)
	}
}

// agentMessages sends n agent messages to conv and returns their texts.
func agentMessages(t *testing.T, env *emuEnv, conv string, n int, pause time.Duration) []string {
	t.Helper()
	var texts []string
	for i := range n {
		text := "agent message " + string(rune('A'+i))
		if _, err := env.emu.AgentSend(conv, text); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text)
		time.Sleep(pause)
	}
	return texts
}

// openActive creates an accepted conversation for user.
func openActive(t *testing.T, env *emuEnv, user string) string {
	t.Helper()
	conv := uuid.NewString()
	if err := env.client.CreateConversation(context.Background(), user, miaw.CreateConversationRequest{ConversationID: conv}); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.Accept(conv, "Jane Agent"); err != nil {
		t.Fatal(err)
	}
	return conv
}

// receiveAgentTexts waits for want agent texts and returns all agent
// message events seen on the way (duplicates included).
func receiveAgentTexts(t *testing.T, events *eventLog, conv string, want []string) []miaw.Event {
	t.Helper()
	var got []miaw.Event
	unique := map[string]bool{}
	for len(unique) < len(want) {
		e := events.next(t, "agent messages", message(conv, miaw.RoleAgent, ""))
		got = append(got, e)
		unique[e.ID] = true
	}
	return got
}

func texts(evs []miaw.Event) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range evs {
		if !seen[e.ID] { // dedupe by event id, as callers do
			seen[e.ID] = true
			out = append(out, e.Payload.(*miaw.MessagePayload).Text())
		}
	}
	return out
}

func TestEmulatorResumesAcrossDroppedStreams(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{DropStreamEvery: 2}}, nil)
	user := "drop-user"
	events := env.stream(t, user)
	conv := openActive(t, env, user)
	want := agentMessages(t, env, conv, 9, 0)
	got := receiveAgentTexts(t, events, conv, want)
	if !slices.Equal(texts(got), want) || len(got) != len(want) {
		t.Fatalf("received %q (%d events), want %q exactly once each", texts(got), len(got), want)
	}
	all := events.all()
	ids := map[string]bool{}
	for _, e := range all {
		if ids[e.ID] {
			t.Fatalf("event %s delivered twice without duplicate faults", e.ID)
		}
		ids[e.ID] = true
	}
	if env.client.Stats().Reconnects < 3 || env.emu.Stats().FaultDrops < 3 {
		t.Fatalf("client %+v / emulator %+v: the stream was not dropped repeatedly", env.client.Stats(), env.emu.Stats())
	}
}

func TestEmulatorDuplicateEventsCarrySameID(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{DuplicateRate: 0.5, Seed: 7}}, nil)
	user := "dup-user"
	events := env.stream(t, user)
	conv := openActive(t, env, user)
	want := agentMessages(t, env, conv, 10, 0)
	got := receiveAgentTexts(t, events, conv, want)
	if !slices.Equal(texts(got), want) {
		t.Fatalf("after dedupe by id: %q, want %q", texts(got), want)
	}
	if env.emu.Stats().FaultDuplicates == 0 {
		t.Fatal("the emulator injected no duplicates; the test proves nothing")
	}
	// Every duplicate repeats an id together with the same entry.
	byID := map[string]string{}
	for _, e := range events.all() {
		if prev, ok := byID[e.ID]; ok && prev != e.Entry.Identifier {
			t.Fatalf("event id %s reused for entries %s and %s", e.ID, prev, e.Entry.Identifier)
		}
		byID[e.ID] = e.Entry.Identifier
	}
}

func TestEmulatorTokenRenewalMidStream(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{TokenTTL: 3 * time.Second}}, func(c *miaw.Config) {
		c.RenewBefore = time.Second
	})
	user := "renew-user"
	events := env.stream(t, user)
	conv := openActive(t, env, user)
	want := agentMessages(t, env, conv, 8, 1100*time.Millisecond) // spans several token lifetimes
	got := receiveAgentTexts(t, events, conv, want)
	if !slices.Equal(texts(got), want) || len(got) != len(want) {
		t.Fatalf("received %q, want %q without gaps or repeats", texts(got), want)
	}
	if n := env.client.Stats().TokenRequests; n < 3 {
		t.Fatalf("token requests %d: tokens were not renewed", n)
	}
	if env.emu.Stats().ExpiredStreams == 0 {
		t.Fatal("no stream ended at token expiry; the test proves nothing")
	}
	// REST calls keep working with renewed tokens.
	if _, err := env.client.RoutingStatus(context.Background(), user, conv); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorEventDelay(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{EventDelay: 100 * time.Millisecond}}, nil)
	user := "delay-user"
	events := env.stream(t, user)
	conv := openActive(t, env, user)
	want := agentMessages(t, env, conv, 3, 0)
	if got := receiveAgentTexts(t, events, conv, want); !slices.Equal(texts(got), want) {
		t.Fatalf("received %q, want %q", texts(got), want)
	}
	if env.emu.Stats().FaultDelays == 0 {
		t.Fatal("no delayed events")
	}
}

func TestEmulatorServerErrorsAreRetryable(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{ErrorRate: 1}}, nil)
	err := env.client.CreateConversation(context.Background(), "u", miaw.CreateConversationRequest{ConversationID: uuid.NewString()})
	var e *miaw.Error
	if !errors.As(err, &e) || e.Status != 503 || !miaw.IsRetryable(err) {
		t.Fatalf("got %v, want retryable 503", err)
	}
}

func TestEmulatorThrottlingIsRetryableWithRetryAfter(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{ThrottleRate: 1}}, nil)
	err := env.client.CreateConversation(context.Background(), "u", miaw.CreateConversationRequest{ConversationID: uuid.NewString()})
	var e *miaw.Error
	if !errors.As(err, &e) || e.Status != 429 || !miaw.IsRetryable(err) || e.RetryAfter != time.Second {
		t.Fatalf("got %#v, want retryable 429 with Retry-After 1s", err)
	}
}

// TestEmulatorFlakyServerWithCallerRetries: with a fraction of 503s and 429s,
// a caller retrying on IsRetryable (as the Temporal activities do) completes
// a whole conversation.
func TestEmulatorFlakyServerWithCallerRetries(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{Faults: emulator.Faults{ErrorRate: 0.25, ThrottleRate: 0.15, Seed: 3}}, nil)
	ctx, user, conv := context.Background(), "flaky-user", uuid.NewString()
	retry := func(what string, f func() error) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			err := f()
			if err == nil {
				return
			}
			if !miaw.IsRetryable(err) || attempt == 50 {
				t.Fatalf("%s: %v (attempt %d)", what, err, attempt)
			}
		}
	}
	retry("create", func() error {
		err := env.client.CreateConversation(ctx, user, miaw.CreateConversationRequest{ConversationID: conv})
		if err != nil && strings.Contains(err.Error(), "already exists") {
			return nil // an earlier attempt reached the server
		}
		return err
	})
	msgID := uuid.NewString()
	retry("send", func() error {
		_, err := env.client.SendMessage(ctx, user, conv, miaw.TextMessage{ID: msgID, Text: "hello"})
		return err
	})
	retry("status", func() error { _, err := env.client.RoutingStatus(ctx, user, conv); return err })
	if s := env.emu.Stats(); s.FaultErrors+s.FaultThrottled == 0 {
		t.Fatal("no faults injected; the test proves nothing")
	}
	n := 0
	for _, te := range env.emu.Transcript(conv) {
		if te.MessageID == msgID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("message %s appears %d times in the transcript, want once (idempotent id)", msgID, n)
	}
}

func TestEmulatorRejectsOversizeAndBlockedFiles(t *testing.T) {
	t.Parallel()
	env := startEmulator(t, emulator.Config{MaxFileBytes: 1024, BlockedMimeTypes: []string{"application/zip"}}, nil)
	ctx, user := context.Background(), "file-user"
	conv := openActive(t, env, user)
	_, err := env.client.SendFile(ctx, user, conv, miaw.File{MessageID: uuid.NewString(), Name: "big.txt", MimeType: "text/plain", Data: make([]byte, 2048)})
	if !miaw.IsStatus(err, 413) || miaw.IsRetryable(err) {
		t.Fatalf("oversize: %v, want permanent 413", err)
	}
	_, err = env.client.SendFile(ctx, user, conv, miaw.File{MessageID: uuid.NewString(), Name: "a.zip", MimeType: "application/zip", Data: []byte("PK\x03\x04")})
	if !miaw.IsStatus(err, 415) || miaw.IsRetryable(err) {
		t.Fatalf("blocked type: %v, want permanent 415", err)
	}
}

func TestEmulatorRejectsBadIdentity(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*miaw.Config){
		"wrong issuer":     func(c *miaw.Config) { c.Issuer = "https://someone-else.test" },
		"unknown kid":      func(c *miaw.Config) { c.KeyID = "other-kid" },
		"wrong deployment": func(c *miaw.Config) { c.DeploymentName = "Other_Deployment" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			env := startEmulator(t, emulator.Config{}, mutate)
			_, err := env.client.Token(context.Background(), "u")
			var e *miaw.Error
			if err == nil || miaw.IsRetryable(err) || (!errors.As(err, &e) && !errors.Is(err, miaw.ErrUnverifiedSubject)) {
				t.Fatalf("got %v, want a permanent auth error", err)
			}
		})
	}
}

// EntriesSince pages through the entries list oldest first, past the 50
// entries of one page, and starts at the given time.
func TestEmulatorEntriesSincePages(t *testing.T) {
	env := startEmulator(t, emulator.Config{}, nil)
	conv := openActive(t, env, "u-pages")
	for i := range 120 {
		if i%10 == 0 {
			// At most 10 per millisecond, as Salesforce transcribes far
			// slower: paging by timestamp needs under 50 per millisecond.
			for ms := time.Now().UnixMilli(); time.Now().UnixMilli() == ms; {
				runtime.Gosched()
			}
		}
		if _, err := env.emu.AgentSend(conv, fmt.Sprintf("page message %03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := env.client.EntriesSince(context.Background(), "u-pages", conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	ids := map[string]bool{}
	for i, e := range all {
		if ids[e.Identifier] {
			t.Fatalf("entry %s listed twice", e.Identifier)
		}
		ids[e.Identifier] = true
		if i > 0 && e.TranscriptedTimestamp < all[i-1].TranscriptedTimestamp {
			t.Fatalf("entry %d is older than entry %d", i, i-1)
		}
		if p, ok := e.Payload.(*miaw.MessagePayload); ok && e.Sender.Role == miaw.RoleAgent {
			msgs = append(msgs, p.Text())
		}
	}
	if len(msgs) != 120 || msgs[0] != "page message 000" || msgs[119] != "page message 119" {
		t.Fatalf("%d agent messages listed (first %q), want all 120 in order", len(msgs), msgs[0])
	}
	since := all[len(all)-10].TranscriptedTimestamp
	tail, err := env.client.EntriesSince(context.Background(), "u-pages", conv, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) < 10 || tail[0].TranscriptedTimestamp < since || tail[len(tail)-1].Identifier != all[len(all)-1].Identifier {
		t.Fatalf("since %d: %d entries, want the last 10 or more from that time", since, len(tail))
	}
	if ev := miaw.EntryEvent(conv, tail[len(tail)-1]); ev.Type != miaw.EventMessage || ev.ID != "" || ev.ConversationID != conv {
		t.Fatalf("EntryEvent = %+v", ev)
	}
}
