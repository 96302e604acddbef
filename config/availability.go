package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/availability"
)

// Availability decides, before a session starts, whether a live agent can be
// offered (package availability).
type Availability struct {
	Source         string        // availability.source: always | salesforce | schedule
	OfflineMessage string        // availability.offline_message ("" = the built-in text)
	CacheTTL       time.Duration // availability.salesforce_cache_ttl
	Schedules      []Schedule    // availability.schedules
}

// Schedule is one entry of availability.schedules: the opening hours of the
// listed topics ("*" = every topic without an entry of its own), or, with
// Always, none: the topics are available at all times, whatever
// Salesforce's business hours say.
// Its JSON form (the environment's) uses the YAML key names.
type Schedule struct {
	Topics   []string            `json:"topics"`             // topics
	Always   bool                `json:"always,omitempty"`   // always: true = always available (no weekly, no holidays)
	TimeZone string              `json:"time_zone"`          // time_zone: IANA name (optional with always)
	Weekly   map[string][]string `json:"weekly,omitempty"`   // weekly: day or day range -> "HH:MM-HH:MM" ranges
	Holidays []string            `json:"holidays,omitempty"` // holidays: dates closed, YYYY-MM-DD
}

// MaxCacheTTL bounds availability.salesforce_cache_ttl.
const MaxCacheTTL = time.Hour

func (c *Config) validateAvailability() error {
	a := c.Availability
	switch availability.Source(a.Source) {
	case availability.SourceAlways, availability.SourceSalesforce, availability.SourceSchedule:
	default:
		return fieldErr("availability.source", "must be always, salesforce or schedule, got %q", a.Source)
	}
	if a.CacheTTL < 0 || a.CacheTTL > MaxCacheTTL {
		return fieldErr("availability.salesforce_cache_ttl", "must be between 0 (ask every time) and %s, got %s", MaxCacheTTL, a.CacheTTL)
	}
	if len(a.OfflineMessage) > c.Session.MaxMessageBytes {
		return fieldErr("availability.offline_message", "must be at most session.max_message_bytes (%d) bytes", c.Session.MaxMessageBytes)
	}
	if _, err := c.schedules(); err != nil {
		return err
	}
	return nil
}

// schedules parses availability.schedules into the schedule of each topic
// (availability.AnyTopic for the default), checking them against
// session.topics and availability.source.
func (c *Config) schedules() (map[string]*availability.Schedule, error) {
	out := map[string]*availability.Schedule{}
	for i, s := range c.Availability.Schedules {
		entry := fmt.Sprintf("entry %d", i+1)
		if len(s.Topics) == 0 {
			return nil, fieldErr("availability.schedules", "%s: topics must list at least one topic of session.topics (or \"*\" for every other topic)", entry)
		}
		parsed, err := availability.ParseSchedule(availability.ScheduleSpec{Always: s.Always, TimeZone: s.TimeZone, Weekly: s.Weekly, Holidays: s.Holidays})
		if err != nil {
			return nil, fieldErr("availability.schedules", "%s: %s", entry, err)
		}
		for _, t := range s.Topics {
			if t != availability.AnyTopic && !slices.Contains(c.Session.Topics, t) {
				return nil, fieldErr("availability.schedules", "%s: topic %q is not one of session.topics", entry, t)
			}
			if out[t] != nil {
				return nil, fieldErr("availability.schedules", "%s: topic %q has a schedule already", entry, t)
			}
			out[t] = parsed
		}
	}
	if availability.Source(c.Availability.Source) == availability.SourceSchedule && out[availability.AnyTopic] == nil {
		for _, t := range c.Session.Topics {
			if out[t] == nil {
				return nil, fieldErr("availability.schedules", "topic %q has no schedule and availability.source is schedule (add it, or an entry for topics [\"*\"])", t)
			}
		}
	}
	return out, nil
}

// AvailabilityOptions maps the availability section to the checker's
// options; the caller adds the Salesforce client (Options.Hours) when the
// source is salesforce. The config must be valid.
func (c *Config) AvailabilityOptions() (availability.Options, error) {
	schedules, err := c.schedules()
	if err != nil {
		return availability.Options{}, err
	}
	return availability.Options{
		Source:    availability.Source(c.Availability.Source),
		Schedules: schedules,
		CacheTTL:  c.Availability.CacheTTL,
	}, nil
}

// decodeSchedules reads availability.schedules: a YAML list of mappings, or
// (from the environment) the same as a JSON array.
func decodeSchedules(raw any) ([]Schedule, error) {
	if s, ok := raw.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, errors.New("must be a list of schedules (in the environment: a JSON array)")
		}
		raw = v
	}
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errors.New("must be a list of schedules (topics, always, time_zone, weekly, holidays)")
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := make([]Schedule, 0, len(list))
	for i, item := range list {
		s, err := decodeSchedule(item)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeSchedule(item any) (Schedule, error) {
	m, ok := stringKeyed(item)
	if !ok {
		return Schedule{}, errors.New("must be a mapping with topics, and always, or time_zone, weekly and holidays")
	}
	var s Schedule
	var err error
	for k, v := range m {
		switch strings.ToLower(k) {
		case "topics":
			s.Topics, err = toStrings(v)
		case "always":
			s.Always, err = toBool(v)
		case "time_zone":
			s.TimeZone, err = toString(v)
		case "holidays":
			s.Holidays, err = toStrings(v)
		case "weekly":
			if v == nil { // `weekly:` with no value: none
				continue
			}
			days, isMap := stringKeyed(v)
			if !isMap {
				return Schedule{}, errors.New("weekly: must map days (mon, mon-fri, ...) to opening ranges")
			}
			s.Weekly = map[string][]string{}
			for day, ranges := range days {
				list, derr := toStrings(ranges)
				if derr != nil {
					return Schedule{}, fmt.Errorf("weekly.%s: must be a list of ranges like 09:00-17:00", day)
				}
				s.Weekly[strings.ToLower(day)] = list
			}
		default:
			return Schedule{}, fmt.Errorf("unknown key %q (want topics, always, time_zone, weekly, holidays)", k)
		}
		if err != nil {
			return Schedule{}, fmt.Errorf("%s: %w", strings.ToLower(k), err)
		}
	}
	return s, nil
}

// toBool reads a YAML or JSON boolean (or its text, "true" / "false").
func toBool(v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if parsed, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return parsed, nil
		}
	}
	return false, errors.New("must be true or false")
}

// stringKeyed returns a YAML or JSON mapping as map[string]any.
func stringKeyed(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[fmt.Sprint(k)] = val
		}
		return out, true
	}
	return nil, false
}

// schedulesEnv is availability.schedules as its environment variable: JSON.
func schedulesEnv(s []Schedule) string {
	if len(s) == 0 {
		return ""
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("config: marshal schedules: %v", err)) // strings only: cannot fail
	}
	return string(b)
}

func cloneSchedules(in []Schedule) []Schedule {
	if in == nil {
		return nil
	}
	out := make([]Schedule, len(in))
	for i, s := range in {
		out[i] = Schedule{Topics: cloneStrings(s.Topics), Always: s.Always, TimeZone: s.TimeZone, Holidays: cloneStrings(s.Holidays)}
		if s.Weekly != nil {
			out[i].Weekly = make(map[string][]string, len(s.Weekly))
			for d, r := range s.Weekly {
				out[i].Weekly[d] = cloneStrings(r)
			}
		}
	}
	return out
}
