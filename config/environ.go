package config

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Environ returns c as LIVEAGENT_<KEY>=value assignments, one for every key,
// in the form Load reads back: lists comma-separated, codec.keys as
// id=base64 pairs, availability.schedules and locales as JSON, durations in Go syntax,
// byte counts as integers. It is how
// a parent process configures a worker it starts (the soak and the load
// benchmark do). The result holds secrets: pass it to a child process, never
// log it. List items must not contain commas.
func (c *Config) Environ() []string {
	fields := c.fields()
	env := make([]string, 0, len(fields))
	for _, f := range fields {
		env = append(env, EnvName(f.key)+"="+envValue(f.ptr))
	}
	return env
}

// ChildEnviron is the environment for a child process configured by c: the
// current process's environment without any variable that configures the
// bridge (LIVEAGENT_*, TEMPORAL_*), plus c.Environ().
func (c *Config) ChildEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, EnvPrefix) || strings.HasPrefix(kv, "TEMPORAL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, c.Environ()...)
}

func envValue(ptr any) string {
	switch p := ptr.(type) {
	case *string:
		return *p
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *time.Duration:
		return p.String()
	case *[]string:
		return strings.Join(*p, ",")
	case *map[string]string:
		pairs := make([]string, 0, len(*p))
		for k, v := range *p {
			pairs = append(pairs, k+"="+v)
		}
		sort.Strings(pairs)
		return strings.Join(pairs, ",")
	case *[]Schedule:
		return schedulesEnv(*p)
	case *Locales:
		return localesEnv(*p)
	}
	panic("config: unsupported field type in Environ")
}
