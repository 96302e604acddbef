package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	histClientID = "3MVG9test.consumer.key"
	histUser     = "bridge-integration@example.com"
	histApp      = "Live_Agent_Bridge_History"
	histPath     = "/api/v1/conversationHistory"
	tokenPath    = "/services/oauth2/token"
)

// otherKey is an RSA key the emulator does not know (bad signatures), or
// the connected app's certificate key when a test sets PublicKey.
var otherKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// newHistoryEnv starts an emulator with the Conversation History API
// enabled; assertions verify with the JWKS key (testKey) unless mutate
// sets PublicKey.
func newHistoryEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	return newEnv(t, func(c *Config) {
		c.ConversationHistory = &ConversationHistoryConfig{ClientID: histClientID, Username: histUser, ConnectedApp: histApp}
		if mutate != nil {
			mutate(c)
		}
	})
}

// assertion signs a JWT bearer assertion with good claims changed by edit.
func (e *env) assertion(key *rsa.PrivateKey, edit func(jwt.MapClaims)) string {
	e.t.Helper()
	claims := jwt.MapClaims{"iss": histClientID, "sub": histUser, "aud": e.url, "exp": time.Now().Add(3 * time.Minute).Unix()}
	if edit != nil {
		edit(claims)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) tokenRequest(contentType string, form url.Values) resp {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return e.do(req)
}

func (e *env) exchange(assertion string) resp {
	e.t.Helper()
	return e.tokenRequest("application/x-www-form-urlencoded", url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}})
}

func (e *env) oauthToken() string {
	e.t.Helper()
	r := e.exchange(e.assertion(testKey, nil))
	if r.status != 200 {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["access_token"].(string)
}

// historyHeaders are the headers of a good upload.
func historyHeaders(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json", "OrgId": testOrg,
		"AuthorizationContext": histApp, "AuthorizationContextType": "EmbeddedMessagingChannel", "RequestId": uuid.NewString()}
}

