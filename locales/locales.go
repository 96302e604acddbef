// Package locales resolves the texts the bridge shows users for a locale.
//
// A locale tag is a well-formed BCP 47 tag (fr-CA, zh-Hant-TW) or a POSIX
// locale name (fr_CA, fr_CA.UTF-8, ca_ES@valencia); Normalize turns either
// into the form Salesforce takes (fr_CA, zh_Hant_TW). A Table holds, per
// locale, only the texts that locale overrides; Resolve walks the fallback
// chain from the most specific tag to the language (fr_CA, then fr) and
// takes every text no locale in the chain sets from the base settings (the
// session.* texts, English by default). A locale the table does not know
// falls back to the base silently.
package locales

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// MaxTagLen bounds a locale tag.
const MaxTagLen = 64

// Normalize checks that tag is a well-formed BCP 47 language tag or POSIX
// locale name and returns it in Salesforce's form: subtags joined by "_",
// the language in lower case, a script in title case, a region in upper
// case, variants in lower case (fr-ca -> fr_CA, zh-hant-tw -> zh_Hant_TW).
// A POSIX codeset (.UTF-8) and modifier (@euro), and BCP 47 extensions
// (-u-ca-gregory) and private use (-x-…), are dropped: they choose no
// texts. "" stays "" (the default locale), as do the POSIX names C and POSIX.
func Normalize(tag string) (string, error) {
	if tag == "" || tag == "C" || tag == "POSIX" {
		return "", nil
	}
	if len(tag) > MaxTagLen {
		return "", fmt.Errorf("locale is longer than %d characters", MaxTagLen)
	}
	orig := tag
	posix := strings.ContainsAny(tag, "_.@")
	if posix {
		var codeset, modifier string
		var hasCodeset, hasModifier bool
		tag, modifier, hasModifier = strings.Cut(tag, "@")
		tag, codeset, hasCodeset = strings.Cut(tag, ".")
		if (hasModifier && !isPOSIXWord(modifier)) || (hasCodeset && !isPOSIXWord(codeset)) {
			return "", fmt.Errorf("locale %q has a malformed POSIX codeset or modifier", orig)
		}
		if strings.Contains(tag, "-") {
			return "", fmt.Errorf("locale %q mixes - and _ (want a BCP 47 tag like fr-CA or a POSIX name like fr_CA)", orig)
		}
	}
	sep := "-"
	if posix {
		sep = "_"
	}
	parts := strings.Split(tag, sep)
	out, err := parse(parts)
	if err != nil {
		return "", fmt.Errorf("locale %q is not a well-formed BCP 47 tag or POSIX locale name (e.g. fr-CA or fr_CA): %w", orig, err)
	}
	return strings.Join(out, "_"), nil
}

// parse checks the subtags of a BCP 47 langtag (RFC 5646 section 2.1,
// without the grandfathered and private-use-only forms, the language an
// ISO 639 code) and returns the
// normalised language, script, region and variant subtags.
func parse(parts []string) ([]string, error) {
	for _, p := range parts {
		if p == "" {
			return nil, errors.New("empty subtag")
		}
		if !isAlnum(p) {
			return nil, fmt.Errorf("subtag %q has a character other than a letter or digit", p)
		}
	}
	i := 0
	lang := parts[0]
	// RFC 5646 also allows 4 (reserved) and 5-8 letter (registered)
	// languages; none is in use, and Salesforce takes ISO 639 codes only.
	if !isAlpha(lang) || len(lang) < 2 || len(lang) > 3 {
		return nil, fmt.Errorf("language %q must be an ISO 639 code of 2 or 3 letters", lang)
	}
	out := []string{strings.ToLower(lang)}
	i++
	// extlang: up to three 3-letter subtags.
	for n := 0; n < 3 && i < len(parts) && len(parts[i]) == 3 && isAlpha(parts[i]); n++ {
		out = append(out, strings.ToLower(parts[i]))
		i++
	}
	if i < len(parts) && len(parts[i]) == 4 && isAlpha(parts[i]) { // script
		s := strings.ToLower(parts[i])
		out = append(out, strings.ToUpper(s[:1])+s[1:])
		i++
	}
	if i < len(parts) && ((len(parts[i]) == 2 && isAlpha(parts[i])) || (len(parts[i]) == 3 && isDigit(parts[i]))) { // region
		out = append(out, strings.ToUpper(parts[i]))
		i++
	}
	for i < len(parts) && isVariant(parts[i]) {
		out = append(out, strings.ToLower(parts[i]))
		i++
	}
	// extensions and private use: checked, then dropped.
	for i < len(parts) {
		single := strings.ToLower(parts[i])
		if len(single) != 1 {
			return nil, fmt.Errorf("subtag %q is out of place", parts[i])
		}
		i++
		minLen := 2
		if single == "x" {
			minLen = 1
		}
		n := 0
		for i < len(parts) && len(parts[i]) >= minLen && len(parts[i]) <= 8 {
			i++
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("extension %q has no subtag", single)
		}
		if single == "x" && i < len(parts) {
			return nil, fmt.Errorf("subtag %q is out of place", parts[i])
		}
	}
	return out, nil
}

