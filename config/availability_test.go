package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
)

const availabilityYAML = `
salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Live_Agent_Bridge
  private_key_file: %s
  key_id: bridge-1
  issuer: liveagent-bridge
session:
  topics: [HR, IT access, Payroll]
availability:
  source: salesforce
  offline_message: "We are closed."
  salesforce_cache_ttl: 30s
  schedules:
    - topics: [HR, IT access]
      time_zone: Europe/Berlin
      weekly:
        mon-fri: ["09:00-12:30", "13:30-17:00"]
        Sat: "10:00-14:00"
      holidays: ["2026-12-25"]
    - topics: ["*"]
      time_zone: America/New_York
      weekly:
        mon-sun: [00:00-24:00]
`

// The availability section loads from YAML (day keys in any case, ranges as
// a list or one string), maps to the checker's options and the workflow's
// offline message.
func TestLoadAvailability(t *testing.T) {
	cfg, err := Load(writeFile(t, "a.yaml", fmt.Appendf(nil, availabilityYAML, pkcs1KeyFile(t))))
	require.NoError(t, err)
	a := cfg.Availability
	assert.Equal(t, "salesforce", a.Source)
	assert.Equal(t, 30*time.Second, a.CacheTTL)
	require.Len(t, a.Schedules, 2)
	assert.Equal(t, Schedule{Topics: []string{"HR", "IT access"}, TimeZone: "Europe/Berlin",
		Weekly:   map[string][]string{"mon-fri": {"09:00-12:30", "13:30-17:00"}, "sat": {"10:00-14:00"}},
		Holidays: []string{"2026-12-25"}}, a.Schedules[0])
	assert.Equal(t, "We are closed.", cfg.SessionSettings().OfflineMessage)

	opts, err := cfg.AvailabilityOptions()
	require.NoError(t, err)
	assert.Equal(t, availability.SourceSalesforce, opts.Source)
	assert.Equal(t, 30*time.Second, opts.CacheTTL)
	assert.Len(t, opts.Schedules, 3)
	assert.Same(t, opts.Schedules["HR"], opts.Schedules["IT access"])
	assert.NotNil(t, opts.Schedules[availability.AnyTopic])
	assert.Nil(t, opts.Schedules["Payroll"], "Payroll falls back to *")

	// The redacted copy for logs does not alias the schedules.
	r := cfg.Redacted()
	r.Availability.Schedules[0].Weekly["mon-fri"][0] = "changed"
	assert.Equal(t, "09:00-12:30", cfg.Availability.Schedules[0].Weekly["mon-fri"][0])
}

func TestDefaultAvailabilityIsAlways(t *testing.T) {
	c := validConfig(t)
	require.NoError(t, c.Validate())
	opts, err := c.AvailabilityOptions()
	require.NoError(t, err)
	assert.Equal(t, availability.SourceAlways, opts.Source)
	assert.Equal(t, availability.DefaultCacheTTL, opts.CacheTTL)
	assert.Empty(t, opts.Schedules)
	assert.Empty(t, c.SessionSettings().OfflineMessage, "empty: the built-in text")
}