// upload posts body (raw bytes when []byte) with headers ("" deletes one).
func (e *env) upload(headers map[string]string, body any) resp {
	e.t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest("POST", e.url+histPath, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return e.do(req)
}

// historyCode decodes a {"code","message"} error body.
func (r resp) historyCode(t *testing.T) int {
	t.Helper()
	var b struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Message == "" {
		t.Fatalf("%d: not a {code, message} body: %s", r.status, r.body)
	}
	return b.Code
}

// histEntry is one conversation entry of an upload.
func histEntry(id, role, subject, text string, at time.Time) map[string]any {
	appType := "chatbot"
	if role == "EndUser" {
		appType = "iamessage"
	}
	return map[string]any{
		"clientTimestamp": at.UnixMilli(),
		"sender":          map[string]any{"subject": subject, "role": role, "appType": appType},
		"entryPayload": map[string]any{"entryType": "Message", "id": id,
			"abstractMessage": map[string]any{"messageType": "StaticContentMessage", "id": id + "-m",
				"staticContent": map[string]any{"formatType": "Text", "text": text}}},
	}
}

// historyBody is a good upload into conv: Ann (EndUser) and Assistant
// (Chatbot, left at handoff), with entries.
func (e *env) historyBody(conv string, handoff time.Time, entries ...map[string]any) map[string]any {
	return map[string]any{
		"channelAddressIdentifier": e.s.ChannelAddressIdentifier(),
		"conversationIdentifier":   conv,
		"conversationParticipants": []any{
			map[string]any{"displayName": "Ann", "participant": map[string]any{"subject": "user-1", "role": "EndUser", "appType": "iamessage"},
				"joinedTime": handoff.Add(-10 * time.Minute).UnixMilli()},
			map[string]any{"displayName": "Assistant", "participant": map[string]any{"subject": "bridge-assistant", "role": "Chatbot", "appType": "chatbot"},
				"joinedTime": handoff.Add(-10 * time.Minute).UnixMilli(), "leftTime": handoff.UnixMilli()},
		},
		"conversationEntries": entries,
	}
}

// The JWT bearer flow: a good assertion gets a token in Salesforce's shape;
// each broken claim, signature, grant type or encoding gets 400.
func TestHistoryTokenExchange(t *testing.T) {
	e := newHistoryEnv(t, nil)
	r := e.exchange(e.assertion(testKey, nil))
	if r.status != 200 {
		t.Fatalf("good assertion: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if tok, _ := m["access_token"].(string); tok == "" || strings.Count(tok, ".") == 2 {
		t.Fatalf("access_token %q: want an opaque token", tok)
	}
	if m["token_type"] != "Bearer" || m["instance_url"] != e.url || m["id"] == "" || !strings.Contains(m["scope"].(string), "interaction_api") {
		t.Fatalf("token answer %v", m)
	}
	if ms, err := strconv.ParseInt(m["issued_at"].(string), 10, 64); err != nil || time.Since(time.UnixMilli(ms)).Abs() > time.Minute {
		t.Fatalf("issued_at %v", m["issued_at"])
	}
	if _, ok := m["expires_in"]; ok {
		t.Fatal("Salesforce sends no expires_in")
	}
	for _, aud := range []string{e.url + "/", "https://login.salesforce.com", "https://test.salesforce.com/"} {
		if r := e.exchange(e.assertion(testKey, func(c jwt.MapClaims) { c["aud"] = aud })); r.status != 200 {
			t.Errorf("aud %s: %d %s", aud, r.status, r.body)
		}
	}

	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": histClientID, "sub": histUser, "aud": e.url,
		"exp": time.Now().Add(time.Minute).Unix()}).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]string{
		"bad signature": e.assertion(otherKey, nil),
		"wrong iss":     e.assertion(testKey, func(c jwt.MapClaims) { c["iss"] = "someone-else" }),
		"wrong sub":     e.assertion(testKey, func(c jwt.MapClaims) { c["sub"] = "other@example.com" }),
		"wrong aud":     e.assertion(testKey, func(c jwt.MapClaims) { c["aud"] = "https://evil.example.com" }),
		"no aud":        e.assertion(testKey, func(c jwt.MapClaims) { delete(c, "aud") }),
		"expired":       e.assertion(testKey, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"exp too far":   e.assertion(testKey, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() }),
		"no exp":        e.assertion(testKey, func(c jwt.MapClaims) { delete(c, "exp") }),
		"HS256":         hs,
		"garbage":       "not-a-jwt",
	} {
		r := e.exchange(a)
		if r.status != 400 || r.json(t)["error"] != "invalid_grant" || r.json(t)["error_description"] == "" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
		if strings.Contains(string(r.body), a) {
			t.Errorf("%s: the answer echoes the assertion", name)
		}
	}
	good := e.assertion(testKey, nil)
	for name, tc := range map[string]struct {
		contentType string
		form        url.Values
		want        string
	}{
		"wrong grant type":  {"application/x-www-form-urlencoded", url.Values{"grant_type": {"password"}, "assertion": {good}}, "unsupported_grant_type"},
		"no grant type":     {"application/x-www-form-urlencoded", url.Values{"assertion": {good}}, "unsupported_grant_type"},
		"no assertion":      {"application/x-www-form-urlencoded", url.Values{"grant_type": {jwtBearerGrant}}, "invalid_request"},
		"JSON content type": {"application/json", url.Values{"grant_type": {jwtBearerGrant}, "assertion": {good}}, "invalid_request"},
	} {
		if r := e.tokenRequest(tc.contentType, tc.form); r.status != 400 || r.json(t)["error"] != tc.want {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}

// With PublicKey set, only that key verifies assertions (not the JWKS).
func TestHistoryTokenPublicKey(t *testing.T) {
	e := newHistoryEnv(t, func(c *Config) { c.ConversationHistory.PublicKey = &otherKey.PublicKey })
	if r := e.exchange(e.assertion(otherKey, nil)); r.status != 200 {
		t.Fatalf("connected app key: %d %s", r.status, r.body)
	}
	if r := e.exchange(e.assertion(testKey, nil)); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("JWKS key: %d %s", r.status, r.body)
	}
}

