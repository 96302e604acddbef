package emulator

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// TestSSEWireFormat reads the raw bytes of the stream.
func TestSSEWireFormat(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	req, _ := http.NewRequest("GET", e.url+"/eventrouter/v1/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Org-Id", testOrg)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d content-type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	conv := e.createConversation(tok, nil)
	br := bufio.NewReader(res.Body)
	var lines []string
	for len(lines) < 4 {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSuffix(l, "\n"))
	}
	if lines[0] != "event: "+miaw.EventRoutingResult || !strings.HasPrefix(lines[1], "id: ") || !strings.HasPrefix(lines[2], "data: {") || lines[3] != "" {
		t.Fatalf("wire lines %q", lines)
	}
	ev := event{Name: lines[0][7:], ID: lines[1][4:], Data: lines[2][6:]}
	c, entry, _ := ev.envelope(t) // fails unless entryPayload is a JSON string
	if c != conv || entry["identifier"] == "" {
		t.Fatalf("envelope %s", ev.Data)
	}
	for _, k := range []string{`"channelType":"embedded_messaging"`, `"channelAddressIdentifier":`, `"channelPlatformKey":`, `"entryPayload":"{\"`} {
		if !strings.Contains(ev.Data, k) {
			t.Errorf("data lacks %s: %s", k, ev.Data)
		}
	}
}

func TestLastEventIDReplayIsExact(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	for i := range 5 {
		if r := e.sendText(tok, conv, "m"+string(rune('0'+i))); r.status != 202 {
			t.Fatal(r.status)
		}
	}
	all := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition,
		miaw.EventMessage, miaw.EventMessage, miaw.EventMessage, miaw.EventMessage, miaw.EventMessage)
	seen := map[string]bool{}
	for _, ev := range all {
		if ev.ID == "" || seen[ev.ID] {
			t.Fatalf("event ids must be present and unique: %q", ev.ID)
		}
		seen[ev.ID] = true
	}
	st.cancel()

	// The token endpoint reports the newest id.
	if r := e.call("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", "", "", tokenBody()); r.status != 200 {
		t.Fatal(r.status)
	}
	cont := e.api("GET", "/authorization/continuation-access-token", tok, nil).json(t)
	if cont["lastEventId"] != all[len(all)-1].ID {
		t.Fatalf("lastEventId %v, want %s", cont["lastEventId"], all[len(all)-1].ID)
	}

	// Resume after the 4th event, header in lower case: exactly events 5..8.
	for _, header := range []string{"last-event-id", "Last-Event-ID", "LAST-EVENT-ID"} {
		st2 := e.openStream(tok, header, all[3].ID)
		for i := 4; i < len(all); i++ {
			got := st2.next()
			if got.ID != all[i].ID || got.Data != all[i].Data || got.Name != all[i].Name {
				t.Fatalf("%s: replayed event %d = %s %s, want %s", header, i, got.Name, got.ID, all[i].ID)
			}
		}
		// Then live events continue without a gap or a repeat.
		e.sendText(tok, conv, "live")
		if ev := st2.next(); ev.Name != miaw.EventMessage || seen[ev.ID] {
			t.Fatalf("%s: after replay got %s %s", header, ev.Name, ev.ID)
		} else {
			seen[ev.ID] = true
			all = append(all, ev)
		}
		st2.cancel()
	}
	// "0" replays everything kept.
	st3 := e.openStream(tok, "Last-Event-Id", "0")
	for i := range all {
		if got := st3.next(); got.ID != all[i].ID {
			t.Fatalf("from 0: event %d = %s, want %s", i, got.ID, all[i].ID)
		}
	}
	// The newest id replays nothing.
	st4 := e.openStream(tok, "Last-Event-Id", all[len(all)-1].ID)
	st4.quiet(150 * time.Millisecond)
}

