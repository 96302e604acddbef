package starter

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/liveagent-bridge/liveagent/locales"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// userIDPattern keeps user ids safe in a workflow id, a JWT subject and a
// visibility query.
var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+:-]*$`)

func validateUserID(id string) error {
	if id == "" {
		return invalid("user id is required")
	}
	if len(id) > MaxUserIDLen || !userIDPattern.MatchString(id) {
		return invalid("user id must be 1 to %d characters of letters, digits and . _ @ + : - (starting with a letter or digit)", MaxUserIDLen)
	}
	return nil
}

func validateMessageID(id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid("message id is required (the assistant's own id; it makes retries safe)")
	}
	if len(id) > MaxMessageIDLen || !utf8.ValidString(id) || strings.ContainsFunc(id, isControl) {
		return invalid("message id must be at most %d printable characters", MaxMessageIDLen)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (c *Client) validateText(field, text string, required bool) error {
	if !utf8.ValidString(text) {
		return invalid("%s is not valid UTF-8", field)
	}
	if required && strings.TrimSpace(text) == "" {
		return invalid("%s must not be empty", field)
	}
	if max := c.settings.MaxMessageBytes; max > 0 && len(text) > max {
		return invalid("%s is %d bytes, more than the limit of %d", field, len(text), max)
	}
	return nil
}

func (c *Client) validateTopic(topic string) error {
	if topic == "" {
		return invalid("topic is required (one of: %s)", strings.Join(c.settings.Topics, ", "))
	}
	if !slices.Contains(c.settings.Topics, topic) {
		return invalid("topic %q is not configured (one of: %s)", topic, strings.Join(c.settings.Topics, ", "))
	}
	return nil
}

// validateStart checks req and returns its locale normalised (fr-CA ->
// fr_CA; "" when none).
func (c *Client) validateStart(req StartRequest) (string, error) {
	if err := validateUserID(req.UserID); err != nil {
		return "", err
	}
	if err := c.validateTopic(req.Topic); err != nil {
		return "", err
	}
	if err := c.validateText("description", req.Description, true); err != nil {
		return "", err
	}
	return validateLocale(req.Locale)
}

// validateLocale normalises a locale the assistant sent: a malformed one is
// ErrInvalid with the reason.
func validateLocale(tag string) (string, error) {
	l, err := locales.Normalize(tag)
	if err != nil {
		return "", invalid("%s", err)
	}
	return l, nil
}
