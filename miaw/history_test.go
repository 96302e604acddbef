package miaw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
)

const (
	histChannel    = "chan-addr-7f3e"
	histApp        = "Bridge_History_App"
	histClientID   = "3MVG9consumer.key.for.tests"
	histUsername   = "integration@example.com"
	histConvID     = "0b7e6c1a-2d3f-4a5b-8c9d-1e2f3a4b5c6d"
	histOtherConv  = "9d8c7b6a-5f4e-4d3c-ab1a-0f9e8d7c6b5a"
	histUser       = "user-42"
	histSessionPfx = "0Mw000000000"
)

// histSF plays Salesforce's OAuth token endpoint and the Conversation
// History API (notes/historyapi-spec.md §1-2) on one loopback server.
type histSF struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	requests    int // every request, any path
	tokenReqs   []*recordedRequest
	uploads     []*recordedRequest
	issued      []string        // access tokens issued, in order
	assertions  []string        // JWT assertions received
	valid       map[string]bool // access tokens currently accepted
	tokenDelay  time.Duration
	tokenReply  func(n int) (int, string)                     // overrides the token answer when set
	uploadReply func(n int, r *recordedRequest) (int, string) // overrides an authorised upload's answer when set
}

func newHistSF(t *testing.T) *histSF {
	t.Helper()
	f := &histSF{t: t, valid: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *histSF) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &recordedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
	reply := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/services/oauth2/token":
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		f.tokenReqs = append(f.tokenReqs, rec)
		f.assertions = append(f.assertions, form.Get("assertion"))
		n, delay, override := len(f.tokenReqs), f.tokenDelay, f.tokenReply
		f.mu.Unlock()
		time.Sleep(delay)
		if override != nil {
			reply(override(n))
			return
		}
		tok := "00Dhist!secret-access-token-" + histRandom()
		f.mu.Lock()
		f.issued = append(f.issued, tok)
		f.valid[tok] = true
		f.mu.Unlock()
		reply(http.StatusOK, fmt.Sprintf(`{"access_token":%q,"instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00D/005","token_type":"Bearer","scope":"interaction_api api","issued_at":"%d"}`,
			tok, time.Now().UnixMilli()))
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/conversationHistory":
		f.mu.Lock()
		f.uploads = append(f.uploads, rec)
		n := len(f.uploads)
		ok := f.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		override := f.uploadReply
		f.mu.Unlock()
		if !ok {
			reply(http.StatusUnauthorized, `{"code":10004,"message":"The supplied access token is not valid."}`)
			return
		}
		if override != nil {
			reply(override(n, rec))
			return
		}
		var b struct {
			ConversationIdentifier string `json:"conversationIdentifier"`
		}
		_ = json.Unmarshal(body, &b)
		reply(http.StatusAccepted, fmt.Sprintf(`{"success":true,"conversationIdentifier":%q,"messagingSessionId":"%s%03d"}`, b.ConversationIdentifier, histSessionPfx, n))
	default:
		reply(http.StatusNotFound, `{"code":404,"message":"no such endpoint"}`)
	}
}

// revokeAll makes every issued token invalid (Salesforce expired them).
func (f *histSF) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.valid)
}

func (f *histSF) counts() (requests, tokens, uploads int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, len(f.tokenReqs), len(f.uploads)
}

func (f *histSF) upload(i int) *recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads[i]
}

func histRandom() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func histConfig(f *histSF) HistoryConfig {
	return HistoryConfig{
		BaseURL:                  f.srv.URL,
		AllowAnyHost:             true,
		OrgID:                    testOrgID18,
		ChannelAddressIdentifier: histChannel,
		ConnectedApp:             histApp,
		LoginURL:                 f.srv.URL + "/", // the trailing slash must not reach aud
		ClientID:                 histClientID,
		Username:                 histUsername,
		PrivateKeyFile:           testKeyPKCS8,
	}
}

func newHistClient(t *testing.T, f *histSF) (*HistoryClient, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	c, err := NewHistoryClient(histConfig(f), WithHistoryLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatalf("NewHistoryClient: %v", err)
	}
	return c, logs
}

