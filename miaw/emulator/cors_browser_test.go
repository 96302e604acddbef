package emulator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserClientPage makes, from its own origin, the cross-origin calls
// Salesforce's sample web app makes (src/services/messagingService.js and
// eventSourceService.js): the guest access token with Content-Type only,
// create conversation and send message with fetch and Authorization (no
// X-Org-Id), and the SSE stream read with fetch streaming (what its
// EventSource polyfill does) carrying Authorization, X-Org-ID and
// Last-Event-ID. It reports each step to its own server at /report.
const browserClientPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>MIAW browser client</title></head><body>
<pre id="log"></pre>
<script>
const base = "EMULATOR_BASE", orgId = "ORG_ID", deployment = "DEPLOYMENT";
const log = (s) => { document.getElementById("log").textContent += s + "\n"; };
const report = (step, detail) => fetch("/report", {method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({step, detail})});
async function readStream(resp) {
  const reader = resp.body.getReader(), dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) { await report("error", "stream ended"); return; }
    buf += dec.decode(value, {stream: true});
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, i); buf = buf.slice(i + 2);
      let name = "", data = "";
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (name !== "CONVERSATION_MESSAGE") continue;
      const entry = JSON.parse(data).conversationEntry;
      const payload = JSON.parse(entry.entryPayload); // a JSON string on the stream
      if (entry.sender.role === "Agent") {
        await report("agent", payload.abstractMessage.staticContent.text);
        return;
      }
    }
  }
}
async function main() {
  const tokResp = await fetch(base + "/iamessage/api/v2/authorization/unauthenticated/access-token", {
    method: "POST", mode: "cors", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({orgId, esDeveloperName: deployment, capabilitiesVersion: "1", platform: "Web"})});
  if (!tokResp.ok) throw new Error("token: " + tokResp.status);
  const tok = await tokResp.json();
  const auth = {"Content-Type": "application/json", "Authorization": "Bearer " + tok.accessToken};
  const conversationId = crypto.randomUUID();
  const created = await fetch(base + "/iamessage/api/v2/conversation", {method: "POST", mode: "cors", headers: auth,
    body: JSON.stringify({routingAttributes: {Topic: "browser"}, esDeveloperName: deployment, conversationId})});
  if (!created.ok) throw new Error("create conversation: " + created.status);
  const stream = await fetch(base + "/eventrouter/v1/sse?_ts=" + Date.now(), {mode: "cors", headers: {
    "Authorization": "Bearer " + tok.accessToken, "X-Org-ID": orgId, "Last-Event-ID": tok.lastEventId,
    "Cache-Control": "no-cache", "Accept": "text/event-stream"}});
  if (!stream.ok) throw new Error("stream: " + stream.status);
  readStream(stream).catch((e) => report("error", "stream: " + e));
  const sent = await fetch(base + "/iamessage/api/v2/conversation/" + conversationId + "/message", {method: "POST", mode: "cors",
    headers: auth, body: JSON.stringify({message: {id: crypto.randomUUID(), messageType: "StaticContentMessage",
      staticContent: {formatType: "Text", text: "hello from the browser"}}, esDeveloperName: deployment})});
  if (sent.status !== 202) throw new Error("send message: " + sent.status);
  log("ready " + conversationId);
  await report("ready", conversationId);
}
main().catch((e) => { log("error " + e); report("error", String(e)); });
</script></body></html>`

// TestBrowserClientCrossOrigin runs a page from another origin in headless
// Chromium against the emulator over HTTPS at a *.my.salesforce-scrt.com
// name (mapped to loopback; the self-signed certificate accepted): the
// preflights, the Authorization-only REST calls and the streamed SSE with
// Last-Event-ID all pass CORS, and the page reads the agent's message.
func TestBrowserClientCrossOrigin(t *testing.T) {
	if testing.Short() && os.Getenv("REQUIRE_BROWSER") != "1" {
		t.Skip("starts a browser")
	}
	bin := findChromium()
	if bin == "" {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium binary found and REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium binary found (install Debian package chromium, or set CHROMIUM_BIN)")
	}

	// The page's own origin, which also collects its reports.
	reports := make(chan struct{ Step, Detail string }, 10)
	var pageBody string
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, pageBody)
		case "/report":
			var rep struct{ Step, Detail string }
			if err := json.NewDecoder(r.Body).Decode(&rep); err == nil {
				reports <- rep
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(page.Close)

	cert, _, err := SelfSignedCert([]string{"*.my.salesforce-scrt.com", "localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{
		TLS:         &tls.Config{Certificates: []tls.Certificate{cert}},
		CORSOrigins: []string{page.URL},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "https://"))
	const host = "acme-dev.my.salesforce-scrt.com"
	pageBody = strings.NewReplacer("EMULATOR_BASE", "https://"+host+":"+port, "ORG_ID", testOrg, "DEPLOYMENT", testDeploy).Replace(browserClientPage)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP *.salesforce-scrt.com 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/")); err != nil {
		t.Fatalf("start chromium / open the page: %v", err)
	}
	next := func(want string) string {
		t.Helper()
		select {
		case rep := <-reports:
			if rep.Step != want {
				t.Fatalf("page reported %s %q, want %s", rep.Step, rep.Detail, want)
			}
			return rep.Detail
		case <-time.After(60 * time.Second):
			lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
			text, _ := chromedp.Run(lctx, chromedp.Evaluate[string](`document.getElementById("log").textContent`))
			lcancel()
			t.Fatalf("no %s report from the page within 60s; page log: %q", want, text)
			return ""
		}
	}

	conv := next("ready")
	tr := s.Transcript(conv)
	if len(tr) == 0 || tr[len(tr)-1].Text != "hello from the browser" {
		t.Fatalf("the page's message did not reach the conversation: %+v", tr)
	}
	if err := s.Accept(conv, "Browser Test Agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AgentSend(conv, "hello from the agent"); err != nil {
		t.Fatal(err)
	}
	if got := next("agent"); got != "hello from the agent" {
		t.Fatalf("the page read %q from the stream", got)
	}
}
