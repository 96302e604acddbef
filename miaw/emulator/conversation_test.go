package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/liveagent-bridge/liveagent/miaw"
)

func TestCreateConversation(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PrechatFields = map[string]int{"OrderNumber": 5} })
	tok, subject := e.guestToken()
	st := e.openStream(tok, "", "")
	id := uuid.NewString()
	body := map[string]any{"conversationId": id, "esDeveloperName": testDeploy, "routingAttributes": map[string]string{"OrderNumber": "12345", "Topic": "billing"}}
	r := e.api("POST", "/conversation", tok, body)
	if r.status != 201 || r.json(t)["conversationId"] != id {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	conv, entry, p := evs[0].envelope(t)
	if conv != id || p["routingType"] != "Initial" || p["failureType"] != "None" || p["estimatedWaitTime"] == nil {
		t.Fatalf("routing result: %s", evs[0].Data)
	}
	if entry["entryType"] != miaw.EntryRoutingResult {
		t.Fatalf("entryType %v", entry["entryType"])
	}
	if _, _, p := evs[1].envelope(t); p["sessionStatus"] != miaw.SessionWaiting {
		t.Fatalf("session status: %v", p)
	}
	if _, _, p := evs[2].envelope(t); p["position"].(float64) != 1 {
		t.Fatalf("queue position: %v", p)
	}
	if r := e.api("GET", "/conversation/"+id, tok, nil); r.status != 200 || r.json(t)["routingStatus"] != RoutingInitial {
		t.Fatalf("routing status: %d %s", r.status, r.body)
	}
	// A retried create is answered 201 without new events.
	if r := e.api("POST", "/conversation", tok, body); r.status != 201 {
		t.Fatalf("retry: %d", r.status)
	}
	infos := e.s.Conversations()
	if len(infos) != 1 || infos[0].UserSubject != subject || infos[0].State != StateWaiting || infos[0].RoutingAttributes["Topic"] != "billing" {
		t.Fatalf("agent view: %+v", infos)
	}

	bad := []struct {
		name   string
		body   map[string]any
		status int
		msg    string
	}{
		{"uppercase uuid", map[string]any{"conversationId": strings.ToUpper(uuid.NewString()), "esDeveloperName": testDeploy}, 400, msgBadConversationID},
		{"uuid v1", map[string]any{"conversationId": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "esDeveloperName": testDeploy}, 400, msgBadConversationID},
		{"not a uuid", map[string]any{"conversationId": "conv-1", "esDeveloperName": testDeploy}, 400, msgBadConversationID},
		{"missing id", map[string]any{"esDeveloperName": testDeploy}, 400, msgBadConversationID},
		{"unknown deployment", map[string]any{"conversationId": uuid.NewString(), "esDeveloperName": "Other"}, 400, "No Embedded Service deployment"},
		{"non-string attribute", map[string]any{"conversationId": uuid.NewString(), "esDeveloperName": testDeploy, "routingAttributes": map[string]any{"OrderNumber": 12}}, 400, "must be a string"},
		{"too long attribute", map[string]any{"conversationId": uuid.NewString(), "esDeveloperName": testDeploy, "routingAttributes": map[string]any{"OrderNumber": "123456"}}, 400, "maximum length is 5"},
		{"script attribute", map[string]any{"conversationId": uuid.NewString(), "esDeveloperName": testDeploy, "routingAttributes": map[string]any{"x": "<script>alert(1)</script>"}}, 400, "disallowed"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.api("POST", "/conversation", tok, tc.body)
			if r.status != tc.status || !strings.Contains(r.errMessage(t), tc.msg) {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
	// Another user cannot see or use the conversation.
	other, _ := e.guestToken()
	for _, c := range []struct{ method, path string }{{"GET", "/conversation/" + id}, {"GET", "/conversation/" + id + "/entries"}, {"DELETE", "/conversation/" + id}} {
		if r := e.api(c.method, c.path, other, nil); r.status != 404 {
			t.Errorf("%s %s by another user: %d", c.method, c.path, r.status)
		}
	}
	if r := e.api("POST", "/conversation/"+id+"/message", other, textMessage(uuid.NewString(), "hi")); r.status != 404 {
		t.Errorf("message by another user: %d", r.status)
	}
	if r := e.api("POST", "/conversation", other, body); r.status != 400 {
		t.Errorf("create with another user's id: %d", r.status)
	}
	st.quiet(100 * 1e6)
}

func TestMessageIdempotencyAnd417(t *testing.T) {
	e := newEnv(t, nil)
	tok, subject := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, map[string]string{"Topic": "t"})
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)

	msgID := uuid.NewString()
	r := e.api("POST", "/conversation/"+conv+"/message", tok, textMessage(msgID, "hello"))
	if r.status != 202 {
		t.Fatalf("message: %d %s", r.status, r.body)
	}
	var body struct {
		ConversationEntries []struct {
			ID              string `json:"id"`
			ClientTimestamp int64  `json:"clientTimestamp"`
		} `json:"conversationEntries"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.ConversationEntries) != 1 || body.ConversationEntries[0].ID == "" || body.ConversationEntries[0].ClientTimestamp == 0 {
		t.Fatalf("202 body %s", r.body)
	}
	ev := st.expect(miaw.EventMessage)[0]
	_, entry, p := ev.envelope(t)
	sender := entry["sender"].(map[string]any)
	if sender["role"] != miaw.RoleEndUser || sender["subject"] != subject || entry["identifier"] != body.ConversationEntries[0].ID {
		t.Fatalf("echo: %s", ev.Data)
	}
	am := p["abstractMessage"].(map[string]any)
	if am["id"] != msgID || am["staticContent"].(map[string]any)["text"] != "hello" {
		t.Fatalf("echo payload: %v", p)
	}
	// Same message id again: same answer, no second event.
	r2 := e.api("POST", "/conversation/"+conv+"/message", tok, textMessage(msgID, "hello"))
	if r2.status != 202 || !bytes.Equal(r2.body, r.body) {
		t.Fatalf("retry: %d %s vs %s", r2.status, r2.body, r.body)
	}
	if n := len(e.s.Transcript(conv)); n != 1 {
		t.Fatalf("transcript has %d entries after a retried message", n)
	}
	// Bad messages.
	for name, b := range map[string]map[string]any{
		"no id":   textMessage("", "x"),
		"no text": textMessage(uuid.NewString(), "  "),
		"format":  {"message": map[string]any{"id": "x", "staticContent": map[string]any{"formatType": "Bogus", "text": "x"}}},
	} {
		if r := e.api("POST", "/conversation/"+conv+"/message", tok, b); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	// End the session: 204, then 417 until isNewMessagingSession.
	if r := e.api("DELETE", "/conversation/"+conv+"/session?esDeveloperName="+testDeploy, tok, nil); r.status != 204 {
		t.Fatalf("end session: %d %s", r.status, r.body)
	}
	evs := st.expect(miaw.EventSessionStatusChanged)
	if _, _, p := evs[0].envelope(t); p["sessionStatus"] != miaw.SessionEnded || p["sessionEndedByRole"] != miaw.RoleEndUser {
		t.Fatalf("ended: %v", p)
	}
	if r := e.api("GET", "/conversation/"+conv, tok, nil); r.json(t)["routingStatus"] != RoutingNeedsRouting {
		t.Fatalf("routing status after end: %s", r.body)
	}
	second := textMessage(uuid.NewString(), "are you there?")
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, second); r.status != 417 || !strings.Contains(r.errMessage(t), "isNewMessagingSession") {
		t.Fatalf("after end: %d %s", r.status, r.body)
	}
	second["isNewMessagingSession"] = true
	second["routingAttributes"] = map[string]string{"Topic": "again"}
	second["language"] = "en"
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, second); r.status != 202 {
		t.Fatalf("new session: %d %s", r.status, r.body)
	}
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition, miaw.EventMessage)
	info, _ := e.s.Conversation(conv)
	if info.State != StateWaiting || info.RoutingAttributes["Topic"] != "again" {
		t.Fatalf("after new session: %+v", info)
	}
}

func multipartFile(t *testing.T, entry map[string]any, name, mimeType string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if entry != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="messageEntry"`)
		h.Set("Content-Type", "application/json")
		pw, _ := mw.CreatePart(h)
		_ = json.NewEncoder(pw).Encode(entry)
	}
	if data != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fileData"; filename=%q`, name))
		h.Set("Content-Type", mimeType)
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(data)
	}
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func (e *env) sendFile(tok, conv string, entry map[string]any, name, mimeType string, data []byte) resp {
	e.t.Helper()
	body, ct := multipartFile(e.t, entry, name, mimeType, data)
	req, _ := http.NewRequest("POST", e.url+"/iamessage/api/v2/conversation/"+conv+"/file", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Org-Id", testOrg)
	return e.do(req)
}

func fileEntry(msgID, fileID, caption string) map[string]any {
	return map[string]any{"esDeveloperName": testDeploy, "message": map[string]any{"id": msgID, "fileId": fileID, "text": caption, "inReplyToMessageId": nil},
		"isNewMessagingSession": false, "routingAttributes": map[string]string{}, "language": "en_US"}
}

func TestFileUpload(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileBytes = 1000 })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)

	data := []byte("%PDF-1.4 pretend invoice")
	msgID, fileID := uuid.NewString(), uuid.NewString()
	r := e.sendFile(tok, conv, fileEntry(msgID, fileID, "my invoice"), "invoice.pdf", "application/pdf", data)
	if r.status != 202 || !strings.Contains(string(r.body), "conversationEntries") {
		t.Fatalf("file: %d %s", r.status, r.body)
	}
	_, entry, p := st.expect(miaw.EventMessage)[0].envelope(t)
	if entry["sender"].(map[string]any)["role"] != miaw.RoleEndUser {
		t.Fatalf("echo sender %v", entry["sender"])
	}
	sc := p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)
	atts := sc["attachments"].([]any)
	if sc["formatType"] != miaw.FormatAttachments || sc["text"] != "my invoice" || len(atts) != 1 {
		t.Fatalf("echo content %v", sc)
	}
	att := atts[0].(map[string]any)
	if att["id"] != fileID || att["name"] != "invoice.pdf" || att["mimeType"] != "application/pdf" {
		t.Fatalf("attachment %v", att)
	}
	dl := e.do(mustReq(t, "GET", att["url"].(string)))
	if dl.status != 200 || !bytes.Equal(dl.body, data) || dl.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("download %d %q", dl.status, dl.body)
	}
	sum := sha256.Sum256(data)
	tr := e.s.Transcript(conv)
	if len(tr) != 1 || tr[0].Attachment == nil || tr[0].Attachment.SHA256 != hex.EncodeToString(sum[:]) || tr[0].Attachment.Size != len(data) || tr[0].Text != "my invoice" {
		t.Fatalf("transcript %+v", tr)
	}

	cases := []struct {
		name      string
		entry     map[string]any
		file, typ string
		data      []byte
		status    int
	}{
		{"too large", fileEntry(uuid.NewString(), uuid.NewString(), ""), "big.bin", "application/octet-stream", bytes.Repeat([]byte("x"), 1001), 413},
		{"blocked type", fileEntry(uuid.NewString(), uuid.NewString(), ""), "tool.bin", "application/x-msdownload", []byte("MZ"), 415},
		{"blocked extension", fileEntry(uuid.NewString(), uuid.NewString(), ""), "run.exe", "application/octet-stream", []byte("MZ"), 415},
		{"no entry part", nil, "a.txt", "text/plain", []byte("a"), 400},
		{"no file part", fileEntry(uuid.NewString(), uuid.NewString(), ""), "", "", nil, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendFile(tok, conv, tc.entry, tc.file, tc.typ, tc.data)
			if r.status != tc.status || r.errMessage(t) == "" {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
			}
		})
	}
	// A file sent after the session ended gets 417 too.
	e.api("DELETE", "/conversation/"+conv+"/session", tok, nil)
	if r := e.sendFile(tok, conv, fileEntry(uuid.NewString(), uuid.NewString(), ""), "a.txt", "text/plain", []byte("a")); r.status != 417 {
		t.Fatalf("file after session end: %d", r.status)
	}
	// Not multipart at all.
	if r := e.api("POST", "/conversation/"+conv+"/file", tok, map[string]string{"a": "b"}); r.status != 400 {
		t.Fatalf("json body to /file: %d", r.status)
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTypingAcksEntriesListAndClose(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)

	// Typing is echoed with role EndUser.
	if r := e.api("POST", "/conversation/"+conv+"/entry", tok, map[string]string{"entryType": "TypingStartedIndicator", "id": uuid.NewString()}); r.status != 202 {
		t.Fatalf("typing: %d %s", r.status, r.body)
	}
	_, entry, _ := st.expect(miaw.EventTypingStarted)[0].envelope(t)
	if entry["sender"].(map[string]any)["role"] != miaw.RoleEndUser {
		t.Fatalf("typing sender %v", entry["sender"])
	}
	if info, _ := e.s.Conversation(conv); !info.UserTyping {
		t.Fatal("agent side does not see the user typing")
	}
	e.api("POST", "/conversation/"+conv+"/entry", tok, map[string]string{"entryType": "TypingStoppedIndicator", "id": uuid.NewString()})
	st.expect(miaw.EventTypingStopped)
	if r := e.api("POST", "/conversation/"+conv+"/entry", tok, map[string]string{"entryType": "Message", "id": "x"}); r.status != 400 {
		t.Fatalf("bad entry type: %d", r.status)
	}

	// Agent accepts and messages; the user acknowledges.
	if err := e.s.Accept(conv, "Jane Agent"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
	agentEntry, err := e.s.AgentSend(conv, "Hi, Jane here")
	if err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventMessage)
	ack := map[string]any{"acks": []map[string]string{
		{"id": uuid.NewString(), "entryType": "Delivery", "conversationEntryId": agentEntry},
		{"id": uuid.NewString(), "entryType": "Read", "conversationEntryId": agentEntry},
	}}
	if r := e.api("POST", "/conversation/"+conv+"/acknowledge-entries", tok, ack); r.status != 202 {
		t.Fatalf("acks: %d %s", r.status, r.body)
	}
	tr := e.s.Transcript(conv)
	if !tr[len(tr)-1].Delivered || !tr[len(tr)-1].Read {
		t.Fatalf("agent message not acknowledged: %+v", tr[len(tr)-1])
	}
	if r := e.api("POST", "/conversation/"+conv+"/acknowledge-entries", tok, map[string]any{"acks": []map[string]string{{"entryType": "Seen", "conversationEntryId": "x"}}}); r.status != 400 {
		t.Fatalf("bad ack: %d", r.status)
	}

	// User message → delivery ack at once (agent present); agent reply → read ack first.
	e.sendText(tok, conv, "question")
	evs := st.expect(miaw.EventMessage, miaw.EventDeliveryAck)
	msgEntry := evs[0]
	_, _, me := msgEntry.envelope(t)
	_, ackEntry, ap := evs[1].envelope(t)
	if ap["acknowledgedConversationEntryIdentifier"] != me["id"] || ackEntry["relatedRecords"].([]any)[0] != me["id"] {
		t.Fatalf("delivery ack %v / %v for %v", ap, ackEntry["relatedRecords"], me["id"])
	}
	if _, err := e.s.AgentSend(conv, "answer"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventReadAck, miaw.EventMessage)

	// Entries: newest first, payload object, limit, direction, filter.
	r := e.api("GET", "/conversation/"+conv+"/entries?limit=3", tok, nil)
	var list struct {
		ConversationEntries []map[string]any `json:"conversationEntries"`
	}
	if err := json.Unmarshal(r.body, &list); r.status != 200 || err != nil || len(list.ConversationEntries) != 3 {
		t.Fatalf("entries: %d %s", r.status, r.body)
	}
	newest := list.ConversationEntries[0]
	pl, ok := newest["entryPayload"].(map[string]any)
	if !ok || newest["entryType"] != miaw.EntryMessage || pl["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["text"] != "answer" {
		t.Fatalf("newest entry %v", newest)
	}
	r = e.api("GET", "/conversation/"+conv+"/entries?direction=FromStart&limit=1", tok, nil)
	_ = json.Unmarshal(r.body, &list)
	if list.ConversationEntries[0]["entryType"] != miaw.EntryRoutingResult {
		t.Fatalf("oldest entry %v", list.ConversationEntries[0])
	}
	r = e.api("GET", "/conversation/"+conv+"/entries?entryTypeFilter=Message&limit=50", tok, nil)
	_ = json.Unmarshal(r.body, &list)
	if len(list.ConversationEntries) != 3 {
		t.Fatalf("filtered to %d messages, want 3", len(list.ConversationEntries))
	}
	for _, q := range []string{"limit=51", "limit=0", "direction=Sideways", "startTimestamp=x"} {
		if r := e.api("GET", "/conversation/"+conv+"/entries?"+q, tok, nil); r.status != 400 {
			t.Errorf("entries?%s: %d", q, r.status)
		}
	}

	// Conversation list.
	conv2 := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	r = e.api("GET", "/conversation/list?inclClosedConvs=false&limit=20", tok, nil)
	m := r.json(t)
	if r.status != 200 || m["openConversationsFound"].(float64) != 2 || len(m["conversations"].([]any)) != 2 {
		t.Fatalf("list: %s", r.body)
	}

	// Close: the agent leaves, session ends, CloseConversation.
	if r := e.api("DELETE", "/conversation/"+conv+"?esDeveloperName="+testDeploy, tok, nil); r.status != 204 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	evs = st.expect(miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventCloseConversation)
	if _, _, p := evs[2].envelope(t); p["conversationIdentifier"] != conv {
		t.Fatalf("close payload %v", p)
	}
	if r := e.sendText(tok, conv, "after close"); r.status != 400 {
		t.Fatalf("message after close: %d", r.status)
	}
	r = e.api("GET", "/conversation/list?inclClosedConvs=true", tok, nil)
	m = r.json(t)
	if m["openConversationsFound"].(float64) != 1 || m["closedConversationsFound"].(float64) != 1 || len(m["conversations"].([]any)) != 2 {
		t.Fatalf("list with closed: %s", r.body)
	}
	if r := e.api("DELETE", "/conversation/"+conv2+"?esDeveloperName=Wrong", tok, nil); r.status != 400 {
		t.Fatalf("close with wrong deployment: %d", r.status)
	}
}

func TestEmbeddedServiceEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	r := e.call("GET", "/embeddedservice/v1/embedded-service-config?orgId="+testOrg+"&esConfigName="+testDeploy+"&language=en_US", "", "", nil)
	if r.status != 200 || r.json(t)["deploymentType"] != "api" {
		t.Fatalf("config: %d %s", r.status, r.body)
	}
	r = e.call("GET", "/embeddedservice/v1/businesshours?orgId="+testOrg+"&esConfigName="+testDeploy, "", "", nil)
	hours := r.json(t)["businessHoursInfo"].(map[string]any)["businessHours"].([]any)
	if r.status != 200 || len(hours) != 1 {
		t.Fatalf("business hours: %s", r.body)
	}
	if r := e.call("GET", "/embeddedservice/v1/businesshours?esConfigName="+testDeploy, "", "", nil); r.status != 400 {
		t.Fatalf("no org: %d", r.status)
	}
	if r := e.call("GET", "/embeddedservice/v1/embedded-service-config?orgId="+testOrg+"&esConfigName=Nope", "", "", nil); r.status != 400 {
		t.Fatalf("unknown deployment: %d", r.status)
	}
	if r := e.call("GET", "/iamessage/api/v2/conversation/x/close", "", testOrg, nil); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}
}

func TestMethodNotAllowedIsJSON(t *testing.T) {
	e := newEnv(t, nil)
	r := e.call("PUT", "/iamessage/api/v2/conversation", "", testOrg, map[string]string{})
	if r.status != 405 || r.errMessage(t) != "Method Not Allowed" || r.header.Get("Allow") != "POST" {
		t.Fatalf("PUT /conversation: %d %v %s", r.status, r.header, r.body)
	}
	r = e.call("POST", "/iamessage/api/v2/conversation/"+uuid.NewString(), "", testOrg, map[string]string{})
	if r.status != 405 || r.header.Get("Allow") != "GET, DELETE" {
		t.Fatalf("POST /conversation/{id}: %d %v", r.status, r.header)
	}
	if r := e.call("GET", "/nothing/here", "", "", nil); r.status != 404 || r.errMessage(t) != "Not Found" {
		t.Fatalf("unknown path: %d %s", r.status, r.body)
	}
}
