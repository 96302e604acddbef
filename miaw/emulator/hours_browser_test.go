package emulator

import (
	"strconv"
	"testing"
	"time"
)

// TestConsoleBusinessHoursToggle drives the console's business-hours
// controls in one headless Chromium: the toggle (closing makes the
// business-hours endpoint answer no window, opening brings the default window
// back, and the page shows which) and the schedule editor (windows set in the
// page are what the endpoint answers, and the page lists them).
func TestConsoleBusinessHoursToggle(t *testing.T) {
	e := newEnv(t, nil)
	page := openConsole(t, e.url)

	t.Run("toggle", func(t *testing.T) {
		p := page.on(t)
		shows := func(state string) {
			t.Helper()
			p.waitJS("page shows "+state, `document.getElementById("hours-state").textContent === "`+state+`"`)
		}
		shows("open")
		p.click("close", "hours-toggle")
		shows("closed")
		if _, _, ws := e.hoursAnswer(); len(ws) != 0 || e.s.BusinessHours().Open {
			t.Fatalf("closed in the page, endpoint answers %+v", ws)
		}
		p.click("open", "hours-toggle")
		shows("open")
		if _, _, ws := e.hoursAnswer(); len(ws) != 1 || !e.s.BusinessHours().Open {
			t.Fatalf("opened in the page, endpoint answers %+v", ws)
		}
		// A change made elsewhere (control API, tests) reaches the page.
		e.s.SetBusinessHoursOpen(false)
		shows("closed")
	})

	t.Run("schedule editor", func(t *testing.T) {
		p := page.on(t)
		// The page runs in UTC (openConsole); inputs take minutes.
		now := time.Now().UTC().Truncate(time.Minute)
		open := BusinessHoursWindow{StartTime: now.Add(-time.Hour).UnixMilli(), EndTime: now.Add(2 * time.Hour).UnixMilli()}
		later := BusinessHoursWindow{StartTime: now.Add(24 * time.Hour).UnixMilli(), EndTime: now.Add(30 * time.Hour).UnixMilli()}
		input := func(ms int64) string { return strconv.Quote(time.UnixMilli(ms).UTC().Format("2006-01-02T15:04")) }
		fill := func(row int, w BusinessHoursWindow) {
			t.Helper()
			p.eval("fill window "+strconv.Itoa(row), `(() => {
				const tr = document.querySelectorAll("#hours-rows tr.hours-row")[`+strconv.Itoa(row)+`];
				tr.querySelector(".hours-start").value = `+input(w.StartTime)+`;
				tr.querySelector(".hours-end").value = `+input(w.EndTime)+`;
				return "";
			})()`)
		}
		answers := func(want ...BusinessHoursWindow) {
			t.Helper()
			eventually(t, "the schedule set from the page", func() bool {
				st := e.s.BusinessHours()
				return st.Scheduled && len(st.Windows) == len(want)
			})
			if _, _, ws := e.hoursAnswer(); len(ws) != len(want) || ws[0] != want[0] || ws[len(ws)-1] != want[len(want)-1] {
				t.Fatalf("endpoint answers %+v, want %+v", ws, want)
			}
			p.waitJS("page lists the windows", `(() => {
				const li = [...document.querySelectorAll("#hours-current li.hours-window")];
				return li.length === `+strconv.Itoa(len(want))+` && li[0].dataset.start === "`+strconv.FormatInt(want[0].StartTime, 10)+`" &&
					li[0].dataset.end === "`+strconv.FormatInt(want[0].EndTime, 10)+`";
			})()`)
		}

		fill(0, open)
		p.click("add a window", "hours-add-row")
		fill(1, later)
		p.click("set schedule", "hours-set")
		answers(open, later)
		if !e.s.BusinessHours().Open {
			t.Fatal("not open within the first window")
		}

		// Remove the second row: the schedule set again has one window.
		p.eval("remove window 2", `(() => { document.querySelectorAll("#hours-rows .hours-remove")[1].click(); return ""; })()`)
		p.click("set schedule again", "hours-set")
		eventually(t, "one window", func() bool { return len(e.s.BusinessHours().Windows) == 1 })
		answers(open)
	})
}
