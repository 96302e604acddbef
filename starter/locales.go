package starter

import (
	"maps"

	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// WithLocales gives the texts of each locale (usually cfg.LocaleTable()): a
// session started for locale fr_CA carries, for each text, fr_CA's, else
// fr's, else the settings' own. An unknown locale gets the settings' texts.
// The texts are resolved once, at the start: they travel in the workflow
// input, so a config change never alters a running session.
func WithLocales(t locales.Table) Option {
	return func(c *Client) {
		c.locales = make(locales.Table, len(t))
		for l, texts := range t {
			c.locales[l] = maps.Clone(texts)
		}
	}
}

// settingsFor returns the session settings for a normalised locale ("" is
// the configured default locale), an empty offline message defaulted.
func (c *Client) settingsFor(locale string) workflows.Settings {
	if locale == "" {
		locale = c.settings.DefaultLocale
	}
	s := c.locales.Resolve(c.settings, locale)
	if s.OfflineMessage == "" {
		s.OfflineMessage = DefaultOfflineMessage
	}
	return s
}
