package emulator

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleBusinessHoursToggle drives the console's business-hours toggle
// in headless Chromium: closing makes the business-hours endpoint answer no
// window, opening brings the default window back, and the page shows which.
func TestConsoleBusinessHoursToggle(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium binary found and REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium binary found (install Debian package chromium, or set CHROMIUM_BIN)")
	}
	e := newEnv(t, nil)
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
		if err := chromedp.Do(sctx, chromedp.WaitVisible(chromedp.ID(id)), chromedp.Click(chromedp.ID(id))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	shows := func(state string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		expr := `document.getElementById("hours-state").textContent === "` + state + `"`
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			t.Fatalf("page shows %s: %v", state, err)
		}
	}

	shows("open")
	click("close", "hours-toggle")
	shows("closed")
	if _, _, ws := e.hoursAnswer(); len(ws) != 0 || e.s.BusinessHours().Open {
		t.Fatalf("closed in the page, endpoint answers %+v", ws)
	}
	click("open", "hours-toggle")
	shows("open")
	if _, _, ws := e.hoursAnswer(); len(ws) != 1 || !e.s.BusinessHours().Open {
		t.Fatalf("opened in the page, endpoint answers %+v", ws)
	}
	// A change made elsewhere (control API, tests) reaches the page.
	e.s.SetBusinessHoursOpen(false)
	shows("closed")
}
