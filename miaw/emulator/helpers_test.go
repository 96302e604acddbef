package emulator

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	testOrg    = "00D000000000001"
	testDeploy = "Live_Agent_Bridge"
	testKid    = "test-kid"
	testIss    = "https://issuer.example.com"
	waitLong   = 10 * time.Second
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

type env struct {
	t   *testing.T
	s   *Server
	ts  *httptest.Server
	url string
}

// newEnv starts an emulator with JWKS for testKey/testKid and issuer testIss.
func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	jwks, err := JWKSFromPublicKey(&testKey.PublicKey, testKid)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{JWKS: jwks, Issuer: testIss, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TransferDelay: 50 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		_ = s.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &env{t: t, s: s, ts: ts, url: ts.URL}
}

func identityJWT(t *testing.T, method jwt.SigningMethod, kid, iss, sub string, exp time.Time) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": sub, "iss": iss, "iat": time.Now().Unix(), "exp": exp.Unix(), "aud": "https://ignored.example.com"})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %q", r.status, r.body)
	}
	return m
}

// errMessage returns the "message" of a {"message","status"} body and checks status agrees.
func (r resp) errMessage(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	if st, _ := m["status"].(float64); int(st) != r.status {
		t.Fatalf("error body status %v != HTTP status %d: %s", m["status"], r.status, r.body)
	}
	msg, _ := m["message"].(string)
	return msg
}

