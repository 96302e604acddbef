package emulator

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/liveagent-bridge/liveagent/miaw"
)

// findChromium returns a Chromium/Chrome binary, or "" when none is installed.
func findChromium() string {
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestConsolePageInBrowser drives the agent console in headless Chromium: a
// conversation created through the API is accepted in the page, answered, sent
// a file and ended; each action must reach the conversation transcript and the
// end user's SSE stream.
func TestConsolePageInBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium binary found and REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium binary found (install Debian packages chromium and chromium-driver, or set CHROMIUM_BIN)")
	}
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, map[string]string{"Topic": "refund"})
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if r := e.sendText(tok, conv, "hello from the user"); r.status != 202 {
		t.Fatal(r.status)
	}
	st.expect(miaw.EventMessage)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// Start the browser on a context without a timeout, then bound each step.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/emulator/console")); err != nil {
		t.Fatalf("start chromium / open console: %v", err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
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

	step("name the agent", chromedp.SetValue(chromedp.ID("agent-name"), "Browser Agent"))
	// The row's button is clicked in one step in the page: the rows are
	// rebuilt every second, so a node found first may be gone when a click comes.
	waitJS("accept", clickWhenReady("accept-"+conv))
	evs := st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventDeliveryAck)
	if _, _, p := evs[1].envelope(t); p["entries"].([]any)[0].(map[string]any)["displayName"] != "Browser Agent" {
		t.Fatalf("accepted as %v", p)
	}
	waitJS("transcript shows the user message",
		`document.getElementById("transcript").textContent.includes("hello from the user") && !document.getElementById("send-btn").disabled`)

	step("reply",
		chromedp.SendKeys(chromedp.ID("reply-text"), "Hi, this is the browser agent"),
		chromedp.Click(chromedp.ID("send-btn")),
	)
	// The reply reaches the user's stream (after the read ack; typing may come first).
	var reply map[string]any
	for reply == nil {
		ev := st.next()
		if ev.Name != miaw.EventMessage {
			continue
		}
		_, entry, p := ev.envelope(t)
		if entry["sender"].(map[string]any)["role"] != miaw.RoleAgent {
			t.Fatalf("unexpected message %s", ev.Data)
		}
		reply = p
	}
	if got := reply["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["text"]; got != "Hi, this is the browser agent" {
		t.Fatalf("reply text %v", got)
	}
	tr := e.s.Transcript(conv)
	if last := tr[len(tr)-1]; last.Role != miaw.RoleAgent || last.Sender != "Browser Agent" || last.Text != "Hi, this is the browser agent" {
		t.Fatalf("transcript %+v", tr)
	}
	waitJS("reply shown", `[...document.querySelectorAll("#transcript li.role-Agent")].some(li => li.textContent.includes("browser agent"))`)

	// Send a file through the file input.
	path := filepath.Join(t.TempDir(), "steps.txt")
	content := "1. restart\n2. retry\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	step("send file",
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{path}),
		chromedp.Click(chromedp.ID("send-file-btn")),
	)
	var att map[string]any
	for att == nil {
		ev := st.next()
		if ev.Name != miaw.EventMessage {
			continue
		}
		_, _, p := ev.envelope(t)
		sc := p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)
		if sc["formatType"] != miaw.FormatAttachments {
			t.Fatalf("expected an attachment, got %v", sc)
		}
		att = sc["attachments"].([]any)[0].(map[string]any)
	}
	if att["name"] != "steps.txt" || !strings.HasPrefix(att["mimeType"].(string), "text/plain") {
		t.Fatalf("attachment %v", att)
	}
	if dl := e.do(mustReq(t, "GET", att["url"].(string))); dl.status != 200 || string(dl.body) != content {
		t.Fatalf("download %d %q", dl.status, dl.body)
	}

	waitJS("attachment shown", `[...document.querySelectorAll("#transcript a.attachment")].some(a => a.textContent.includes("steps.txt"))`)

	// Quick replies from the console; the user's pick shows in the transcript.
	step("send quick replies",
		chromedp.SendKeys(chromedp.ID("choices-prompt"), "Which team?"),
		chromedp.SendKeys(chromedp.ID("choices-options"), "Billing, Payroll"),
		chromedp.Click(chromedp.ID("send-choices-btn")),
	)
	var choices map[string]any
	for choices == nil {
		ev := st.next()
		if ev.Name != miaw.EventMessage {
			continue
		}
		_, _, p := ev.envelope(t)
		am := p["abstractMessage"].(map[string]any)
		if am["messageType"] != miaw.MessageTypeChoices {
			t.Fatalf("expected a choices message, got %v", am)
		}
		choices = am
	}
	c := choices["choices"].(map[string]any)
	items := c["optionItems"].([]any)
	if c["formatType"] != miaw.FormatQuickReplies || c["text"] != "Which team?" || len(items) != 2 {
		t.Fatalf("choices %v", c)
	}
	payroll := items[1].(map[string]any)["optionIdentifier"].(string)
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, map[string]any{"esDeveloperName": testDeploy,
		"message": map[string]any{"id": uuid.NewString(), "messageType": "ChoicesResponseMessage", "inReplyToMessageId": choices["id"],
			"choicesResponse": map[string]any{"formatType": "Selections", "selectedOptions": []any{map[string]any{"optionIdentifier": payroll}}}}}); r.status != 202 {
		t.Fatalf("choices response: %d %s", r.status, r.body)
	}
	waitJS("options and pick shown", `[...document.querySelectorAll("#transcript li")].some(li => li.textContent.includes("[Billing] [Payroll]")) && `+
		`[...document.querySelectorAll("#transcript li.role-EndUser")].some(li => li.textContent.includes("Payroll (picked "))`)
	step("end chat", chromedp.Click(chromedp.ID("end-btn")))
	for {
		ev := st.next()
		if ev.Name != miaw.EventSessionStatusChanged {
			continue
		}
		if _, _, p := ev.envelope(t); p["sessionStatus"] != miaw.SessionEnded || p["sessionEndedByRole"] != miaw.RoleAgent {
			t.Fatalf("end %v", p)
		}
		break
	}
	waitJS("page shows ended", `document.getElementById("selected-state").textContent === "ended" && document.getElementById("send-btn").disabled`)
}