// histUpload builds n alternating entries (user first), oldest first; with
// withAt, entry i is at handoff - (n-i) minutes.
func histUpload(n int, handoff time.Time, withAt bool) HistoryUpload {
	u := HistoryUpload{ConversationID: histConvID, UserSubject: histUser, HandoffAt: handoff}
	for i := range n {
		e := HistoryEntry{FromUser: i%2 == 0, Text: fmt.Sprintf("text %d", i)}
		if withAt {
			e.At = handoff.Add(-time.Duration(n-i) * time.Minute)
		}
		u.Entries = append(u.Entries, e)
	}
	return u
}

// histWire is the request body as the test reads it.
type histWire struct {
	ChannelAddressIdentifier string `json:"channelAddressIdentifier"`
	ConversationIdentifier   string `json:"conversationIdentifier"`
	ConversationParticipants []struct {
		DisplayName string          `json:"displayName"`
		Participant histWireParty   `json:"participant"`
		JoinedTime  int64           `json:"joinedTime"`
		LeftTime    json.RawMessage `json:"leftTime"`
	} `json:"conversationParticipants"`
	ConversationEntries []struct {
		ClientTimestamp int64         `json:"clientTimestamp"`
		Sender          histWireParty `json:"sender"`
		EntryPayload    struct {
			EntryType       string `json:"entryType"`
			ID              string `json:"id"`
			AbstractMessage struct {
				MessageType   string `json:"messageType"`
				ID            string `json:"id"`
				StaticContent struct {
					FormatType string `json:"formatType"`
					Text       string `json:"text"`
				} `json:"staticContent"`
			} `json:"abstractMessage"`
		} `json:"entryPayload"`
	} `json:"conversationEntries"`
}

type histWireParty struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	AppType string `json:"appType"`
}

func decodeHistWire(t *testing.T, r *recordedRequest) histWire {
	t.Helper()
	var w histWire
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("upload body: %v: %s", err, r.Body)
	}
	return w
}

// histEntriesSent flattens the entries of every upload, in send order.
func histEntriesSent(t *testing.T, f *histSF) (texts, entryIDs, messageIDs []string, stamps []int64) {
	t.Helper()
	_, _, n := f.counts()
	for i := range n {
		for _, e := range decodeHistWire(t, f.upload(i)).ConversationEntries {
			texts = append(texts, e.EntryPayload.AbstractMessage.StaticContent.Text)
			entryIDs = append(entryIDs, e.EntryPayload.ID)
			messageIDs = append(messageIDs, e.EntryPayload.AbstractMessage.ID)
			stamps = append(stamps, e.ClientTimestamp)
		}
	}
	return
}

