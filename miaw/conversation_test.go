package miaw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// checkAuthed asserts the common headers of an authenticated REST call.
func checkAuthed(t *testing.T, r *recordedRequest) {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
		t.Errorf("%s %s: Authorization = %q", r.Method, r.Path, r.Header.Get("Authorization"))
	}
	if r.Header.Get("X-Org-Id") != testOrgID15 {
		t.Errorf("%s %s: X-Org-Id = %q", r.Method, r.Path, r.Header.Get("X-Org-Id"))
	}
}

func onlyRequest(t *testing.T, f *fakeSF, method, path string) *recordedRequest {
	t.Helper()
	reqs := f.requests(method, path)
	if len(reqs) != 1 {
		t.Fatalf("%s %s: %d requests, want 1", method, path, len(reqs))
	}
	checkAuthed(t, reqs[0])
	return reqs[0]
}

func TestCreateConversation(t *testing.T) {
	f := newFakeSF(t)
	f.handle("POST /iamessage/api/v2/conversation", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, map[string]string{"conversationId": testConvID})
	})
	c, _ := newTestClient(t, testConfig(f))
	err := c.CreateConversation(context.Background(), testUser, CreateConversationRequest{
		ConversationID: testConvID, RoutingAttributes: map[string]string{"_firstName": "Ada", "OrderNumber": "12345"}, Language: "en_US",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := onlyRequest(t, f, "POST", "/iamessage/api/v2/conversation")
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	want := map[string]any{"conversationId": testConvID, "esDeveloperName": testDeployment, "language": "en_US",
		"routingAttributes": map[string]any{"_firstName": "Ada", "OrderNumber": "12345"}}
	if got := r.jsonBody(t); !reflect.DeepEqual(got, want) {
		t.Errorf("body = %v\nwant %v", got, want)
	}
	// An empty 200 body is fine too.
	f.handle("POST /iamessage/api/v2/conversation", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	if err := c.CreateConversation(context.Background(), testUser, CreateConversationRequest{ConversationID: uuid.NewString()}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateConversationRejectsBadIDs(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	for _, id := range []string{"", "not-a-uuid", strings.ToUpper(testConvID), "3c3a1b0e-6f7d-1b1e-9c55-2f7d5e0a9b11" /* v1 */, "{" + testConvID + "}"} {
		err := c.CreateConversation(context.Background(), testUser, CreateConversationRequest{ConversationID: id})
		if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "lowercase UUID v4") {
			t.Errorf("id %q: %v", id, err)
		}
	}
	err := c.CreateConversation(context.Background(), testUser, CreateConversationRequest{ConversationID: testConvID, RoutingAttributes: map[string]string{"": "x"}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("empty attribute name: %v", err)
	}
	if n := f.tokenCalls.Load(); n != 0 || len(f.requests("POST", "/iamessage/api/v2/conversation")) != 0 {
		t.Fatal("invalid requests reached the server")
	}
}

func TestSendMessage(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/message")
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": "entry-1", "clientTimestamp": 1700000000000}}})
	})
	c, _ := newTestClient(t, testConfig(f))
	res, err := c.SendMessage(context.Background(), testUser, testConvID, TextMessage{ID: testMsgID, Text: "Hello", InReplyToMessageID: "entry-0",
		RoutingAttributes: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if *res != (SendResult{EntryID: "entry-1", ClientTimestamp: 1700000000000}) {
		t.Fatalf("result %+v", res)
	}
	body := onlyRequest(t, f, "POST", path).jsonBody(t)
	want := map[string]any{
		"esDeveloperName": testDeployment,
		"message": map[string]any{"id": testMsgID, "messageType": "StaticContentMessage", "inReplyToMessageId": "entry-0",
			"staticContent": map[string]any{"formatType": "Text", "text": "Hello"}},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v\nwant %v", body, want)
	}
}

func TestSendMessageResendsAfter417(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/message")
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		if b["isNewMessagingSession"] != true {
			writeJSON(w, http.StatusExpectationFailed, map[string]any{"message": "No active messaging session", "status": 417})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": "entry-2", "clientTimestamp": 5}}})
	})
	c, _ := newTestClient(t, testConfig(f))
	msg := TextMessage{ID: testMsgID, Text: "Are you there?", RoutingAttributes: map[string]string{"_firstName": "Ada"}}
	res, err := c.SendMessage(context.Background(), testUser, testConvID, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NewSession || res.EntryID != "entry-2" {
		t.Fatalf("result %+v", res)
	}
	reqs := f.requests("POST", path)
	if len(reqs) != 2 {
		t.Fatalf("%d sends, want 2", len(reqs))
	}
	first, second := reqs[0].jsonBody(t), reqs[1].jsonBody(t)
	if _, ok := first["isNewMessagingSession"]; ok {
		t.Error("first send must not set isNewMessagingSession")
	}
	if second["isNewMessagingSession"] != true || second["language"] != DefaultLanguage ||
		!reflect.DeepEqual(second["routingAttributes"], map[string]any{"_firstName": "Ada"}) {
		t.Errorf("re-send body = %v", second)
	}
	if !reflect.DeepEqual(first["message"], second["message"]) {
		t.Error("the re-send must carry the same message (same id)")
	}

	// A second 417 is returned as a permanent error.
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusExpectationFailed, map[string]any{"message": "nope"})
	})
	_, err = c.SendMessage(context.Background(), testUser, testConvID, msg)
	if !IsStatus(err, 417) || IsRetryable(err) {
		t.Fatalf("got %v, want permanent 417", err)
	}
}

// NoNewSession turns the 417 into the caller's error: one request, no
// isNewMessagingSession re-send, for messages and files alike.
func TestNoNewSessionReturns417(t *testing.T) {
	f := newFakeSF(t)
	msgPath, filePath := conversationPath(testConvID, "/message"), conversationPath(testConvID, "/file")
	ended := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusExpectationFailed, map[string]any{"message": "No active messaging session", "status": 417})
	}
	f.handle("POST "+msgPath, ended)
	f.handle("POST "+filePath, ended)
	c, _ := newTestClient(t, testConfig(f))
	_, err := c.SendMessage(context.Background(), testUser, testConvID, TextMessage{ID: testMsgID, Text: "still there?", NoNewSession: true})
	if !IsStatus(err, http.StatusExpectationFailed) || IsRetryable(err) {
		t.Fatalf("message: got %v, want a permanent 417", err)
	}
	_, err = c.SendFile(context.Background(), testUser, testConvID, File{MessageID: testMsgID, Name: "a.txt", MimeType: "text/plain", Data: []byte("hi"), NoNewSession: true})
	if !IsStatus(err, http.StatusExpectationFailed) {
		t.Fatalf("file: got %v, want 417", err)
	}
	if n, m := len(f.requests("POST", msgPath)), len(f.requests("POST", filePath)); n != 1 || m != 1 {
		t.Fatalf("%d message and %d file requests, want 1 each (no re-send)", n, m)
	}
}