func isVariant(s string) bool {
	if len(s) >= 5 && len(s) <= 8 {
		return true // letters and digits, checked above
	}
	return len(s) == 4 && s[0] >= '0' && s[0] <= '9'
}

// isPOSIXWord matches a POSIX codeset or modifier: UTF-8, euro, valencia.
func isPOSIXWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !isAlnum(string(r)) && r != '-' {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func isDigit(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Chain returns the fallback chain of a normalised locale, most specific
// first: zh_Hant_TW -> [zh_Hant_TW zh_Hant zh]; "" has none.
func Chain(locale string) []string {
	if locale == "" {
		return nil
	}
	parts := strings.Split(locale, "_")
	chain := make([]string, 0, len(parts))
	for n := len(parts); n > 0; n-- {
		chain = append(chain, strings.Join(parts[:n], "_"))
	}
	return chain
}

// Texts are one locale's overrides: text key (see Keys) -> text.
type Texts map[string]string

// Table maps a normalised locale to its overrides.
type Table map[string]Texts

// text is one configurable text: its key (under a locale, and under
// session.* or availability.* at the top level) and its settings field.
type text struct {
	key   string
	field func(*workflows.Settings) *string
}

var texts = []text{
	{"greeting", func(s *workflows.Settings) *string { return &s.Greeting }},
	{"timeout_message", func(s *workflows.Settings) *string { return &s.TimeoutMessage }},
	{"agent_ended_message", func(s *workflows.Settings) *string { return &s.AgentEndedMessage }},
	{"offline_message", func(s *workflows.Settings) *string { return &s.OfflineMessage }},
	{"routing_failed_message", func(s *workflows.Settings) *string { return &s.RoutingFailedMessage }},
	{"no_routing_result_message", func(s *workflows.Settings) *string { return &s.NoRoutingResultMessage }},
	{"refused_message", func(s *workflows.Settings) *string { return &s.RefusedMessage }},
	{"failed_message", func(s *workflows.Settings) *string { return &s.FailedMessage }},
	{"transfer_failed_message", func(s *workflows.Settings) *string { return &s.TransferFailedMessage }},
	{"inactive_message", func(s *workflows.Settings) *string { return &s.InactiveMessage }},
	{"inactive_ended_message", func(s *workflows.Settings) *string { return &s.InactiveEndedMessage }},
	{"idle_message", func(s *workflows.Settings) *string { return &s.IdleMessage }},
	{"queue_position_message", func(s *workflows.Settings) *string { return &s.QueuePositionMessage }},
	{"wait_message", func(s *workflows.Settings) *string { return &s.WaitMessage }},
	{"wait_one_minute_message", func(s *workflows.Settings) *string { return &s.WaitOneMinuteMessage }},
	{"wait_under_a_minute_message", func(s *workflows.Settings) *string { return &s.WaitUnderAMinuteMessage }},
	{"transfer_message", func(s *workflows.Settings) *string { return &s.TransferMessage }},
	{"agent_joined_message", func(s *workflows.Settings) *string { return &s.AgentJoinedMessage }},
	{"unnamed_agent", func(s *workflows.Settings) *string { return &s.UnnamedAgent }},
	{"send_failed_message", func(s *workflows.Settings) *string { return &s.SendFailedMessage }},
	{"file_too_large_message", func(s *workflows.Settings) *string { return &s.FileTooLargeMessage }},
	{"file_type_refused_message", func(s *workflows.Settings) *string { return &s.FileTypeRefusedMessage }},
	{"file_upload_failed_message", func(s *workflows.Settings) *string { return &s.FileUploadFailedMessage }},
	{"attachment_failed_message", func(s *workflows.Settings) *string { return &s.AttachmentFailedMessage }},
}

// Keys returns the text keys a locale may set, in a stable order.
func Keys() []string {
	keys := make([]string, len(texts))
	for i, t := range texts {
		keys[i] = t.key
	}
	return keys
}

// IsKey reports whether key is a text key.
func IsKey(key string) bool {
	return slices.ContainsFunc(texts, func(t text) bool { return t.key == key })
}

// Resolve returns base with the texts of locale (normalised) applied along
// its fallback chain: a text set by the most specific locale of the chain
// wins; a text none sets keeps base's. Base itself is not modified.
func (t Table) Resolve(base workflows.Settings, locale string) workflows.Settings {
	out := base
	out.Topics = slices.Clone(base.Topics)
	out.AllowedAttachmentTypes = slices.Clone(base.AllowedAttachmentTypes)
	chain := Chain(locale)
	for _, tx := range texts {
		for _, l := range chain {
			if v, ok := t[l][tx.key]; ok {
				*tx.field(&out) = v
				break
			}
		}
	}
	return out
}