// call performs a request. token "" sends no Authorization; org "" sends no X-Org-Id.
func (e *env) call(method, path, token, org string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil || method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if org != "" {
		req.Header.Set("X-Org-Id", org)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// api calls an authenticated endpoint with the test org.
func (e *env) api(method, path, token string, body any) resp {
	e.t.Helper()
	return e.call(method, "/iamessage/api/v2"+path, token, testOrg, body)
}

func tokenBody() map[string]any {
	return map[string]any{"orgId": testOrg, "esDeveloperName": testDeploy, "capabilitiesVersion": "1", "platform": "Web",
		"context": map[string]any{"appName": "test", "clientVersion": "1"}}
}

func (e *env) guestToken() (token, subject string) {
	e.t.Helper()
	r := e.call("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", "", "", tokenBody())
	if r.status != 200 {
		e.t.Fatalf("guest token: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	return m["accessToken"].(string), m["context"].(map[string]any)["endUser"].(map[string]any)["subject"].(string)
}

func (e *env) verifiedTokenResp(sub string) resp {
	e.t.Helper()
	b := tokenBody()
	b["authorizationType"] = "JWT"
	b["customerIdentityToken"] = identityJWT(e.t, jwt.SigningMethodRS256, testKid, testIss, sub, time.Now().Add(5*time.Minute))
	return e.call("POST", "/iamessage/api/v2/authorization/authenticated/access-token", "", "", b)
}

func (e *env) verifiedToken(sub string) string {
	e.t.Helper()
	r := e.verifiedTokenResp(sub)
	if r.status != 200 {
		e.t.Fatalf("verified token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["accessToken"].(string)
}

func (e *env) createConversation(token string, attrs map[string]string) string {
	e.t.Helper()
	id := uuid.NewString()
	r := e.api("POST", "/conversation", token, map[string]any{"conversationId": id, "esDeveloperName": testDeploy, "routingAttributes": attrs, "language": "en_US"})
	if r.status != 201 {
		e.t.Fatalf("create conversation: %d %s", r.status, r.body)
	}
	return id
}

func textMessage(id, text string) map[string]any {
	return map[string]any{"message": map[string]any{"id": id, "messageType": "StaticContentMessage",
		"staticContent": map[string]any{"formatType": "Text", "text": text}}, "esDeveloperName": testDeploy}
}

func (e *env) sendText(token, convID, text string) resp {
	e.t.Helper()
	return e.api("POST", "/conversation/"+convID+"/message", token, textMessage(uuid.NewString(), text))
}

// event is one parsed SSE event.
type event struct {
	Name, ID string
	Data     string
}

// envelope decodes the data envelope and the string entryPayload.
func (ev event) envelope(t *testing.T) (conv string, entry map[string]any, payload map[string]any) {
	t.Helper()
	var d struct {
		ConversationID    string         `json:"conversationId"`
		ConversationEntry map[string]any `json:"conversationEntry"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		t.Fatalf("event %s data is not JSON: %v", ev.Name, err)
	}
	ps, ok := d.ConversationEntry["entryPayload"].(string)
	if !ok {
		t.Fatalf("event %s: entryPayload is %T, want a JSON string", ev.Name, d.ConversationEntry["entryPayload"])
	}
	if err := json.Unmarshal([]byte(ps), &payload); err != nil {
		t.Fatalf("event %s: entryPayload string is not JSON: %v", ev.Name, err)
	}
	return d.ConversationID, d.ConversationEntry, payload
}

// stream is an open SSE connection read by a goroutine.
type stream struct {
	t      *testing.T
	status int
	events chan event
	done   chan struct{} // closed when the body ends
	cancel context.CancelFunc
}

// openStream connects to the SSE endpoint; lastID is sent as Last-Event-ID
// with the given header spelling when non-empty.
func (e *env) openStream(token, lastIDHeader, lastID string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/eventrouter/v1/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Org-Id", testOrg)
	if lastID != "" {
		req.Header[lastIDHeader] = []string{lastID} // raw spelling, not canonicalised
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	st := &stream{t: e.t, status: res.StatusCode, events: make(chan event, 1000), done: make(chan struct{}), cancel: cancel}
	e.t.Cleanup(cancel)
	if res.StatusCode != 200 {
		res.Body.Close()
		close(st.done)
		return st
	}
	go func() {
		defer close(st.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.Name != "" || cur.Data != "" {
					st.events <- cur
				}
				cur = event{}
			case strings.HasPrefix(line, "event: "):
				cur.Name = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				cur.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				cur.Data = line[len("data: "):]
			default:
				st.events <- event{Name: "!malformed", Data: line}
			}
		}
	}()
	return st
}

// next returns the next non-ping event.
func (st *stream) next() event {
	st.t.Helper()
	deadline := time.After(waitLong)
	for {
		select {
		case ev := <-st.events:
			if ev.Name == "ping" {
				continue
			}
			if ev.Name == "!malformed" {
				st.t.Fatalf("malformed SSE line %q", ev.Data)
			}
			return ev
		case <-st.done:
			// Drain what was read before the end.
			select {
			case ev := <-st.events:
				if ev.Name != "ping" {
					return ev
				}
				continue
			default:
			}
			st.t.Fatal("stream ended while waiting for an event")
		case <-deadline:
			st.t.Fatal("timed out waiting for an SSE event")
		}
	}
}

// expect reads the next events and checks their names in order.
func (st *stream) expect(names ...string) []event {
	st.t.Helper()
	out := make([]event, 0, len(names))
	for i, n := range names {
		ev := st.next()
		if ev.Name != n {
			st.t.Fatalf("event %d: got %s, want %s (wanted sequence %v)", i, ev.Name, n, names)
		}
		out = append(out, ev)
	}
	return out
}

// waitEnd waits for the server to end the stream.
func (st *stream) waitEnd() {
	st.t.Helper()
	select {
	case <-st.done:
	case <-time.After(waitLong):
		st.t.Fatal("stream did not end")
	}
}

// quiet asserts no non-ping event arrives within d (used only to check absence).
func (st *stream) quiet(d time.Duration) {
	st.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-st.events:
			if ev.Name != "ping" {
				st.t.Fatalf("unexpected event %s %s", ev.Name, ev.Data)
			}
		case <-deadline:
			return
		}
	}
}

// eventually polls cond until true or fails.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