func TestHistoryTokenRequest(t *testing.T) {
	f := newHistSF(t)
	c, _ := newHistClient(t, f)
	before := time.Now()
	u := histUpload(2, time.Now().Add(-time.Minute), false)
	for range 2 {
		if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
			t.Fatalf("Upload: %v", err)
		}
	}
	if _, tokens, uploads := f.counts(); tokens != 1 || uploads != 2 {
		t.Fatalf("token requests = %d, uploads = %d; want 1 cached token for 2 uploads", tokens, uploads)
	}
	r := f.tokenReqs[0]
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token Content-Type = %q", ct)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := form.Get("grant_type"); got != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("grant_type = %q", got)
	}
	if len(form) != 2 {
		t.Errorf("form fields %v, want grant_type and assertion only", slices.Sorted(maps.Keys(form)))
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(form.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &testKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("assertion does not verify with the public key: %v", err)
	}
	if tok.Header["typ"] != "JWT" {
		t.Errorf("typ = %v", tok.Header["typ"])
	}
	want := map[string]any{"iss": histClientID, "sub": histUsername, "aud": f.srv.URL}
	for k, v := range want {
		if claims[k] != v { // aud must be a plain string, not an array
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
	exp, _ := claims.GetExpirationTime()
	if lo, hi := before.Add(3*time.Minute-2*time.Second), time.Now().Add(3*time.Minute+time.Second); exp.Before(lo) || exp.After(hi) {
		t.Errorf("exp = %s, want now + 3m", exp)
	}
}

func TestHistoryUploadWire(t *testing.T) {
	f := newHistSF(t)
	c, _ := newHistClient(t, f)
	handoff := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
	u := histUpload(12, handoff, false)
	sid, err := c.Upload(context.Background(), u, 0, nil)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if sid != histSessionPfx+"003" {
		t.Errorf("messagingSessionId = %q, want the last answer's", sid)
	}
	_, _, n := f.counts()
	if n != 3 {
		t.Fatalf("uploads = %d, want 3 (5+5+2)", n)
	}
	requestIDs := map[string]bool{}
	for i := range n {
		r := f.upload(i)
		h := r.Header
		checks := map[string]string{
			"Authorization":            "Bearer " + f.issued[0],
			"Content-Type":             "application/json",
			"OrgId":                    testOrgID15,
			"AuthorizationContext":     histApp,
			"AuthorizationContextType": "EmbeddedMessagingChannel",
		}
		for k, v := range checks {
			if got := h.Get(k); got != v {
				t.Errorf("upload %d: header %s = %q, want %q", i, k, got, v)
			}
		}
		rid, err := uuid.Parse(h.Get("RequestId"))
		if err != nil || rid.Version() != 4 || requestIDs[rid.String()] {
			t.Errorf("upload %d: RequestId %q is not a fresh UUID v4", i, h.Get("RequestId"))
		}
		requestIDs[rid.String()] = true

		var raw map[string]any
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["messagingSession"]; ok {
			t.Errorf("upload %d: body has messagingSession", i)
		}
		w := decodeHistWire(t, r)
		if w.ChannelAddressIdentifier != histChannel || w.ConversationIdentifier != histConvID {
			t.Errorf("upload %d: channel %q conversation %q", i, w.ChannelAddressIdentifier, w.ConversationIdentifier)
		}
		if want := []int{5, 5, 2}[i]; len(w.ConversationEntries) != want {
			t.Errorf("upload %d: %d entries, want %d", i, len(w.ConversationEntries), want)
		}
		ps := w.ConversationParticipants
		if len(ps) != 2 {
			t.Fatalf("upload %d: %d participants, want 2", i, len(ps))
		}
		user, bot := ps[0], ps[1]
		if user.Participant != (histWireParty{histUser, "EndUser", "iamessage"}) || user.DisplayName != histUser || user.LeftTime != nil {
			t.Errorf("upload %d: end user participant %+v (display name defaults to the subject; no leftTime)", i, user)
		}
		if bot.Participant != (histWireParty{historyBotSubject, "Chatbot", "chatbot"}) || bot.DisplayName != "Assistant" {
			t.Errorf("upload %d: chatbot participant %+v", i, bot)
		}
		var left int64
		if err := json.Unmarshal(bot.LeftTime, &left); err != nil || left != handoff.UnixMilli() {
			t.Errorf("upload %d: chatbot leftTime %s, want %d", i, bot.LeftTime, handoff.UnixMilli())
		}
		if !(bot.JoinedTime < left) || user.JoinedTime != bot.JoinedTime {
			t.Errorf("upload %d: joinedTime user %d bot %d, leftTime %d", i, user.JoinedTime, bot.JoinedTime, left)
		}
		for j, e := range w.ConversationEntries {
			fromUser := e.Sender.Role == "EndUser"
			wantSender := histWireParty{historyBotSubject, "Chatbot", "chatbot"}
			if fromUser {
				wantSender = histWireParty{histUser, "EndUser", "iamessage"}
			}
			if e.Sender != wantSender {
				t.Errorf("upload %d entry %d: sender %+v", i, j, e.Sender)
			}
			p := e.EntryPayload
			if p.EntryType != "Message" || p.AbstractMessage.MessageType != "StaticContentMessage" || p.AbstractMessage.StaticContent.FormatType != "Text" {
				t.Errorf("upload %d entry %d: payload %+v", i, j, p)
			}
			if e.ClientTimestamp <= bot.JoinedTime || e.ClientTimestamp > left {
				t.Errorf("upload %d entry %d: clientTimestamp %d outside (%d, %d]", i, j, e.ClientTimestamp, bot.JoinedTime, left)
			}
		}
	}
	texts, _, _, stamps := histEntriesSent(t, f)
	for k, text := range texts { // newest first overall: text 11, 10, ..., 0
		if want := fmt.Sprintf("text %d", 11-k); text != want {
			t.Errorf("entry %d sent = %q, want %q (newest first)", k, text, want)
		}
		if want := k%2 == 1; (decodeHistWire(t, f.upload(k/5)).ConversationEntries[k%5].Sender.Role == "EndUser") != want {
			t.Errorf("entry %d: FromUser not mapped to the EndUser role", k)
		}
	}
	for k := 1; k < len(stamps); k++ { // newest first: strictly decreasing
		if stamps[k] >= stamps[k-1] {
			t.Errorf("timestamps not strictly increasing from oldest to newest: %v", stamps)
			break
		}
	}
}

func TestHistoryDisplayNames(t *testing.T) {
	f := newHistSF(t)
	c, _ := newHistClient(t, f)
	u := histUpload(1, time.Now(), false)
	u.UserName, u.BotName = "Ada Lovelace", "Concierge"
	if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
		t.Fatal(err)
	}
	ps := decodeHistWire(t, f.upload(0)).ConversationParticipants
	if ps[0].DisplayName != "Ada Lovelace" || ps[1].DisplayName != "Concierge" {
		t.Errorf("display names %q, %q", ps[0].DisplayName, ps[1].DisplayName)
	}
}

func TestHistoryTimestamps(t *testing.T) {
	handoff := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	at := func(d time.Duration) time.Time { return handoff.Add(d) }
	cases := []struct {
		name string
		ats  []time.Time // oldest first; zero = unknown
		want []int64     // expected offsets from handoff in ms, oldest first; nil = only check ordering
	}{
		{"none known", make([]time.Time, 7), []int64{-6, -5, -4, -3, -2, -1, 0}},
		{"all known", []time.Time{at(-3 * time.Minute), at(-2 * time.Minute), at(-time.Minute)}, []int64{-180000, -120000, -60000}},
		// unknown times are derived downwards from the next newer entry's
		{"mixed", []time.Time{at(-10 * time.Minute), {}, {}, at(-time.Minute), {}}, []int64{-600000, -60002, -60001, -60000, 0}},
		// equal times are pushed apart, a time after the handoff capped at it
		{"same millisecond and after handoff", []time.Time{at(-time.Second), at(-time.Second), at(time.Minute)}, []int64{-1001, -1000, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newHistSF(t)
			c, _ := newHistClient(t, f)
			u := histUpload(len(tc.ats), handoff, false)
			for i := range u.Entries {
				u.Entries[i].At = tc.ats[i]
			}
			if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
				t.Fatal(err)
			}
			_, _, _, stamps := histEntriesSent(t, f)
			slices.Reverse(stamps) // oldest first
			got := make([]int64, len(stamps))
			for i, s := range stamps {
				got[i] = s - handoff.UnixMilli()
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("timestamps not strictly increasing: %v", got)
				}
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("offsets from handoff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHistoryStableIDs(t *testing.T) {
	handoff := time.Now().Add(-time.Minute)
	u := histUpload(8, handoff, false)
	u.Entries[3].ID = "caller-id-3"
	send := func(u HistoryUpload) (entryIDs, messageIDs []string, stamps []int64) {
		f := newHistSF(t)
		c, _ := newHistClient(t, f) // a fresh client: ids must not depend on client state
		if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
			t.Fatal(err)
		}
		_, entryIDs, messageIDs, stamps = histEntriesSent(t, f)
		return
	}
	e1, m1, s1 := send(u)
	e2, m2, s2 := send(u)
	if !slices.Equal(e1, e2) || !slices.Equal(m1, m2) || !slices.Equal(s1, s2) {
		t.Errorf("two uploads of the same input differ:\n%v %v %v\n%v %v %v", e1, m1, s1, e2, m2, s2)
	}
	seen := map[string]bool{}
	for _, id := range slices.Concat(e1, m1) {
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			t.Errorf("id %q is not a UUID or is repeated", id)
		}
		seen[id] = true
	}
	u.ConversationID = histOtherConv
	e3, _, _ := send(u)
	for i := range e3 {
		if e3[i] == e1[i] {
			t.Errorf("entry %d has the same id in two conversations", i)
		}
	}
}

func TestHistoryResumeAndProgress(t *testing.T) {
	cases := []struct {
		sent         int
		wantBatches  []int
		wantProgress []int
		wantFirst    string // text of the first entry sent
	}{
		{0, []int{5, 5, 2}, []int{5, 10, 12}, "text 11"},
		{5, []int{5, 2}, []int{10, 12}, "text 6"},
		{7, []int{5}, []int{12}, "text 4"},
		{11, []int{1}, []int{12}, "text 0"},
		{12, nil, nil, ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("sent=%d", tc.sent), func(t *testing.T) {
			f := newHistSF(t)
			c, _ := newHistClient(t, f)
			var progress []int
			sid, err := c.Upload(context.Background(), histUpload(12, time.Now(), false), tc.sent, func(n int) { progress = append(progress, n) })
			if err != nil {
				t.Fatal(err)
			}
			_, _, n := f.counts()
			var batches []int
			for i := range n {
				batches = append(batches, len(decodeHistWire(t, f.upload(i)).ConversationEntries))
			}
			if !slices.Equal(batches, tc.wantBatches) || !slices.Equal(progress, tc.wantProgress) {
				t.Errorf("batches %v progress %v, want %v %v", batches, progress, tc.wantBatches, tc.wantProgress)
			}
			texts, _, _, _ := histEntriesSent(t, f)
			if first := append(texts, "")[0]; first != tc.wantFirst {
				t.Errorf("first entry sent = %q, want %q", first, tc.wantFirst)
			}
			if (sid == "") != (n == 0) {
				t.Errorf("messagingSessionId = %q after %d uploads", sid, n)
			}
		})
	}
	// A resumed upload sends exactly the ids a full one would for the same entries.
	full, resumed := newHistSF(t), newHistSF(t)
	cf, _ := newHistClient(t, full)
	cr, _ := newHistClient(t, resumed)
	u := histUpload(9, time.Now(), false)
	if _, err := cf.Upload(context.Background(), u, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Upload(context.Background(), u, 5, nil); err != nil {
		t.Fatal(err)
	}
	_, fullIDs, _, fullTS := histEntriesSent(t, full)
	_, resIDs, _, resTS := histEntriesSent(t, resumed)
	if !slices.Equal(fullIDs[5:], resIDs) || !slices.Equal(fullTS[5:], resTS) {
		t.Errorf("resumed ids/timestamps differ from the full upload's")
	}
}

func TestHistoryRemintsOnceOn401(t *testing.T) {
	f := newHistSF(t)
	c, _ := newHistClient(t, f)
	u := histUpload(3, time.Now(), false)
	if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
		t.Fatal(err)
	}
	f.revokeAll() // the cached token expired at Salesforce
	if _, err := c.Upload(context.Background(), u, 0, nil); err != nil {
		t.Fatalf("Upload after expiry: %v", err)
	}
	if _, tokens, uploads := f.counts(); tokens != 2 || uploads != 3 {
		t.Fatalf("tokens %d uploads %d, want 2 and 3 (one rejected, one retried)", tokens, uploads)
	}
	rejected, retried := f.upload(1), f.upload(2)
	if got := retried.Header.Get("Authorization"); got != "Bearer "+f.issued[1] {
		t.Errorf("retry did not use the new token")
	}
	if string(rejected.Body) != string(retried.Body) || rejected.Header.Get("RequestId") == retried.Header.Get("RequestId") {
		t.Errorf("retry must resend the same body with a new RequestId")
	}

	t.Run("second 401 fails", func(t *testing.T) {
		f := newHistSF(t)
		c, _ := newHistClient(t, f)
		f.uploadReply = func(int, *recordedRequest) (int, string) {
			return http.StatusUnauthorized, `{"code":10004,"message":"The supplied access token is not valid."}`
		}
		_, err := c.Upload(context.Background(), u, 0, nil)
		if !IsStatus(err, http.StatusUnauthorized) || IsRetryable(err) || !strings.Contains(err.Error(), "10004") {
			t.Fatalf("err = %v, want a permanent 401 naming code 10004", err)
		}
		if _, tokens, uploads := f.counts(); tokens != 2 || uploads != 2 {
			t.Errorf("tokens %d uploads %d, want exactly one re-mint and one retry", tokens, uploads)
		}
	})
}

func TestHistoryErrorClassification(t *testing.T) {
	cases := []struct {
		name        string
		token       func(int) (int, string)
		upload      func(int, *recordedRequest) (int, string)
		wantStatus  int
		wantRetry   bool
		wantInError []string
		wantAfter   time.Duration
	}{
		{name: "403 10057 no access", upload: histAnswer(403, `{"code":10057,"message":"You have no access to the ConversationHistory API."}`),
			wantStatus: 403, wantInError: []string{"10057", "no access to the ConversationHistory API", "POST /api/v1/conversationHistory"}},
		{name: "400 10066", upload: histAnswer(400, `{"code":10066,"message":"leftTime is required for the chatbot."}`),
			wantStatus: 400, wantInError: []string{"10066: leftTime is required"}},
		{name: "404 unknown conversation", upload: histAnswer(404, `{"code":404,"message":"Conversation not found"}`), wantStatus: 404},
		{name: "503", upload: histAnswer(503, `{"code":503,"message":"Service unavailable"}`), wantStatus: 503, wantRetry: true, wantAfter: 7 * time.Second},
		{name: "429", upload: histAnswer(429, `{"code":429,"message":"Too many requests"}`), wantStatus: 429, wantRetry: true, wantAfter: 7 * time.Second},
		{name: "success false", upload: histAnswer(202, `{"success":false,"message":"Conversation could not be imported"}`),
			wantStatus: 202, wantInError: []string{"success is false", "could not be imported"}},
		{name: "no success flag", upload: histAnswer(202, `{}`), wantStatus: 202, wantInError: []string{"no success"}},
		{name: "malformed answer", upload: histAnswer(202, `{"success":`), wantStatus: 202, wantInError: []string{"malformed"}},
		{name: "unexpected 2xx", upload: histAnswer(201, `{"success":true,"messagingSessionId":"x"}`), wantStatus: 201},
		{name: "invalid_grant", token: func(int) (int, string) {
			return 400, `{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}`
		}, wantStatus: 400, wantInError: []string{"invalid_grant: user hasn't approved this consumer", "POST /services/oauth2/token"}},
		{name: "invalid_client", token: func(int) (int, string) {
			return 400, `{"error":"invalid_client","error_description":"invalid client credentials"}`
		}, wantStatus: 400, wantInError: []string{"invalid_client"}},
		{name: "token 503", token: func(int) (int, string) { return 503, `unavailable` }, wantStatus: 503, wantRetry: true, wantAfter: 7 * time.Second},
		{name: "token without access_token", token: func(int) (int, string) { return 200, `{"token_type":"Bearer"}` },
			wantStatus: 200, wantInError: []string{"no access_token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newHistSF(t)
			f.tokenReply, f.uploadReply = tc.token, tc.upload
			c, _ := newHistClient(t, f)
			var progress []int
			_, err := c.Upload(context.Background(), histUpload(2, time.Now(), false), 0, func(n int) { progress = append(progress, n) })
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Status != tc.wantStatus || IsRetryable(err) != tc.wantRetry || RetryAfter(err) != tc.wantAfter {
				t.Errorf("status %d retryable %v retry-after %s, want %d %v %s (err %v)", e.Status, IsRetryable(err), RetryAfter(err), tc.wantStatus, tc.wantRetry, tc.wantAfter, err)
			}
			for _, s := range tc.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if len(progress) != 0 {
				t.Errorf("progress called on failure: %v", progress)
			}
		})
	}
}

func histAnswer(status int, body string) func(int, *recordedRequest) (int, string) {
	return func(int, *recordedRequest) (int, string) { return status, body }
}

func TestHistoryAccepts200And202(t *testing.T) {
	for _, status := range []int{200, 202} {
		f := newHistSF(t)
		f.uploadReply = histAnswer(status, `{"success":true,"conversationIdentifier":"`+histConvID+`","messagingSessionId":"0Mw5g0000001"}`)
		c, _ := newHistClient(t, f)
		sid, err := c.Upload(context.Background(), histUpload(1, time.Now(), false), 0, nil)
		if err != nil || sid != "0Mw5g0000001" {
			t.Errorf("status %d: sid %q err %v", status, sid, err)
		}
	}
}

func TestHistoryNetworkErrorIsRetryable(t *testing.T) {
	f := newHistSF(t)
	cfg := histConfig(f)
	f.srv.Close()
	c, err := NewHistoryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upload(context.Background(), histUpload(1, time.Now(), false), 0, nil)
	if !IsRetryable(err) || !strings.Contains(err.Error(), "POST /services/oauth2/token") {
		t.Errorf("err = %v, want retryable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Upload(ctx, histUpload(1, time.Now(), false), 0, nil); err == nil || IsRetryable(err) {
		t.Errorf("cancelled: err = %v, want permanent", err)
	}
}

func TestHistoryRefusesInvalidInputBeforeAnyCall(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name   string
		mutate func(*HistoryUpload)
		sent   int
		want   string
	}{
		{"no entries", func(u *HistoryUpload) { u.Entries = nil }, 0, "no entries"},
		{"blank text", func(u *HistoryUpload) { u.Entries[1].Text = " \n" }, 0, "entry 1 has no text"},
		{"entry older than 24h", func(u *HistoryUpload) { u.Entries[0].At = now.Add(-25 * time.Hour) }, 0, "older than 24h"},
		{"handoff older than 24h", func(u *HistoryUpload) { u.HandoffAt = now.Add(-24*time.Hour - time.Second) }, 0, "older than 24h"},
		{"missing handoff", func(u *HistoryUpload) { u.HandoffAt = time.Time{} }, 0, "handoff time"},
		{"missing conversation", func(u *HistoryUpload) { u.ConversationID = "" }, 0, "conversation id"},
		{"conversation not a UUID", func(u *HistoryUpload) { u.ConversationID = "conv-1" }, 0, "UUID"},
		{"missing user subject", func(u *HistoryUpload) { u.UserSubject = "  " }, 0, "user subject"},
		{"negative sent", func(*HistoryUpload) {}, -1, "sent = -1"},
		{"sent beyond entries", func(*HistoryUpload) {}, 4, "sent = 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newHistSF(t)
			c, _ := newHistClient(t, f)
			u := histUpload(3, now.Add(-time.Minute), false)
			tc.mutate(&u)
			called := false
			_, err := c.Upload(context.Background(), u, tc.sent, func(int) { called = true })
			if !errors.Is(err, ErrInvalidRequest) || IsRetryable(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidRequest mentioning %q", err, tc.want)
			}
			if requests, _, _ := f.counts(); requests != 0 || called {
				t.Errorf("server saw %d requests (progress called: %v), want none", requests, called)
			}
		})
	}
}

func TestHistoryConfigValidate(t *testing.T) {
	good := HistoryConfig{
		BaseURL: "https://acme.my.salesforce-scrt.com/", OrgID: testOrgID18, ChannelAddressIdentifier: histChannel,
		ConnectedApp: histApp, LoginURL: "https://login.salesforce.com", ClientID: histClientID, Username: histUsername,
		PrivateKeyFile: "/keys/app.pem",
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*HistoryConfig)
		want   string // exact error, or a prefix ending in "…"
	}{
		{"no base", func(c *HistoryConfig) { c.BaseURL = "" }, "miaw: HistoryConfig.BaseURL is empty"},
		{"http base", func(c *HistoryConfig) { c.BaseURL = "http://acme.my.salesforce-scrt.com" }, "miaw: HistoryConfig.BaseURL must use https…"},
		{"foreign base", func(c *HistoryConfig) { c.BaseURL = "https://evil.example.com" }, "miaw: HistoryConfig.BaseURL host \"evil.example.com\" must end in salesforce-scrt.com…"},
		{"base with path", func(c *HistoryConfig) { c.BaseURL = "https://acme.my.salesforce-scrt.com/api" }, "miaw: HistoryConfig.BaseURL must have no credentials, path…"},
		{"no org", func(c *HistoryConfig) { c.OrgID = " " }, "miaw: HistoryConfig.OrgID is empty"},
		{"bad org", func(c *HistoryConfig) { c.OrgID = "005000000000001" }, "miaw: HistoryConfig.OrgID must start with \"00D\"…"},
		{"no channel", func(c *HistoryConfig) { c.ChannelAddressIdentifier = "" }, "miaw: HistoryConfig.ChannelAddressIdentifier is empty"},
		{"no app", func(c *HistoryConfig) { c.ConnectedApp = "" }, "miaw: HistoryConfig.ConnectedApp is empty"},
		{"bad app", func(c *HistoryConfig) { c.ConnectedApp = "My App" }, "miaw: HistoryConfig.ConnectedApp must be a developer name…"},
		{"no login", func(c *HistoryConfig) { c.LoginURL = "" }, "miaw: HistoryConfig.LoginURL is empty"},
		{"http login", func(c *HistoryConfig) { c.LoginURL = "http://login.salesforce.com" }, "miaw: HistoryConfig.LoginURL must use https…"},
		{"relative login", func(c *HistoryConfig) { c.LoginURL = "login.salesforce.com" }, "miaw: HistoryConfig.LoginURL must be an absolute URL…"},
		{"no client id", func(c *HistoryConfig) { c.ClientID = "" }, "miaw: HistoryConfig.ClientID is empty"},
		{"no username", func(c *HistoryConfig) { c.Username = "" }, "miaw: HistoryConfig.Username is empty"},
		{"no key", func(c *HistoryConfig) { c.PrivateKeyFile = "" }, "miaw: HistoryConfig.PrivateKeyFile is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("Validate() = %q, want prefix %q", got, prefix)
				}
			} else if got != tc.want {
				t.Errorf("Validate() = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("error is not one line: %q", got)
			}
		})
	}
	dev := good
	dev.AllowAnyHost, dev.BaseURL, dev.LoginURL = true, "http://127.0.0.1:8090", "http://127.0.0.1:8090"
	if err := dev.Validate(); err != nil {
		t.Errorf("AllowAnyHost with http loopback URLs: %v", err)
	}
	dev.LoginURL = "ftp://127.0.0.1"
	if err := dev.Validate(); err == nil || !strings.Contains(err.Error(), "HistoryConfig.LoginURL") {
		t.Errorf("ftp login URL: %v", err)
	}
}

