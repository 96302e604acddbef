package miaw_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// BusinessHours reads the emulator's business hours as set, over real HTTP,
// without minting any access token.
func TestBusinessHoursAgainstEmulator(t *testing.T) {
	env := startEmulator(t, emulator.Config{}, nil)
	ctx := context.Background()

	bh, err := env.client.BusinessHours(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if !bh.Configured || !bh.Active || bh.Name == "" || len(bh.Windows) != 1 ||
		bh.Windows[0].Start.After(now) || !bh.Windows[0].End.After(now) {
		t.Fatalf("default hours: %+v", bh)
	}

	start := now.Add(time.Hour).Truncate(time.Millisecond)
	end := start.Add(8 * time.Hour)
	env.emu.SetBusinessHours([]miaw.TimeWindow{{Start: start, End: end}})
	if bh, err = env.client.BusinessHours(ctx); err != nil {
		t.Fatal(err)
	}
	if len(bh.Windows) != 1 || !bh.Windows[0].Start.Equal(start) || !bh.Windows[0].End.Equal(end) {
		t.Fatalf("scheduled hours: %+v", bh)
	}

	env.emu.SetBusinessHoursOpen(false)
	if bh, err = env.client.BusinessHours(ctx); err != nil || !bh.Active || len(bh.Windows) != 0 {
		t.Fatalf("closed: %+v %v", bh, err)
	}
	if n := env.client.Stats().TokenRequests; n != 0 {
		t.Fatalf("business hours minted %d access tokens", n)
	}
}

// The answer's shapes: no businessHoursInfo (no business hours configured),
// isActive false or absent, empty windows dropped; failures are *miaw.Error.
func TestBusinessHoursShapesAndErrors(t *testing.T) {
	var status int
	var body string
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Path + "?" + r.URL.RawQuery
		if r.Header.Get("Authorization") != "" {
			t.Errorf("business hours sent Authorization")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := miaw.New(miaw.Config{BaseURL: srv.URL, AllowAnyHost: true, OrgID: "00D000000000001AAA",
		DeploymentName: "Live_Agent_Bridge", AuthMode: miaw.AuthGuest}, miaw.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	get := func(st int, b string) (*miaw.BusinessHours, error) {
		status, body = st, b
		return c.BusinessHours(context.Background())
	}

	bh, err := get(200, `{"businessHoursInfo":{"name":"HR hours","isActive":true,"businessHours":[`+
		`{"startTime":1700000000000,"endTime":1700030000000},{"startTime":1700090000000,"endTime":1700090000000}]}}`)
	if err != nil || !bh.Configured || !bh.Active || bh.Name != "HR hours" || len(bh.Windows) != 1 ||
		bh.Windows[0].Start.UnixMilli() != 1700000000000 || bh.Windows[0].End.UnixMilli() != 1700030000000 {
		t.Fatalf("full answer: %+v %v", bh, err)
	}
	if want := "/embeddedservice/v1/businesshours?esConfigName=Live_Agent_Bridge&orgId=00D000000000001"; query != want {
		t.Fatalf("request %s, want %s", query, want)
	}
	if bh, err = get(200, `{"businessHoursInfo":{"isActive":false,"businessHours":[]}}`); err != nil || !bh.Configured || bh.Active {
		t.Fatalf("inactive: %+v %v", bh, err)
	}
	if bh, err = get(200, `{"businessHoursInfo":{"businessHours":[]}}`); err != nil || !bh.Active {
		t.Fatalf("isActive absent: %+v %v", bh, err)
	}
	if bh, err = get(200, `{}`); err != nil || bh.Configured {
		t.Fatalf("no businessHoursInfo: %+v %v", bh, err)
	}

	var me *miaw.Error
	_, err = get(503, `{"message":"Service Unavailable"}`)
	if !errors.As(err, &me) || me.Status != 503 || me.Op != "business hours" || !miaw.IsRetryable(err) {
		t.Fatalf("503: %v", err)
	}
	_, err = get(200, `{"businessHoursInfo":{"businessHours":"soon"}}`)
	if !errors.As(err, &me) || me.Message != "malformed response body" {
		t.Fatalf("malformed: %v", err)
	}
}
