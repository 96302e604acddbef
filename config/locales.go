package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/liveagent-bridge/liveagent/locales"
)

// Locales is the locales.* section: per locale tag (as written, lower-cased
// by the loader), the texts that locale overrides, by text key (greeting,
// timeout_message, offline_message, …: locales.Keys). A session whose locale
// is fr_CA takes each text from locales.fr_CA, else locales.fr, else the
// session.* (and availability.offline_message) text.
type Locales map[string]map[string]string

// maxLocaleText bounds one configured text.
const maxLocaleText = 4000

// decodeLocales accepts a YAML mapping or, from the environment, a JSON
// object ({"fr":{"greeting":"Bonjour"}}).
func decodeLocales(raw any) (Locales, error) {
	if s, ok := raw.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, errors.New(`must be a mapping of locale to texts (in the environment: a JSON object like {"fr":{"greeting":"Bonjour"}})`)
		}
		raw = v
	}
	if raw == nil {
		return nil, nil
	}
	top, ok := stringKeyed(raw)
	if !ok {
		return nil, errors.New("must be a mapping of locale to texts")
	}
	if len(top) == 0 {
		return nil, nil
	}
	out := make(Locales, len(top))
	for tag, v := range top {
		tag = strings.ToLower(tag)
		texts, ok := stringKeyed(v)
		if !ok {
			if v == nil {
				out[tag] = map[string]string{}
				continue
			}
			return nil, fmt.Errorf("%s: must be a mapping of text key to text", tag)
		}
		m := make(map[string]string, len(texts))
		for k, tv := range texts {
			if tv == nil {
				tv = "" // `greeting:` with no value is "" (no greeting), as under session
			}
			s, ok := tv.(string)
			if !ok {
				return nil, fmt.Errorf("%s.%s: must be a string", tag, strings.ToLower(k))
			}
			m[strings.ToLower(k)] = s
		}
		out[tag] = m
	}
	return out, nil
}

// validateLocales checks every locale tag and text; errors name the key,
// e.g. "config: locales.fr.greetin: unknown text key (…)".
func (c *Config) validateLocales() error {
	seen := map[string]string{}
	for _, tag := range sortedKeys(c.Locales) {
		key := "locales." + tag
		norm, err := locales.Normalize(tag)
		if err != nil {
			return fieldErr(key, "%s", err)
		}
		if norm == "" {
			return fieldErr(key, "must name a language (e.g. fr or fr_CA)")
		}
		if other, dup := seen[norm]; dup {
			return fieldErr(key, "is the same locale as locales.%s (%s)", other, norm)
		}
		seen[norm] = tag
		texts := c.Locales[tag]
		for _, k := range sortedKeys(texts) {
			v := texts[k]
			if !locales.IsKey(k) {
				return fieldErr(key+"."+k, "unknown text key (one of: %s)", strings.Join(locales.Keys(), ", "))
			}
			if strings.TrimSpace(v) == "" && k != "greeting" {
				return fieldErr(key+"."+k, "must not be empty (leave it out to fall back to the next locale)")
			}
			if !utf8.ValidString(v) || len(v) > maxLocaleText {
				return fieldErr(key+"."+k, "must be valid UTF-8 of at most %d bytes", maxLocaleText)
			}
		}
	}
	return nil
}

// LocaleTable returns the locales.* texts keyed by normalised locale (fr_CA),
// for starter.WithLocales. The configuration must be valid.
func (c *Config) LocaleTable() locales.Table {
	t := make(locales.Table, len(c.Locales))
	for tag, texts := range c.Locales {
		norm, err := locales.Normalize(tag)
		if err != nil || norm == "" {
			continue // Validate refuses it
		}
		t[norm] = maps.Clone(texts)
	}
	return t
}

func cloneLocales(l Locales) Locales {
	if l == nil {
		return nil
	}
	out := make(Locales, len(l))
	for tag, texts := range l {
		out[tag] = maps.Clone(texts)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalizedLocale is tag in Salesforce's form (en-US -> en_US); a tag that
// does not parse is returned as is (Validate refuses it).
func normalizedLocale(tag string) string {
	if l, err := locales.Normalize(tag); err == nil && l != "" {
		return l
	}
	return tag
}

// localesEnv is locales as its environment variable: JSON.
func localesEnv(l Locales) string {
	if len(l) == 0 {
		return ""
	}
	b, err := json.Marshal(l)
	if err != nil {
		panic("config: locales: " + err.Error()) // maps of strings always marshal
	}
	return string(b)
}