func TestReplayBufferIsBounded(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ReplayBuffer = 4 })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	e.sendText(tok, conv, "a")
	e.sendText(tok, conv, "b")
	all := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition, miaw.EventMessage, miaw.EventMessage)
	st2 := e.openStream(tok, "Last-Event-ID", "0")
	for i := 1; i < 5; i++ { // the oldest event fell out of the ring
		if got := st2.next(); got.ID != all[i].ID {
			t.Fatalf("event %d: %s want %s", i, got.ID, all[i].ID)
		}
	}
	st2.quiet(100 * time.Millisecond)
}

// Past Config.ReplayWindow a resume replays nothing and carries on with live
// events, without an error, as the conversation entries list still has
// everything.
func TestReplayWindowExpiresEvents(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ReplayWindow = time.Nanosecond }) // every published event is past it
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	e.sendText(tok, conv, "a")
	all := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition, miaw.EventMessage)
	st.cancel()

	st2 := e.openStream(tok, "Last-Event-ID", all[0].ID)
	e.sendText(tok, conv, "live")
	if ev := st2.next(); ev.Name != miaw.EventMessage || !strings.Contains(ev.Data, "live") {
		t.Fatalf("after an expired resume got %s %s, want the live message", ev.Name, ev.Data)
	}
	if got := e.s.Stats().ReplayExpired; got != 1 {
		t.Fatalf("ReplayExpired = %d, want 1", got)
	}
	entries := e.api("GET", "/conversation/"+conv+"/entries?direction=FromStart", tok, nil).json(t)["conversationEntries"].([]any)
	if len(entries) < 5 {
		t.Fatalf("entries list has %d entries, want the 4 streamed ones and the live message", len(entries))
	}
	// Within the window (none set) the same resume replays exactly.
	e2 := newEnv(t, nil)
	tok2, _ := e2.guestToken()
	st3 := e2.openStream(tok2, "", "")
	e2.createConversation(tok2, nil)
	first := st3.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	st4 := e2.openStream(tok2, "Last-Event-ID", first[0].ID)
	if got := st4.next(); got.ID != first[1].ID {
		t.Fatalf("replayed %s, want %s", got.ID, first[1].ID)
	}
	if got := e2.s.Stats().ReplayExpired; got != 0 {
		t.Fatalf("ReplayExpired = %d within the window", got)
	}
}

func TestPingKeepAlive(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PingInterval = 30 * time.Millisecond })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	deadline := time.After(waitLong)
	pings := 0
	for pings < 2 {
		select {
		case ev := <-st.events:
			if ev.Name != "ping" || ev.ID != "" || ev.Data == "" {
				t.Fatalf("unexpected %+v", ev)
			}
			pings++
		case <-deadline:
			t.Fatal("no ping")
		}
	}
	if e.s.Stats().PingsSent < 2 {
		t.Fatal("pings not counted")
	}
}

func TestPerUserStreams(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.verifiedToken("alice")
	alice2 := e.verifiedToken("alice") // a second token of the same verified user
	bob := e.verifiedToken("bob")
	a1 := e.openStream(alice, "", "")
	a2 := e.openStream(alice2, "", "")
	b := e.openStream(bob, "", "")
	eventually(t, "three subscribers", func() bool { return e.s.Stats().StreamsOpened == 3 })

	c1 := e.createConversation(alice, nil)
	c2 := e.createConversation(alice2, nil)
	for _, st := range []*stream{a1, a2} {
		evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition,
			miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
		if c, _, _ := evs[0].envelope(t); c != c1 {
			t.Fatalf("first conversation %s want %s", c, c1)
		}
		if c, _, _ := evs[3].envelope(t); c != c2 {
			t.Fatalf("second conversation %s want %s", c, c2)
		}
	}
	// Both of alice's conversations are hers under either token.
	if r := e.api("GET", "/conversation/"+c1, alice2, nil); r.status != 200 {
		t.Fatalf("same user, other token: %d", r.status)
	}
	if n := e.s.OpenStreams(c1); n != 2 {
		t.Fatalf("alice's open streams %d, want 2", n)
	}
	b.quiet(150 * time.Millisecond)
	cb := e.createConversation(bob, nil)
	if n := e.s.OpenStreams(cb); n != 1 {
		t.Fatalf("bob's open streams %d, want 1", n)
	}
	evs := b.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if c, _, _ := evs[0].envelope(t); c != cb {
		t.Fatal("bob got another conversation")
	}
	if _, _, p := evs[2].envelope(t); p["position"].(float64) != 3 {
		t.Fatalf("bob's queue position %v, want 3", p["position"])
	}
	b.cancel()
	eventually(t, "bob's stream gone", func() bool { return e.s.OpenStreams(cb) == 0 })
	if n := e.s.OpenStreams(c1); n != 2 {
		t.Fatalf("alice's open streams after bob left %d, want 2", n)
	}
	a1.quiet(150 * time.Millisecond)
	if n := e.s.OpenStreams("no-such-conversation"); n != 0 {
		t.Fatalf("unknown conversation: %d open streams", n)
	}
}

func TestStreamEndsAtTokenExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Faults.TokenTTL = 2 * time.Second })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	if st.status != 200 {
		t.Fatal(st.status)
	}
	st.waitEnd()
	if e.s.Stats().ExpiredStreams != 1 {
		t.Fatalf("stats %+v", e.s.Stats())
	}
	eventually(t, "401 on reconnect", func() bool {
		r := e.call("GET", "/eventrouter/v1/sse", tok, testOrg, nil)
		return r.status == 401 && r.errMessage(t) == "Jwt is expired"
	})
}

func TestRevokeEndsStream(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	eventually(t, "stream open", func() bool { return e.s.Stats().StreamsOpened == 1 })
	if r := e.api("DELETE", "/authorization/authenticated/access-token", tok, nil); r.status != 204 {
		t.Fatal(r.status)
	}
	st.waitEnd()
}

// ExpireTokens ends every open stream at once and answers every older
// token "Jwt is expired"; a token minted afterwards works.
func TestExpireTokensEndsStreamsAndOlderTokens(t *testing.T) {
	e := newEnv(t, nil) // tokens live an hour
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	if st.status != 200 {
		t.Fatal(st.status)
	}
	e.s.ExpireTokens()
	st.waitEnd()
	if got := e.s.Stats().ExpiredStreams; got != 1 {
		t.Fatalf("ExpiredStreams = %d, want 1", got)
	}
	if r := e.api("GET", "/conversation/list", tok, nil); r.status != 401 || r.errMessage(t) != "Jwt is expired" {
		t.Fatalf("older token after ExpireTokens: %d %s", r.status, r.body)
	}
	fresh, _ := e.guestToken()
	if r := e.api("GET", "/conversation/list", fresh, nil); r.status != 200 {
		t.Fatalf("token minted after ExpireTokens: %d %s", r.status, r.body)
	}
}

// StreamOpens tells, per conversation, the user's last stream accepted
// before a moment and the first at or after it: how soon a client came
// back after an outage.
func TestStreamOpensAroundAMoment(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	first := e.openStream(tok, "", "")
	first.cancel()
	time.Sleep(10 * time.Millisecond) // the moment falls strictly between the two opens
	outage := time.Now()
	if o, ok := e.s.StreamOpens(outage)[conv]; !ok || o.Before.IsZero() || !o.After.IsZero() {
		t.Fatalf("before any reconnect: %+v (found %v), want a stream before and none after", o, ok)
	}
	e.openStream(tok, "", "")
	e.openStream(tok, "", "")
	o := e.s.StreamOpens(outage)[conv]
	if o.Before.IsZero() || !o.Before.Before(outage) || o.After.Before(outage) {
		t.Fatalf("after reconnecting: %+v around %v", o, outage)
	}
	if later := e.s.StreamOpens(o.After.Add(time.Nanosecond))[conv]; !later.After.After(o.After) {
		t.Fatalf("the first open after the outage is %v, but one after it is %+v", o.After, later)
	}
	if _, ok := e.s.StreamOpens(outage)["no-such-conversation"]; ok {
		t.Fatal("a conversation nobody opened has stream opens")
	}
}
