package emulator

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/liveagent-bridge/liveagent/miaw"
)

// consolePage is the agent console open in a headless Chromium that one test
// starts and shares between its subtests (on(t) binds a subtest).
type consolePage struct {
	t   *testing.T
	ctx context.Context
}

// openConsole starts Chromium (skipping the test without one, as the other
// browser tests do) and opens the console of the emulator at baseURL. The
// page runs in UTC, so the test and the page agree on what a date-time
// input's local time means.
func openConsole(t *testing.T, baseURL string) *consolePage {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium binary found and REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium binary found (install Debian package chromium, or set CHROMIUM_BIN)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel) // runs before cancelAlloc
	utc := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"})
		return err
	})
	// Start the browser on a context without a timeout; each step is bounded.
	if err := chromedp.Do(ctx, utc, chromedp.Navigate(baseURL+"/emulator/console")); err != nil {
		t.Fatalf("start chromium / open console: %v", err)
	}
	return &consolePage{t: t, ctx: ctx}
}

func (p *consolePage) on(t *testing.T) *consolePage { return &consolePage{t: t, ctx: p.ctx} }

// do runs actions within a deadline.
func (p *consolePage) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
}

// click waits for the element with id and clicks it, in one step in the
// page: the conversation rows are rebuilt every second, so a node found
// first may be gone when a separate click comes.
func (p *consolePage) click(name, id string) {
	p.t.Helper()
	p.waitJS(name, clickWhenReady(id))
}

// clickWhenReady is a JavaScript expression for chromedp.Poll that clicks
// the element with id once it is visible and enabled, and is then true.
func clickWhenReady(id string) string {
	return `(() => { const el = document.getElementById(` + strconv.Quote(id) + `);
		if (!el || el.disabled || el.offsetParent === null) { return false; }
		el.click();
		return true; })()`
}

// waitJS polls a JavaScript expression until it is true.
func (p *consolePage) waitJS(name, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
}

// eval evaluates a JavaScript expression (promises awaited).
func (p *consolePage) eval(name, expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestConsoleControls drives the console's per-conversation controls and the
// silent-routing switch in one headless Chromium, asserting each effect on
// the end user's SSE stream or the Go API, and that a file the end user sent
// shows in the transcript as a working attachment link.
func TestConsoleControls(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	page := openConsole(t, e.url)
	// accepted creates a conversation and accepts it from the Go API.
	accepted := func(t *testing.T, agent string) string {
		t.Helper()
		conv := e.createConversation(tok, nil)
		st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
		if err := e.s.Accept(conv, agent); err != nil {
			t.Fatal(err)
		}
		st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
		return conv
	}
	var late string // a conversation with an agent, for the attachment

	t.Run("fail transfer", func(t *testing.T) {
		conv := accepted(t, "Ann")
		page.on(t).click("fail transfer", "fail-transfer-"+conv)
		evs := st.expect(miaw.EventParticipantChanged, miaw.EventRoutingResult)
		if _, _, p := evs[1].envelope(t); p["failureType"] != "RoutingError" {
			t.Fatalf("routing result %v", p)
		}
		if info, _ := e.s.Conversation(conv); info.State != StateWaiting || info.Agent != "" {
			t.Fatalf("after fail transfer: %+v", info)
		}
	})

	t.Run("stalled transfer and a late agent", func(t *testing.T) {
		p := page.on(t)
		conv := accepted(t, "Ann")
		p.click("stall transfer", "stall-transfer-"+conv)
		st.expect(miaw.EventParticipantChanged)
		if info, _ := e.s.Conversation(conv); info.State != StateActive || info.Agent != "" || info.RoutingStatus != RoutingTransfer {
			t.Fatalf("after stall: %+v", info)
		}
		p.waitJS("late accept offered", `(document.getElementById("accept-`+conv+`") || {}).textContent === "Accept (late agent)"`)
		p.do("agent name", chromedp.SetValue(chromedp.ID("agent-name"), "Late Agent"))
		p.click("late accept", "accept-"+conv)
		evs := st.expect(miaw.EventRoutingResult, miaw.EventRoutingWorkResult, miaw.EventParticipantChanged)
		if _, _, pl := evs[0].envelope(t); pl["routingType"] != "Transfer" {
			t.Fatalf("routing result %v", pl)
		}
		if info, _ := e.s.Conversation(conv); info.Agent != "Late Agent" || info.RoutingStatus != RoutingRouted {
			t.Fatalf("after late accept: %+v", info)
		}
		late = conv
	})

	t.Run("inactive", func(t *testing.T) {
		conv := accepted(t, "Ann")
		page.on(t).click("inactive", "inactive-"+conv)
		evs := st.expect(miaw.EventSessionStatusChanged)
		if _, _, p := evs[0].envelope(t); p["sessionStatus"] != miaw.SessionInactive {
			t.Fatalf("status %v", p)
		}
	})

	t.Run("end-user file in the transcript", func(t *testing.T) {
		if late == "" {
			t.Skip("needs the stalled-transfer conversation")
		}
		p := page.on(t)
		data := []byte("order 1234, line 2 is wrong\n")
		if r := e.sendFile(tok, late, fileEntry(uuid.NewString(), uuid.NewString(), "see attached"), "order-1234.txt", "text/plain", data); r.status != 202 {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
		st.expect(miaw.EventMessage, miaw.EventDeliveryAck)
		p.click("open the conversation", "open-"+late)
		p.waitJS("attachment shown with its name", `[...document.querySelectorAll("#transcript li.role-EndUser a.attachment")].some(a => a.textContent.includes("order-1234.txt"))`)
		// The link works from the page.
		got := p.eval("download from the page", `(async () => {
			const a = [...document.querySelectorAll("#transcript a.attachment")].find(a => a.textContent.includes("order-1234.txt"));
			const res = await fetch(a.href);
			return res.status + " " + await res.text();
		})()`)
		if want := "200 " + string(data); got != want {
			t.Fatalf("download %q, want %q", got, want)
		}
	})

	t.Run("silent routing", func(t *testing.T) {
		p := page.on(t)
		p.click("silence routing", "silent-routing")
		eventually(t, "routing silenced from the page", e.s.silentRouting.Load)
		silent := e.createConversation(tok, nil)
		p.click("routing answers again", "silent-routing")
		eventually(t, "routing answering again", func() bool { return !e.s.silentRouting.Load() })
		// The next events are the new conversation's: the silent one had none.
		answered := e.createConversation(tok, nil)
		for i, ev := range st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition) {
			if conv, _, _ := ev.envelope(t); conv != answered {
				t.Fatalf("event %d is for %s (silent %s, answered %s)", i, conv, silent, answered)
			}
		}
		if info, _ := e.s.Conversation(silent); info.State != StateWaiting {
			t.Fatalf("silent conversation %+v", info)
		}
	})
}
