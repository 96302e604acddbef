package emulator

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

const hoursPath = "/embeddedservice/v1/businesshours?orgId=" + testOrg + "&esConfigName=" + testDeploy

// hoursAnswer decodes the Salesforce-shaped answer of the business-hours endpoint.
func (e *env) hoursAnswer() (name string, active bool, windows []BusinessHoursWindow) {
	e.t.Helper()
	r := e.call("GET", hoursPath, "", "", nil)
	if r.status != 200 {
		e.t.Fatalf("business hours: %d %s", r.status, r.body)
	}
	var out struct {
		BusinessHoursInfo struct {
			Name          string                `json:"name"`
			IsActive      bool                  `json:"isActive"`
			BusinessHours []BusinessHoursWindow `json:"businessHours"`
		} `json:"businessHoursInfo"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		e.t.Fatalf("business hours body %s: %v", r.body, err)
	}
	i := out.BusinessHoursInfo
	return i.Name, i.IsActive, i.BusinessHours
}

// By default the deployment is open: one window around now. Closed answers
// no window; explicit windows are answered as set, past ones left out.
func TestBusinessHoursFollowTheSetting(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	name, active, ws := e.hoursAnswer()
	if name == "" || !active || len(ws) != 1 || ws[0].StartTime > now.UnixMilli() || ws[0].EndTime <= now.UnixMilli() {
		t.Fatalf("default: %q %v %+v", name, active, ws)
	}

	e.s.SetBusinessHoursOpen(false)
	if _, active, ws := e.hoursAnswer(); !active || len(ws) != 0 {
		t.Fatalf("closed: %v %+v", active, ws)
	}
	if st := e.s.BusinessHours(); st.Open || !st.Scheduled {
		t.Fatalf("closed state: %+v", st)
	}

	past := miaw.TimeWindow{Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour)}
	soon := miaw.TimeWindow{Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)}
	e.s.SetBusinessHours([]miaw.TimeWindow{soon, past, {Start: now, End: now}})
	_, _, ws = e.hoursAnswer()
	if len(ws) != 1 || ws[0].StartTime != soon.Start.UnixMilli() || ws[0].EndTime != soon.End.UnixMilli() {
		t.Fatalf("scheduled: %+v", ws)
	}
	if e.s.BusinessHours().Open {
		t.Fatal("open before the window starts")
	}

	e.s.SetBusinessHoursOpen(true)
	if st := e.s.BusinessHours(); !st.Open || st.Scheduled {
		t.Fatalf("reopened: %+v", st)
	}
}

// The control API reads and sets the business hours; bad bodies are 400.
func TestBusinessHoursControlAPI(t *testing.T) {
	e := newEnv(t, nil)
	const p = "/emulator/v1/businesshours"
	var st BusinessHoursState
	r := e.call("POST", p, "", "", map[string]any{"open": false})
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || st.Open || len(st.Windows) != 0 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if _, _, ws := e.hoursAnswer(); len(ws) != 0 {
		t.Fatalf("endpoint after close: %+v", ws)
	}
	now := time.Now()
	win := BusinessHoursWindow{StartTime: now.Add(-time.Minute).UnixMilli(), EndTime: now.Add(time.Hour).UnixMilli()}
	r = e.call("POST", p, "", "", map[string]any{"windows": []BusinessHoursWindow{win}})
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || !st.Open || len(st.Windows) != 1 || st.Windows[0] != win {
		t.Fatalf("windows: %d %s", r.status, r.body)
	}
	r = e.call("GET", p, "", "", nil)
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || !st.Open || !st.Scheduled {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	for name, body := range map[string]any{
		"neither":  map[string]any{},
		"both":     map[string]any{"open": true, "windows": []BusinessHoursWindow{}},
		"backward": map[string]any{"windows": []BusinessHoursWindow{{StartTime: 2000, EndTime: 1000}}},
		"not json": "open",
	} {
		if r := e.call("POST", p, "", "", body); r.status != 400 || r.errMessage(t) == "" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.call("POST", p, "", "", map[string]any{"open": true}); r.status != 200 {
		t.Fatalf("open: %d", r.status)
	}
	if !e.s.BusinessHours().Open {
		t.Fatal("not open again")
	}
}

// Business hours are kept per deployment name (esConfigName): the
// configured deployment's stay as they were, another name answers its own
// once given hours, and a name never given hours answers 400.
func TestBusinessHoursPerDeployment(t *testing.T) {
	e := newEnv(t, nil)
	const other = "Other_Deployment"
	otherPath := "/embeddedservice/v1/businesshours?orgId=" + testOrg + "&esConfigName=" + other
	if r := e.call("GET", otherPath, "", "", nil); r.status != 400 || r.errMessage(t) == "" {
		t.Fatalf("unknown deployment: %d %s", r.status, r.body)
	}
	if _, known := e.s.BusinessHoursFor(other); known {
		t.Fatal("unknown deployment reported known")
	}
	if r := e.call("GET", "/embeddedservice/v1/businesshours?orgId="+testOrg, "", "", nil); r.status != 400 {
		t.Fatalf("no esConfigName: %d", r.status)
	}

	now := time.Now()
	soon := miaw.TimeWindow{Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)}
	e.s.SetBusinessHoursFor(other, []miaw.TimeWindow{soon})
	r := e.call("GET", otherPath, "", "", nil)
	var out struct {
		BusinessHoursInfo struct {
			BusinessHours []BusinessHoursWindow `json:"businessHours"`
		} `json:"businessHoursInfo"`
	}
	if err := json.Unmarshal(r.body, &out); r.status != 200 || err != nil || len(out.BusinessHoursInfo.BusinessHours) != 1 ||
		out.BusinessHoursInfo.BusinessHours[0].StartTime != soon.Start.UnixMilli() {
		t.Fatalf("other deployment: %d %s", r.status, r.body)
	}
	if st := e.s.BusinessHours(); !st.Open || st.Scheduled || st.Deployment != testDeploy {
		t.Fatalf("the configured deployment changed: %+v", st)
	}

	// "" and the configured name are the same deployment as the old API.
	e.s.SetBusinessHoursOpenFor("", false)
	if _, _, ws := e.hoursAnswer(); len(ws) != 0 {
		t.Fatalf("closed with \"\": %+v", ws)
	}
	e.s.SetBusinessHoursOpenFor(testDeploy, true)
	if st := e.s.BusinessHours(); !st.Open {
		t.Fatalf("reopened by name: %+v", st)
	}
	if st, known := e.s.BusinessHoursFor(other); !known || st.Open || len(st.Windows) != 1 {
		t.Fatalf("other deployment after changing the configured one: %+v %v", st, known)
	}
	e.s.SetBusinessHoursOpenFor(other, true)
	if st, _ := e.s.BusinessHoursFor(other); !st.Open || st.Scheduled {
		t.Fatalf("other reopened: %+v", st)
	}
}

// The control API's "deployment" field (POST) and ?deployment= (GET).
func TestBusinessHoursControlAPIPerDeployment(t *testing.T) {
	e := newEnv(t, nil)
	const p = "/emulator/v1/businesshours"
	if r := e.call("GET", p+"?deployment=Other_Deployment", "", "", nil); r.status != 404 || r.errMessage(t) == "" {
		t.Fatalf("get unknown: %d %s", r.status, r.body)
	}
	var st BusinessHoursState
	r := e.call("POST", p, "", "", map[string]any{"deployment": "Other_Deployment", "open": false})
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || st.Deployment != "Other_Deployment" || st.Open || !st.Scheduled {
		t.Fatalf("close other: %d %s", r.status, r.body)
	}
	r = e.call("GET", p+"?deployment=Other_Deployment", "", "", nil)
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || st.Open {
		t.Fatalf("get other: %d %s", r.status, r.body)
	}
	r = e.call("GET", p, "", "", nil)
	if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil || !st.Open || st.Deployment != testDeploy {
		t.Fatalf("get default: %d %s", r.status, r.body)
	}
	if _, _, ws := e.hoursAnswer(); len(ws) != 1 {
		t.Fatalf("the configured deployment changed: %+v", ws)
	}
}