func TestSendMessageRejectsBadInput(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	cases := map[string]TextMessage{
		"no id":      {Text: "x"},
		"bad id":     {ID: "msg-1", Text: "x"},
		"empty text": {ID: testMsgID, Text: "  "},
	}
	for name, m := range cases {
		if _, err := c.SendMessage(context.Background(), testUser, testConvID, m); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.SendMessage(context.Background(), testUser, "x", TextMessage{ID: testMsgID, Text: "x"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("bad conversation id: %v", err)
	}
}

type multipartPart struct {
	name, filename, contentType string
	data                        []byte
}

func readMultipart(t *testing.T, r *recordedRequest) map[string]multipartPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	parts := map[string]multipartPart{}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		parts[p.FormName()] = multipartPart{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), data}
	}
	return parts
}

func TestSendFile(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/file")
	sends := 0
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		sends++
		if sends == 1 {
			writeJSON(w, http.StatusExpectationFailed, map[string]any{"message": "No active session"})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": "entry-f", "clientTimestamp": 9}}})
	})
	c, _ := newTestClient(t, testConfig(f))
	data := []byte("%PDF-1.4 fake pdf")
	fileID := uuid.NewString()
	res, err := c.SendFile(context.Background(), testUser, testConvID, File{MessageID: testMsgID, FileID: fileID, Name: "../../etc/invoice.pdf",
		MimeType: "application/pdf", Caption: "my invoice", Data: data, Language: "fr_FR"})
	if err != nil {
		t.Fatal(err)
	}
	if res.EntryID != "entry-f" || !res.NewSession {
		t.Fatalf("result %+v", res)
	}
	reqs := f.requests("POST", path)
	if len(reqs) != 2 {
		t.Fatalf("%d uploads", len(reqs))
	}
	for i, r := range reqs {
		checkAuthed(t, r)
		parts := readMultipart(t, r)
		entry, file := parts["messageEntry"], parts["fileData"]
		if entry.contentType != "application/json" || file.filename != "invoice.pdf" || file.contentType != "application/pdf" || !bytes.Equal(file.data, data) {
			t.Fatalf("upload %d parts: entry %q, file %q %q %d bytes", i, entry.contentType, file.filename, file.contentType, len(file.data))
		}
		var m map[string]any
		if err := json.Unmarshal(entry.data, &m); err != nil {
			t.Fatal(err)
		}
		newSession := i == 1
		msg, _ := m["message"].(map[string]any)
		if m["esDeveloperName"] != testDeployment || m["isNewMessagingSession"] != newSession || m["language"] != "fr_FR" ||
			msg["id"] != testMsgID || msg["fileId"] != fileID || msg["text"] != "my invoice" ||
			!reflect.DeepEqual(m["routingAttributes"], map[string]any{}) {
			t.Errorf("upload %d messageEntry = %v", i, m)
		}
	}
}