// An upload is accepted (202), kept oldest first with the senders' names,
// shown by ImportedHistory and the control API view; a re-sent batch adds
// nothing and later batches keep the same messagingSessionId.
func TestHistoryUploadAccepted(t *testing.T) {
	e := newHistoryEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	oauth := e.oauthToken()
	handoff := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	// Newest batch first, newest entry first within it (as the client sends).
	batch2 := e.historyBody(conv, handoff,
		histEntry("e4", "Chatbot", "bridge-assistant", "Let me get you an agent.", handoff.Add(-time.Minute)),
		histEntry("e3", "EndUser", "user-1", "I want a human", handoff.Add(-2*time.Minute)))
	batch1 := e.historyBody(conv, handoff,
		histEntry("e2", "Chatbot", "bridge-assistant", "Hi Ann, how can I help?", handoff.Add(-3*time.Minute)),
		histEntry("e1", "EndUser", "user-1", "Hello bot", handoff.Add(-4*time.Minute)))

	r := e.upload(historyHeaders(oauth), batch2)
	if r.status != 202 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	m := r.json(t)
	sessionID, _ := m["messagingSessionId"].(string)
	if m["success"] != true || m["conversationIdentifier"] != conv || !strings.HasPrefix(sessionID, "0Mw") {
		t.Fatalf("answer %v", m)
	}
	for _, b := range []map[string]any{batch1, batch2, batch1} { // batch2 and batch1 re-sent
		r := e.upload(historyHeaders(oauth), b)
		if r.status != 202 || r.json(t)["messagingSessionId"] != sessionID {
			t.Fatalf("later upload: %d %s (session %s)", r.status, r.body, sessionID)
		}
	}
	want := []ImportedEntry{
		{At: handoff.Add(-4 * time.Minute).UTC(), From: "EndUser", SenderName: "Ann", Text: "Hello bot"},
		{At: handoff.Add(-3 * time.Minute).UTC(), From: "Chatbot", SenderName: "Assistant", Text: "Hi Ann, how can I help?"},
		{At: handoff.Add(-2 * time.Minute).UTC(), From: "EndUser", SenderName: "Ann", Text: "I want a human"},
		{At: handoff.Add(-time.Minute).UTC(), From: "Chatbot", SenderName: "Assistant", Text: "Let me get you an agent."},
	}
	got, err := e.s.ImportedHistory(conv)
	if err != nil || len(got) != len(want) {
		t.Fatalf("imported %+v %v", got, err)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].From != want[i].From || got[i].SenderName != want[i].SenderName || got[i].Text != want[i].Text {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	cr := e.call("GET", "/emulator/v1/conversations/"+conv, "", "", nil)
	var view struct {
		ID              string `json:"id"`
		State           string `json:"state"`
		ImportedHistory []struct {
			At         string `json:"at"`
			From       string `json:"from"`
			SenderName string `json:"senderName"`
			Text       string `json:"text"`
		} `json:"importedHistory"`
	}
	if err := json.Unmarshal(cr.body, &view); cr.status != 200 || err != nil || view.ID != conv || view.State != StateWaiting || len(view.ImportedHistory) != 4 {
		t.Fatalf("control view: %d %s", cr.status, cr.body)
	}
	if h := view.ImportedHistory[1]; h.From != "Chatbot" || h.SenderName != "Assistant" || h.Text != "Hi Ann, how can I help?" {
		t.Fatalf("control view entry %+v", h)
	}
	if at, err := time.Parse(time.RFC3339, view.ImportedHistory[0].At); err != nil || !at.Equal(want[0].At) {
		t.Fatalf("control view at %q: %v", view.ImportedHistory[0].At, err)
	}
	if st := e.s.Stats(); st.HistoryAccepted != 4 || st.HistoryRefused != 0 {
		t.Fatalf("stats %+v", st)
	}

	// A conversation without imports answers an empty list, not null.
	other := e.createConversation(tok, nil)
	if cr := e.call("GET", "/emulator/v1/conversations/"+other, "", "", nil); !strings.Contains(string(cr.body), `"importedHistory":[]`) {
		t.Fatalf("empty view: %s", cr.body)
	}
	if _, err := e.s.ImportedHistory(uuid.NewString()); err == nil {
		t.Fatal("unknown conversation: no error")
	}
	// A revoked (or expired) OAuth token is 401 10004.
	e.s.RevokeConversationHistoryTokens()
	if r := e.upload(historyHeaders(oauth), batch1); r.status != 401 || r.historyCode(t) != 10004 {
		t.Fatalf("revoked token: %d %s", r.status, r.body)
	}
}

// Each header and body rule has its status and code; refused uploads
// import nothing.
func TestHistoryUploadValidation(t *testing.T) {
	e := newHistoryEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	oauth := e.oauthToken()
	handoff := time.Now().Add(-time.Minute)
	good := func() map[string]any {
		return e.historyBody(conv, handoff,
			histEntry("g2", "Chatbot", "bridge-assistant", "Connecting you", handoff.Add(-time.Minute)),
			histEntry("g1", "EndUser", "user-1", "Help", handoff.Add(-2*time.Minute)))
	}
	participants := func(b map[string]any) []any { return b["conversationParticipants"].([]any) }
	participant := func(b map[string]any, i int) map[string]any { return participants(b)[i].(map[string]any) }
	entry := func(b map[string]any, i int) map[string]any {
		return b["conversationEntries"].([]map[string]any)[i]
	}
	message := func(b map[string]any, i int) map[string]any {
		return entry(b, i)["entryPayload"].(map[string]any)["abstractMessage"].(map[string]any)
	}
	entries := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = histEntry("n"+strconv.Itoa(i), "EndUser", "user-1", "x", handoff.Add(-time.Duration(i+1)*time.Second))
		}
		return out
	}

	cases := []struct {
		name    string
		headers func(h map[string]string)
		body    func(b map[string]any) any
		status  int
		code    int
	}{
		{name: "no Authorization", headers: func(h map[string]string) { h["Authorization"] = "" }, status: 401, code: 10004},
		{name: "unknown token", headers: func(h map[string]string) { h["Authorization"] = "Bearer 00D!nope" }, status: 401, code: 10004},
		{name: "MIAW access token", headers: func(h map[string]string) { h["Authorization"] = "Bearer " + tok }, status: 401, code: 10004},
		{name: "no OrgId", headers: func(h map[string]string) { h["OrgId"] = "" }, status: 400, code: 10016},
		{name: "other OrgId", headers: func(h map[string]string) { h["OrgId"] = "00D000000000002" }, status: 400, code: 10016},
		{name: "wrong AuthorizationContextType", headers: func(h map[string]string) { h["AuthorizationContextType"] = "MessagingChannel" }, status: 400, code: 10093},
		{name: "wrong AuthorizationContext", headers: func(h map[string]string) { h["AuthorizationContext"] = "Other_App" }, status: 403, code: 10005},
		{name: "no RequestId", headers: func(h map[string]string) { h["RequestId"] = "" }, status: 400, code: 10016},
		{name: "empty body", body: func(map[string]any) any { return []byte{} }, status: 400, code: 10100},
		{name: "not JSON", body: func(map[string]any) any { return []byte("{") }, status: 400, code: 10078},
		{name: "messagingSession", body: func(b map[string]any) any {
			b["messagingSession"] = map[string]any{"messagingSessionRequestType": "AttachMessagingSession"}
			return b
		}, status: 400, code: 10063},
		{name: "no channel", body: func(b map[string]any) any { delete(b, "channelAddressIdentifier"); return b }, status: 400, code: 10052},
		{name: "other channel", body: func(b map[string]any) any { b["channelAddressIdentifier"] = uuid.NewString(); return b }, status: 400, code: 10069},
		{name: "unknown conversation", body: func(b map[string]any) any { b["conversationIdentifier"] = uuid.NewString(); return b }, status: 404, code: 10018},
		{name: "no participants", body: func(b map[string]any) any { b["conversationParticipants"] = []any{}; return b }, status: 400, code: 10053},
		{name: "four participants", body: func(b map[string]any) any {
			ps := participants(b)
			b["conversationParticipants"] = append(ps, ps[1], ps[1])
			return b
		}, status: 400, code: 10053},
		{name: "agent participant", body: func(b map[string]any) any {
			participant(b, 1)["participant"].(map[string]any)["role"] = "Agent"
			return b
		}, status: 400, code: 10043},
		{name: "no end user", body: func(b map[string]any) any {
			b["conversationParticipants"] = participants(b)[1:]
			return b
		}, status: 400, code: 10042},
		{name: "end user leftTime", body: func(b map[string]any) any {
			participant(b, 0)["leftTime"] = handoff.UnixMilli()
			return b
		}, status: 400, code: 10065},
		{name: "end user appType", body: func(b map[string]any) any {
			participant(b, 0)["participant"].(map[string]any)["appType"] = "chatbot"
			return b
		}, status: 400, code: 10065},
		{name: "chatbot without leftTime", body: func(b map[string]any) any { delete(participant(b, 1), "leftTime"); return b }, status: 400, code: 10066},
		{name: "chatbot leftTime before joinedTime", body: func(b map[string]any) any {
			participant(b, 1)["leftTime"] = participant(b, 1)["joinedTime"].(int64) - 1
			return b
		}, status: 400, code: 10067},
		{name: "no entries", body: func(b map[string]any) any { b["conversationEntries"] = []map[string]any{}; return b }, status: 400, code: 10078},
		{name: "six entries", body: func(b map[string]any) any { b["conversationEntries"] = entries(6); return b }, status: 400, code: 10078},
		{name: "sender not a participant", body: func(b map[string]any) any {
			entry(b, 0)["sender"].(map[string]any)["subject"] = "someone-else"
			return b
		}, status: 400, code: 10068},
		{name: "older than 24 h", body: func(b map[string]any) any {
			entry(b, 1)["clientTimestamp"] = time.Now().Add(-25 * time.Hour).UnixMilli()
			return b
		}, status: 400, code: 10046},
		{name: "messageType", body: func(b map[string]any) any {
			message(b, 0)["messageType"] = "ChoicesMessage"
			return b
		}, status: 400, code: 10047},
		{name: "formatType", body: func(b map[string]any) any {
			message(b, 0)["staticContent"].(map[string]any)["formatType"] = "RichLink"
			return b
		}, status: 400, code: 10048},
		{name: "empty text", body: func(b map[string]any) any {
			message(b, 0)["staticContent"].(map[string]any)["text"] = "  "
			return b
		}, status: 400, code: 10049},
		// Accepted variants.
		{name: "unknown members tolerated", body: func(b map[string]any) any {
			b["somethingNew"] = map[string]any{"x": 1}
			entry(b, 0)["extra"] = true
			return b
		}, status: 202},
		{name: "18-character OrgId", headers: func(h map[string]string) { h["OrgId"] = testOrg + "AAA" }, status: 202},
		{name: "five entries", body: func(b map[string]any) any { b["conversationEntries"] = entries(5); return b }, status: 202},
	}
	refused := 0
	for _, tc := range cases {
		h := historyHeaders(oauth)
		if tc.headers != nil {
			tc.headers(h)
		}
		var body any = good()
		if tc.body != nil {
			body = tc.body(good())
		}
		r := e.upload(h, body)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 202 {
			continue
		}
		refused++
		if code := r.historyCode(t); code != tc.code {
			t.Errorf("%s: code %d, want %d: %s", tc.name, code, tc.code, r.body)
		}
	}
	got, err := e.s.ImportedHistory(conv)
	if err != nil || len(got) != 2+5 { // g1, g2 and n0..n4 from the accepted variants
		t.Fatalf("imported %d entries: %+v %v", len(got), got, err)
	}
	if st := e.s.Stats(); st.HistoryRefused != int64(refused) || st.HistoryAccepted != 3 {
		t.Fatalf("stats accepted %d refused %d, want 3 and %d", st.HistoryAccepted, st.HistoryRefused, refused)
	}
}

