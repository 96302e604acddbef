package emulator

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleImportedHistory drives the console in headless Chromium: a
// conversation's imported bot history shows before the live chat with each
// sender's name, and the refusal checkbox flips the Conversation History
// API's switch both ways.
func TestConsoleImportedHistory(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium binary found and REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium binary found (install Debian package chromium, or set CHROMIUM_BIN)")
	}
	e := newHistoryEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	if r := e.sendText(tok, conv, "live message after the handoff"); r.status != 202 {
		t.Fatal(r.status)
	}
	handoff := time.Now().Add(-time.Minute)
	if r := e.upload(historyHeaders(e.oauthToken()), e.historyBody(conv, handoff,
		histEntry("b2", "Chatbot", "bridge-assistant", "Bot answer before handoff", handoff.Add(-time.Minute)),
		histEntry("b1", "EndUser", "user-1", "User question to the bot", handoff.Add(-2*time.Minute)))); r.status != 202 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/emulator/console")); err != nil {
		t.Fatalf("start chromium / open console: %v", err)
	}
	click := func(name, id string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		// One step in the page: the conversation rows are rebuilt every
		// second, so a node found first may be gone when a click comes.
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](clickWhenReady(id), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	waitJS := func(name, expr string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	click("open the conversation", "open-"+conv)
	// Heading, the two imported entries oldest first with their senders,
	// the live-chat heading, then the live message.
	waitJS("imported history before the live chat", `(() => {
		const items = [...document.querySelectorAll("#transcript li")];
		const at = (f) => items.findIndex(f);
		const heading = at(li => li.id === "history-heading" && li.textContent.includes("before the handoff"));
		const q = at(li => li.classList.contains("imported") && li.textContent.includes("Ann") && li.textContent.includes("User question to the bot"));
		const a = at(li => li.classList.contains("imported") && li.textContent.includes("Assistant") && li.textContent.includes("Bot answer before handoff"));
		const live = at(li => li.id === "live-heading");
		const msg = at(li => li.classList.contains("role-EndUser") && li.textContent.includes("live message after the handoff"));
		return heading === 0 && heading < q && q < a && a < live && live < msg;
	})()`)

	waitJS("switch shown as accepting", `document.getElementById("history-refused").dataset.refused === "false"`)
	click("refuse", "history-refused")
	eventually(t, "refusal switched on from the page", e.s.ConversationHistoryRefused)
	waitJS("switch shown as refusing", `document.getElementById("history-refused").dataset.refused === "true"`)
	click("accept again", "history-refused")
	eventually(t, "refusal switched off from the page", func() bool { return !e.s.ConversationHistoryRefused() })
	// A change made elsewhere reaches the page.
	e.s.SetConversationHistoryRefused(true)
	waitJS("page follows the Go switch", `document.getElementById("history-refused").dataset.refused === "true"`)
}