func TestSendFileChecksBeforeUpload(t *testing.T) {
	f := newFakeSF(t)
	cfg := testConfig(f)
	cfg.MaxAttachmentBytes = 1024
	c, _ := newTestClient(t, cfg)
	cases := []struct {
		name string
		file File
		want error
	}{
		{"too large", File{MessageID: testMsgID, Name: "a.txt", MimeType: "text/plain", Data: make([]byte, 1025)}, ErrAttachmentTooLarge},
		{"empty", File{MessageID: testMsgID, Name: "a.txt", MimeType: "text/plain"}, ErrInvalidRequest},
		{"exe type", File{MessageID: testMsgID, Name: "setup", MimeType: "application/x-msdownload", Data: []byte("MZ")}, ErrInvalidRequest},
		{"exe name", File{MessageID: testMsgID, Name: "setup.EXE", MimeType: "application/octet-stream", Data: []byte("MZ")}, ErrInvalidRequest},
		{"html sniffed", File{MessageID: testMsgID, Name: "page", Data: []byte("<html><script>alert(1)</script></html>")}, ErrInvalidRequest},
		{"bad mime", File{MessageID: testMsgID, Name: "a", MimeType: "not a type", Data: []byte("x")}, ErrInvalidRequest},
		{"no name", File{MessageID: testMsgID, Name: "", MimeType: "text/plain", Data: []byte("x")}, ErrInvalidRequest},
		{"bad message id", File{MessageID: "m1", Name: "a.txt", MimeType: "text/plain", Data: []byte("x")}, ErrInvalidRequest},
	}
	for _, tc := range cases {
		if _, err := c.SendFile(context.Background(), testUser, testConvID, tc.file); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if f.tokenCalls.Load() != 0 {
		t.Fatal("a rejected file reached the server")
	}
}

func TestSendTyping(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/entry")
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	c, _ := newTestClient(t, testConfig(f))
	for _, started := range []bool{true, false} {
		if err := c.SendTyping(context.Background(), testUser, testConvID, started); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests("POST", path)
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, want := range []string{"TypingStartedIndicator", "TypingStoppedIndicator"} {
		checkAuthed(t, reqs[i])
		b := reqs[i].jsonBody(t)
		if b["entryType"] != want || uuid.Validate(b["id"].(string)) != nil || len(b) != 2 {
			t.Errorf("typing body %d = %v", i, b)
		}
	}
}

func TestAcknowledge(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/acknowledge-entries")
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	c, _ := newTestClient(t, testConfig(f))
	if err := c.Acknowledge(context.Background(), testUser, testConvID, Ack{AckDelivery, "e1"}, Ack{AckRead, "e1"}); err != nil {
		t.Fatal(err)
	}
	b := onlyRequest(t, f, "POST", path).jsonBody(t)
	acks, _ := b["acks"].([]any)
	if len(acks) != 2 {
		t.Fatalf("acks = %v", b)
	}
	ids := map[string]bool{}
	for i, want := range []string{"Delivery", "Read"} {
		a := acks[i].(map[string]any)
		if a["entryType"] != want || a["conversationEntryId"] != "e1" || uuid.Validate(a["id"].(string)) != nil {
			t.Errorf("ack %d = %v", i, a)
		}
		ids[a["id"].(string)] = true
	}
	if len(ids) != 2 {
		t.Error("each ack needs its own id")
	}
	if err := c.Acknowledge(context.Background(), testUser, testConvID); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("no acks: %v", err)
	}
	if err := c.Acknowledge(context.Background(), testUser, testConvID, Ack{"Seen", "e1"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("bad type: %v", err)
	}
}

func TestListEntries(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/entries")
	payload := `{"entryType":"Message","id":"m1","abstractMessage":{"messageType":"StaticContentMessage","id":"m1","staticContent":{"formatType":"Text","text":"hi"}}}`
	f.handle("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// One entry with entryPayload as an object, one as a JSON string.
		_, _ = io.WriteString(w, `{"conversationEntries":[
		 {"entryType":"Message","identifier":"e2","entryPayload":`+payload+`,"sender":{"role":"Agent","subject":"005x"},"senderDisplayName":"Jane","transcriptedTimestamp":2},
		 {"entryType":"Message","identifier":"e1","entryPayload":`+strconvQuote(payload)+`,"sender":{"role":"EndUser"},"transcriptedTimestamp":1}]}`)
	})
	c, _ := newTestClient(t, testConfig(f))
	entries, err := c.ListEntries(context.Background(), testUser, testConvID, EntriesQuery{Limit: 50, StartTimestamp: 1, EndTimestamp: 99,
		Direction: "FromEnd", EntryTypes: []string{"Message", "ParticipantChanged"}})
	if err != nil {
		t.Fatal(err)
	}
	q := onlyRequest(t, f, "GET", path).Query
	for k, want := range map[string]string{"limit": "50", "startTimestamp": "1", "endTimestamp": "99", "direction": "FromEnd", "entryTypeFilter": "Message,ParticipantChanged"} {
		if q.Get(k) != want {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries", len(entries))
	}
	for _, e := range entries {
		m, ok := e.Payload.(*MessagePayload)
		if !ok || m.Text() != "hi" {
			t.Errorf("entry %s payload %#v", e.Identifier, e.Payload)
		}
	}
	if entries[0].SenderDisplayName != "Jane" || entries[0].Sender.Role != RoleAgent {
		t.Errorf("entry 0 = %+v", entries[0])
	}
	if _, err := c.ListEntries(context.Background(), testUser, testConvID, EntriesQuery{Limit: 51}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("limit 51: %v", err)
	}
	if _, err := c.ListEntries(context.Background(), testUser, testConvID, EntriesQuery{Direction: "Up"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("bad direction: %v", err)
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestListConversations(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET /iamessage/api/v2/conversation/list", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"openConversationsFound": 1, "closedConversationsFound": 1, "conversations": []any{
			map[string]any{"conversationId": testConvID, "startTimestamp": 10, "endTimestamp": 0},
			map[string]any{"conversationId": "c2", "startTimestamp": 5, "endTimestamp": 8},
		}})
	})
	c, _ := newTestClient(t, testConfig(f))
	list, err := c.ListConversations(context.Background(), testUser, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	q := onlyRequest(t, f, "GET", "/iamessage/api/v2/conversation/list").Query
	if q.Get("inclClosedConvs") != "true" || q.Get("limit") != "20" {
		t.Errorf("query %v", q)
	}
	want := ConversationList{OpenConversationsFound: 1, ClosedConversationsFound: 1, Conversations: []ConversationSummary{
		{testConvID, 10, 0}, {"c2", 5, 8}}}
	if !reflect.DeepEqual(*list, want) {
		t.Errorf("list = %+v", list)
	}
	if _, err := c.ListConversations(context.Background(), testUser, false, 51); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("limit 51: %v", err)
	}
}