// The refusal switch answers 403 10057, set from Go or the control API.
func TestHistoryRefusedSwitch(t *testing.T) {
	e := newHistoryEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	oauth := e.oauthToken()
	handoff := time.Now()
	body := e.historyBody(conv, handoff, histEntry("r1", "EndUser", "user-1", "hi", handoff.Add(-time.Second)))
	refusedNow := func(want bool) {
		t.Helper()
		r := e.upload(historyHeaders(oauth), body)
		switch {
		case want && (r.status != 403 || r.historyCode(t) != 10057):
			t.Fatalf("refused: %d %s", r.status, r.body)
		case !want && r.status != 202:
			t.Fatalf("accepted: %d %s", r.status, r.body)
		}
	}
	switchTo := func(refused bool) {
		t.Helper()
		r := e.call("POST", "/emulator/v1/conversation-history", "", "", map[string]any{"refused": refused})
		if r.status != 200 || r.json(t)["refused"] != refused {
			t.Fatalf("control switch: %d %s", r.status, r.body)
		}
	}

	refusedNow(false)
	e.s.SetConversationHistoryRefused(true)
	refusedNow(true)
	switchTo(false)
	if e.s.ConversationHistoryRefused() {
		t.Fatal("still refused after the control API")
	}
	refusedNow(false)
	switchTo(true)
	refusedNow(true)
	if r := e.call("GET", "/emulator/v1/conversation-history", "", "", nil); r.status != 200 || r.json(t)["refused"] != true || r.json(t)["enabled"] != true {
		t.Fatalf("control get: %d %s", r.status, r.body)
	}
	for name, b := range map[string]any{"no refused": map[string]any{}, "not a bool": map[string]any{"refused": "yes"}} {
		if r := e.call("POST", "/emulator/v1/conversation-history", "", "", b); r.status != 400 || r.errMessage(t) == "" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// A bad token is still 401 before the refusal.
	h := historyHeaders("nope")
	if r := e.upload(h, body); r.status != 401 || r.historyCode(t) != 10004 {
		t.Fatalf("bad token while refused: %d %s", r.status, r.body)
	}
}

// Without Config.ConversationHistory both endpoints are 404 with a JSON body.
func TestHistoryDisabled(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	if r := e.exchange(e.assertion(testKey, nil)); r.status != 404 || r.historyCode(t) != 404 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if r := e.upload(historyHeaders("x"), e.historyBody(conv, time.Now())); r.status != 404 || r.historyCode(t) != 404 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/emulator/v1/conversation-history", "", "", nil); r.status != 200 || r.json(t)["enabled"] != false {
		t.Fatalf("control get: %d %s", r.status, r.body)
	}
}

