package miaw

import (
	"context"
	"net/http"
	"regexp"
	"testing"
)

// The exact JSON bodies the client puts on the wire, byte for byte (key order
// included), for every request that has one. The emulator and Salesforce
// decode these; docs/miaw-api.md §1 documents them. A change here is a wire
// change: check it against the fact sheet before updating the want strings.

const wireFileID = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"

// freshUUID matches UUIDs the client makes itself (typing and ack ids).
var freshUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalizeWire replaces the client-made UUIDs in body by "<uuid>" and the
// signed identity JWT by "<jwt>"; the caller's own ids stay as they are.
func normalizeWire(body []byte) string {
	s := freshUUID.ReplaceAllStringFunc(string(body), func(id string) string {
		switch id {
		case testConvID, testMsgID, wireFileID:
			return id
		}
		return "<uuid>"
	})
	return regexp.MustCompile(`"customerIdentityToken":"[^"]+"`).ReplaceAllString(s, `"customerIdentityToken":"<jwt>"`)
}

func checkWire(t *testing.T, name string, body []byte, want string) {
	t.Helper()
	if got := normalizeWire(body); got != want {
		t.Errorf("%s: wire body\n got %s\nwant %s", name, got, want)
	}
}

func TestWireAccessTokenRequests(t *testing.T) {
	f := newFakeSF(t)
	verified, _ := newTestClient(t, testConfig(f))
	if _, err := verified.Token(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	checkWire(t, "authenticated access token", f.requests(http.MethodPost, pathAuthenticatedToken)[0].Body,
		`{"orgId":"00D5g000004ABCD","esDeveloperName":"Bridge_Deployment","capabilitiesVersion":"1","platform":"Web",`+
			`"authorizationType":"JWT","customerIdentityToken":"<jwt>","context":{"appName":"liveagent-bridge","clientVersion":"1.0.0"}}`)

	cfg := testConfig(f)
	cfg.AuthMode = AuthGuest
	guest, _ := newTestClient(t, cfg)
	if _, err := guest.Token(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	checkWire(t, "unauthenticated access token", f.requests(http.MethodPost, pathUnauthenticatedToken)[0].Body,
		`{"orgId":"00D5g000004ABCD","esDeveloperName":"Bridge_Deployment","capabilitiesVersion":"1","platform":"Web",`+
			`"context":{"appName":"liveagent-bridge","clientVersion":"1.0.0"}}`)
}

func TestWireCreateConversation(t *testing.T) {
	f := newFakeSF(t)
	f.handle("POST "+epConversation, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	if err := c.CreateConversation(ctx, testUser, CreateConversationRequest{ConversationID: testConvID,
		RoutingAttributes: map[string]string{"UserId": "u-42", "Topic": "Payroll"}, Language: "de_DE"}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateConversation(ctx, testUser, CreateConversationRequest{ConversationID: testConvID}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests(http.MethodPost, epConversation)
	checkWire(t, "create conversation", reqs[0].Body,
		`{"conversationId":"3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11","esDeveloperName":"Bridge_Deployment",`+
			`"language":"de_DE","routingAttributes":{"Topic":"Payroll","UserId":"u-42"}}`)
	checkWire(t, "create conversation, no routing attributes or language", reqs[1].Body,
		`{"conversationId":"3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11","esDeveloperName":"Bridge_Deployment"}`)
}

// expectFailedOnce answers the first request on a route with 417 (no active
// messaging session) and every later one with 202.
func expectFailedOnce(f *fakeSF, route string) {
	n := 0
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		if n++; n == 1 {
			writeJSON(w, http.StatusExpectationFailed, map[string]any{"message": "No active messaging session", "status": 417})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": "entry-1", "clientTimestamp": 1}}})
	})
}

func TestWireSendMessage(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/message")
	expectFailedOnce(f, "POST "+path)
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	// 417, then the re-send with a new messaging session.
	if _, err := c.SendMessage(ctx, testUser, testConvID, TextMessage{ID: testMsgID, Text: "Hello <b>&</b>"}); err != nil {
		t.Fatal(err)
	}
	// Accepted at once: a reply with the routing attributes (not sent) and a language (sent).
	if _, err := c.SendMessage(ctx, testUser, testConvID, TextMessage{ID: testMsgID, Text: "again", InReplyToMessageID: "entry-0",
		RoutingAttributes: map[string]string{"Topic": "Payroll"}, Language: "fr_FR"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests(http.MethodPost, path)
	if len(reqs) != 3 {
		t.Fatalf("%d message requests, want 3", len(reqs))
	}
	checkWire(t, "send message", reqs[0].Body,
		`{"esDeveloperName":"Bridge_Deployment","message":{"id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b",`+
			`"messageType":"StaticContentMessage","staticContent":{"formatType":"Text","text":"Hello \u003cb\u003e\u0026\u003c/b\u003e"}}}`)
	checkWire(t, "send message, new messaging session", reqs[1].Body,
		`{"esDeveloperName":"Bridge_Deployment","isNewMessagingSession":true,"language":"en_US",`+
			`"message":{"id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b","messageType":"StaticContentMessage",`+
			`"staticContent":{"formatType":"Text","text":"Hello \u003cb\u003e\u0026\u003c/b\u003e"}},"routingAttributes":{}}`)
	checkWire(t, "send message, reply with language", reqs[2].Body,
		`{"esDeveloperName":"Bridge_Deployment","language":"fr_FR","message":{"id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b",`+
			`"inReplyToMessageId":"entry-0","messageType":"StaticContentMessage","staticContent":{"formatType":"Text","text":"again"}}}`)
}

func TestWireSendFileMessageEntry(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/file")
	expectFailedOnce(f, "POST "+path)
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	file := File{MessageID: testMsgID, FileID: wireFileID, Name: "a.txt", MimeType: "text/plain", Data: []byte("hi"),
		RoutingAttributes: map[string]string{"Topic": "Payroll"}}
	// 417, then the re-send with a new messaging session.
	if _, err := c.SendFile(ctx, testUser, testConvID, file); err != nil {
		t.Fatal(err)
	}
	file.Caption, file.Language = "my notes", "fr_FR"
	if _, err := c.SendFile(ctx, testUser, testConvID, file); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests(http.MethodPost, path)
	if len(reqs) != 3 {
		t.Fatalf("%d file requests, want 3", len(reqs))
	}
	entry := func(i int) []byte { return readMultipart(t, reqs[i])["messageEntry"].data }
	checkWire(t, "file messageEntry", entry(0),
		`{"esDeveloperName":"Bridge_Deployment","isNewMessagingSession":false,`+
			`"message":{"fileId":"0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8","id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},"routingAttributes":{}}`)
	checkWire(t, "file messageEntry, new messaging session", entry(1),
		`{"esDeveloperName":"Bridge_Deployment","isNewMessagingSession":true,"language":"en_US",`+
			`"message":{"fileId":"0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8","id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},`+
			`"routingAttributes":{"Topic":"Payroll"}}`)
	checkWire(t, "file messageEntry, caption and language", entry(2),
		`{"esDeveloperName":"Bridge_Deployment","isNewMessagingSession":false,"language":"fr_FR",`+
			`"message":{"fileId":"0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8","id":"5a9a0e42-1c2d-4e5f-8a9b-0c1d2e3f4a5b","text":"my notes"},`+
			`"routingAttributes":{}}`)
}

func TestWireTypingAndAcknowledge(t *testing.T) {
	f := newFakeSF(t)
	entryPath, ackPath := conversationPath(testConvID, "/entry"), conversationPath(testConvID, "/acknowledge-entries")
	accepted := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }
	f.handle("POST "+entryPath, accepted)
	f.handle("POST "+ackPath, accepted)
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	if err := c.SendTyping(ctx, testUser, testConvID, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SendTyping(ctx, testUser, testConvID, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Acknowledge(ctx, testUser, testConvID, Ack{AckDelivery, "e1"}, Ack{AckRead, "e2"}); err != nil {
		t.Fatal(err)
	}
	typing := f.requests(http.MethodPost, entryPath)
	checkWire(t, "typing started", typing[0].Body, `{"entryType":"TypingStartedIndicator","id":"<uuid>"}`)
	checkWire(t, "typing stopped", typing[1].Body, `{"entryType":"TypingStoppedIndicator","id":"<uuid>"}`)
	checkWire(t, "acknowledge entries", f.requests(http.MethodPost, ackPath)[0].Body,
		`{"acks":[{"conversationEntryId":"e1","entryType":"Delivery","id":"<uuid>"},`+
			`{"conversationEntryId":"e2","entryType":"Read","id":"<uuid>"}]}`)
}