func TestRoutingStatusEndSessionClose(t *testing.T) {
	f := newFakeSF(t)
	convPath := conversationPath(testConvID, "")
	f.handle("GET "+convPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"conversationId": testConvID, "routingStatus": "NEEDS_ROUTING"})
	})
	f.handle("DELETE "+convPath+"/session", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f.handle("DELETE "+convPath, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	if s, err := c.RoutingStatus(ctx, testUser, testConvID); err != nil || s != RoutingNeedsRouting {
		t.Fatalf("RoutingStatus = %q, %v", s, err)
	}
	onlyRequest(t, f, "GET", convPath)
	if err := c.EndSession(ctx, testUser, testConvID); err != nil {
		t.Fatal(err)
	}
	if r := onlyRequest(t, f, "DELETE", convPath+"/session"); r.Query.Get("esDeveloperName") != testDeployment || len(r.Body) != 0 {
		t.Errorf("end session query %v body %q", r.Query, r.Body)
	}
	if err := c.CloseConversation(ctx, testUser, testConvID); err != nil {
		t.Fatal(err)
	}
	if r := onlyRequest(t, f, "DELETE", convPath); r.Query.Get("esDeveloperName") != testDeployment || len(r.Body) != 0 {
		t.Errorf("close query %v body %q", r.Query, r.Body)
	}
	// Unknown conversation → 404, IsNotFound.
	other := uuid.NewString()
	if err := c.CloseConversation(ctx, testUser, other); !IsNotFound(err) {
		t.Fatalf("close unknown: %v", err)
	}
}
