package emulator

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/liveagent-bridge/liveagent/miaw"
)

func TestFaultDropStreamEvery(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Faults.DropStreamEvery = 2 })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	e.createConversation(tok, nil) // 3 events
	evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged)
	st.waitEnd()
	// Resuming from the last id delivers the rest, then drops again after 2.
	st2 := e.openStream(tok, "Last-Event-ID", evs[1].ID)
	st2.expect(miaw.EventQueuePosition)
	if got := e.s.Stats().FaultDrops; got != 1 {
		t.Fatalf("FaultDrops = %d, want 1", got)
	}
}

func TestFaultDuplicateEvents(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Faults.DuplicateRate = 1 })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	e.createConversation(tok, nil)
	evs := st.expect(miaw.EventRoutingResult, miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventSessionStatusChanged)
	if evs[0].ID != evs[1].ID || evs[0].Data != evs[1].Data || evs[2].ID != evs[3].ID {
		t.Fatal("duplicates must repeat the same event")
	}
	if e.s.Stats().FaultDuplicates < 2 {
		t.Fatalf("stats %+v", e.s.Stats())
	}
}

func TestFaultErrorsAndThrottling(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Faults.ErrorRate = 1 })
	r := e.call("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", "", "", tokenBody())
	if r.status != 503 || r.errMessage(t) == "" {
		t.Fatalf("error fault: %d %s", r.status, r.body)
	}
	// The control API is never faulted.
	if r := e.call("GET", "/emulator/v1/conversations", "", "", nil); r.status != 200 {
		t.Fatalf("control API faulted: %d", r.status)
	}

	e2 := newEnv(t, func(c *Config) { c.Faults.ThrottleRate = 1; c.Faults.ThrottleBurst = 3 })
	for i := range 3 {
		r := e2.call("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", "", "", tokenBody())
		if r.status != 429 || r.header.Get("Retry-After") != "1" {
			t.Fatalf("call %d: %d Retry-After=%q", i, r.status, r.header.Get("Retry-After"))
		}
	}
	if got := e2.s.Stats().FaultThrottled; got != 3 {
		t.Fatalf("FaultThrottled = %d", got)
	}

	// A fractional rate with a fixed seed is reproducible and hits some, not all, calls.
	count := func() (n int) {
		e3 := newEnv(t, func(c *Config) { c.Faults.ErrorRate = 0.5; c.Faults.Seed = 42 })
		for range 40 {
			if e3.call("GET", "/iamessage/api/v2/conversation/list", "", testOrg, nil).status == 503 {
				n++
			}
		}
		if int64(n) != e3.s.Stats().FaultErrors {
			t.Fatalf("stats %d vs observed %d", e3.s.Stats().FaultErrors, n)
		}
		return n
	}
	a, b := count(), count()
	if a != b || a == 0 || a == 40 {
		t.Fatalf("seeded error counts %d and %d", a, b)
	}
}

func TestFaultEarlyTokenExpiryAndDelay(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.TokenTTL = time.Hour
		c.Faults.TokenTTL = 2 * time.Second
		c.Faults.EventDelay = 20 * time.Millisecond
	})
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if got := e.s.Stats().FaultDelays; got < 3 {
		t.Fatalf("FaultDelays = %d", got)
	}
	st.waitEnd() // well before the configured hour
	if r := e.api("GET", "/conversation/list", tok, nil); r.status != 401 || r.errMessage(t) != "Jwt is expired" {
		t.Fatalf("after early expiry: %d %s", r.status, r.body)
	}
}

// With TokenTTLOnce the early expiry hits each user's first token only.
func TestFaultEarlyTokenExpiryOncePerUser(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.TokenTTL = time.Hour
		c.Faults.TokenTTL = 2 * time.Second
		c.Faults.TokenTTLOnce = true
	})
	first := e.verifiedToken("once@example.com")
	second := e.verifiedToken("once@example.com")
	other := e.verifiedToken("other@example.com")
	expiry := func(tok string) time.Duration {
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
			t.Fatal(err)
		}
		exp, err := claims.GetExpirationTime()
		if err != nil || exp == nil {
			t.Fatalf("token has no exp: %v", err)
		}
		return time.Until(exp.Time)
	}
	if d := expiry(first); d > 3*time.Second {
		t.Errorf("first token lives %s, want the early expiry", d)
	}
	if d := expiry(second); d < 50*time.Minute {
		t.Errorf("second token lives %s, want the configured hour", d)
	}
	if d := expiry(other); d > 3*time.Second {
		t.Errorf("another user's first token lives %s, want the early expiry", d)
	}
}