// Every invalid availability setting fails with one line naming its key.
func TestAvailabilityValidation(t *testing.T) {
	berlin := func(topics ...string) Schedule {
		return Schedule{Topics: topics, TimeZone: "Europe/Berlin", Weekly: map[string][]string{"mon-fri": {"09:00-17:00"}}}
	}
	tests := []struct {
		name    string
		mutate  func(*Availability)
		key     string
		message string
	}{
		{"unknown source", func(a *Availability) { a.Source = "sometimes" }, "availability.source", `got "sometimes"`},
		{"negative ttl", func(a *Availability) { a.CacheTTL = -time.Second }, "availability.salesforce_cache_ttl", "between 0"},
		{"ttl too long", func(a *Availability) { a.CacheTTL = 2 * time.Hour }, "availability.salesforce_cache_ttl", "1h0m0s"},
		{"long message", func(a *Availability) { a.OfflineMessage = string(make([]byte, 5000)) }, "availability.offline_message", "max_message_bytes"},
		{"no topics", func(a *Availability) { a.Schedules = []Schedule{berlin()} }, "availability.schedules", "entry 1: topics must list"},
		{"unknown topic", func(a *Availability) { a.Schedules = []Schedule{berlin("Gardening")} }, "availability.schedules", `topic "Gardening" is not one of session.topics`},
		{"topic twice", func(a *Availability) { a.Schedules = []Schedule{berlin("HR"), berlin("IT", "HR")} }, "availability.schedules", `entry 2: topic "HR" has a schedule already`},
		{"bad zone", func(a *Availability) {
			s := berlin("HR")
			s.TimeZone = "Berlin"
			a.Schedules = []Schedule{s}
		}, "availability.schedules", `entry 1: time_zone: "Berlin" is not an IANA time zone`},
		{"bad range", func(a *Availability) {
			s := berlin("HR")
			s.Weekly = map[string][]string{"mon": {"9am-5pm"}}
			a.Schedules = []Schedule{s}
		}, "availability.schedules", `entry 1: weekly.mon: "9am-5pm"`},
		{"always with weekly hours", func(a *Availability) {
			s := berlin("HR")
			s.Always = true
			a.Schedules = []Schedule{s}
		}, "availability.schedules", "entry 1: weekly: must be empty with always: true"},
		{"always with holidays", func(a *Availability) {
			a.Schedules = []Schedule{{Topics: []string{"HR"}, Always: true, Holidays: []string{"2026-12-25"}}}
		}, "availability.schedules", "entry 1: holidays: must be empty with always: true"},
		{"always without topics", func(a *Availability) {
			a.Schedules = []Schedule{{Always: true}}
		}, "availability.schedules", "entry 1: topics must list"},
		{"schedule source, topic uncovered", func(a *Availability) {
			a.Source = "schedule"
			a.Schedules = []Schedule{berlin("HR")}
		}, "availability.schedules", `topic "IT" has no schedule and availability.source is schedule`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(&c.Availability)
			err := c.Validate()
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.key, fe.Key)
			assert.Contains(t, err.Error(), tt.message)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	c := validConfig(t)
	c.Availability.Source = "schedule"
	c.Availability.Schedules = []Schedule{berlin("HR"), berlin("*")}
	assert.NoError(t, c.Validate(), "* covers the other topics")
}

func TestAvailabilityDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, env, message string }{
		{name: "not a list", yaml: "availability:\n  schedules: weekdays\n", message: "must be a list of schedules"},
		{name: "entry not a mapping", yaml: "availability:\n  schedules: [HR]\n", message: "entry 1: must be a mapping"},
		{name: "unknown entry key", yaml: "availability:\n  schedules:\n    - topics: [HR]\n      timezone: UTC\n", message: `entry 1: unknown key "timezone"`},
		{name: "weekly not a mapping", yaml: "availability:\n  schedules:\n    - topics: [HR]\n      weekly: [mon]\n", message: "entry 1: weekly: must map days"},
		{name: "env not JSON", env: "mon-fri 9-5", message: "JSON array"},
		{name: "always not a bool", yaml: "availability:\n  schedules:\n    - topics: [HR]\n      always: sometimes\n", message: "entry 1: always: must be true or false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "c.yaml", []byte(tt.yaml))
			}
			if tt.env != "" {
				t.Setenv("LIVEAGENT_AVAILABILITY_SCHEDULES", tt.env)
			}
			_, err := Load(path)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "availability.schedules", fe.Key)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

const alwaysYAML = `
salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Live_Agent_Bridge
  private_key_file: %s
  key_id: bridge-1
  issuer: liveagent-bridge
session:
  topics: [HR, IT access, Payroll]
availability:
  source: salesforce
  schedules:
    - topics: [IT access]
      always: true
    - topics: [Payroll]
      time_zone: Europe/Berlin
      weekly:
        mon-fri: ["09:00-17:00"]
`

// A schedules entry with always: true makes its topics available at all
// times, whatever Salesforce's hours (and it needs no time zone); it counts
// as a schedule for source schedule; and it survives the environment.
func TestAlwaysScheduleEntry(t *testing.T) {
	cfg, err := Load(writeFile(t, "a.yaml", fmt.Appendf(nil, alwaysYAML, pkcs1KeyFile(t))))
	require.NoError(t, err)
	require.Len(t, cfg.Availability.Schedules, 2)
	assert.Equal(t, Schedule{Topics: []string{"IT access"}, Always: true}, cfg.Availability.Schedules[0])

	opts, err := cfg.AvailabilityOptions()
	require.NoError(t, err)
	assert.True(t, opts.Schedules["IT access"].Always())
	assert.False(t, opts.Schedules["Payroll"].Always())
	assert.Nil(t, opts.Schedules["HR"])
	// Salesforce closed (an inactive record): IT access is still available.
	closed := &availability.Hours{}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, availability.Decision{Available: true}, availability.Decide(now, closed, opts.Schedules["IT access"]))
	assert.False(t, availability.Decide(now, closed, opts.Schedules["Payroll"]).Available)

	// Source schedule: the always entry covers its topic.
	c := validConfig(t)
	c.Availability.Source = "schedule"
	c.Availability.Schedules = []Schedule{{Topics: []string{"HR"}, Always: true},
		{Topics: []string{"IT"}, TimeZone: "UTC", Weekly: map[string][]string{"mon": {"09:00-17:00"}}}}
	require.NoError(t, c.Validate())

	// The environment's JSON form round-trips (no weekly for the always entry).
	env := schedulesEnv(cfg.Availability.Schedules)
	assert.Contains(t, env, `"always":true`)
	back, err := decodeSchedules(env)
	require.NoError(t, err)
	assert.Equal(t, cfg.Availability.Schedules, back)
	t.Setenv("LIVEAGENT_AVAILABILITY_SCHEDULES", `[{"topics":["HR"],"always":true}]`)
	cfg, err = Load(writeFile(t, "a.yaml", fmt.Appendf(nil, alwaysYAML, pkcs1KeyFile(t))))
	require.NoError(t, err)
	assert.Equal(t, []Schedule{{Topics: []string{"HR"}, Always: true}}, cfg.Availability.Schedules)
}