// The configuration needs its names and a key.
func TestHistoryConfigValidation(t *testing.T) {
	for name, h := range map[string]ConversationHistoryConfig{
		"no client id":    {Username: histUser, ConnectedApp: histApp},
		"no username":     {ClientID: histClientID, ConnectedApp: histApp},
		"no app":          {ClientID: histClientID, Username: histUser},
		"no key, no JWKS": {ClientID: histClientID, Username: histUser, ConnectedApp: histApp},
	} {
		if _, err := New(Config{ConversationHistory: &h}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{ConversationHistory: &ConversationHistoryConfig{ClientID: histClientID, Username: histUser, ConnectedApp: histApp,
		PublicKey: &otherKey.PublicKey}}); err != nil {
		t.Fatalf("public key without JWKS: %v", err)
	}
}

// Injected REST faults reach both endpoints like the MIAW calls.
func TestHistoryFaults(t *testing.T) {
	e := newHistoryEnv(t, func(c *Config) { c.Faults.ErrorRate = 1 })
	if r := e.exchange(e.assertion(testKey, nil)); r.status != 503 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if r := e.upload(historyHeaders("x"), map[string]any{}); r.status != 503 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if st := e.s.Stats(); st.HistoryRefused != 0 || st.FaultErrors != 2 {
		t.Fatalf("stats %+v", st)
	}
}