func TestNewHistoryClientKey(t *testing.T) {
	f := newHistSF(t)
	cfg := histConfig(f)
	cfg.PrivateKeyFile = testKeyPKCS1
	if _, err := NewHistoryClient(cfg); err != nil {
		t.Errorf("PKCS#1 key: %v", err)
	}
	cfg.PrivateKeyFile = "/nonexistent/key.pem"
	if _, err := NewHistoryClient(cfg); err == nil || !strings.Contains(err.Error(), "private_key_file") {
		t.Errorf("missing key file: %v", err)
	}
	if _, err := NewHistoryClient(HistoryConfig{}); err == nil || !strings.HasPrefix(err.Error(), "miaw: HistoryConfig.") {
		t.Errorf("empty config: %v", err)
	}
}

func TestHistorySecretsNeverLeak(t *testing.T) {
	f := newHistSF(t)
	c, logs := newHistClient(t, f)
	ctx := context.Background()
	u := histUpload(7, time.Now(), false)
	var errs []error
	record := func(_ string, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	record(c.Upload(ctx, u, 0, nil))
	f.revokeAll()
	record(c.Upload(ctx, u, 0, nil)) // 401, re-mint, retry
	f.uploadReply = func(int, *recordedRequest) (int, string) {
		return http.StatusUnauthorized, `{"code":10004,"message":"The supplied access token is not valid."}`
	}
	record(c.Upload(ctx, u, 0, nil)) // 401 twice
	f.uploadReply = histAnswer(403, `{"code":10057,"message":"no access"}`)
	record(c.Upload(ctx, u, 0, nil))
	f.revokeAll()
	f.tokenReply = func(int) (int, string) {
		return 400, `{"error":"invalid_grant","error_description":"expired authorization code"}`
	}
	record(c.Upload(ctx, u, 0, nil))
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3: %v", len(errs), errs)
	}

	pemData, err := os.ReadFile(testKeyPKCS8)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	f.mu.Lock()
	secrets = append(secrets, f.issued...)
	secrets = append(secrets, f.assertions...)
	f.mu.Unlock()
	for _, line := range strings.Split(string(pemData), "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	texts := []string{logs.String()}
	for _, e := range errs {
		texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
	}
	for _, text := range texts {
		for _, s := range slices.Concat(secrets, []string{"secret-access-token", "text 3", "Bearer"}) {
			if strings.Contains(text, s) {
				t.Errorf("secret or message text %q leaked into %q", truncate(s, 20), truncate(text, 300))
			}
		}
	}
	if !strings.Contains(logs.String(), "history access token rejected") {
		t.Errorf("the re-mint was not logged: %s", logs.String())
	}
}

func TestHistoryConcurrentUploadsShareToken(t *testing.T) {
	f := newHistSF(t)
	f.tokenDelay = 100 * time.Millisecond
	c, _ := newHistClient(t, f)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Upload(context.Background(), histUpload(2, time.Now(), false), 0, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, tokens, uploads := f.counts(); tokens != 1 || uploads != 8 {
		t.Errorf("tokens %d uploads %d, want 1 shared token for 8 uploads", tokens, uploads)
	}
}

func TestHistoryErrorBodyParsing(t *testing.T) {
	cases := map[string]string{
		`{"code":10057,"message":"No access to the API."}`:    "10057: No access to the API.",
		`{"code":"10066","message":"leftTime missing"}`:       "10066: leftTime missing",
		`{"code":404,"message":"Conversation 404 not found"}`: "Conversation 404 not found",
		`{"code":10004}`: "10004",
		`{"error":"invalid_grant","error_description":"authentication failure"}`: "invalid_grant: authentication failure",
		`{"errorCode":"INVALID_FIELD","code":10001,"message":"bad"}`:             "INVALID_FIELD: bad",
	}
	for body, want := range cases {
		if got := parseErrorMessage([]byte(body)); got != want {
			t.Errorf("parseErrorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}
