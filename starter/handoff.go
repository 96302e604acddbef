package starter

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// Limits of the assistant's context at the handoff. Over them, Start fails
// with ErrTooLarge (the gateway answers 413).
const (
	MaxSummaryBytes   = 2000
	MaxHistoryEntries = 500
	MaxHistoryBytes   = 256 << 10 // the rendered file
)

// ErrTooLarge is wrapped when the handoff context is over its limits.
var ErrTooLarge = errors.New("too large")

// History speakers.
const (
	FromUser      = "user"
	FromAssistant = "assistant"
)

// HistoryEntry is one turn of the assistant's conversation before the
// handoff.
type HistoryEntry struct {
	From string    // FromUser or FromAssistant
	Text string    // the turn's text
	At   time.Time // when it was said; zero when unknown
}

// WithHandoffExcludedTopics names the topics whose assistant conversation
// (summary and history) must never reach the agent: Start drops it for
// them.
func WithHandoffExcludedTopics(topics ...string) Option {
	return func(c *Client) { c.handoffExcluded = slices.Clone(topics) }
}

// WithHistoryImport makes sessions load the assistant's conversation into
// the agent's console with Salesforce's Conversation History API
// (salesforce.conversation_history): Start stores the history's turns
// beside the transcript file, which the session attaches only if the import
// fails. The workers must be configured for the API too.
func WithHistoryImport() Option {
	return func(c *Client) { c.historyImport = true }
}

// handoffContext is what a session carries of the assistant's context.
type handoffContext struct {
	summary string
	file    *workflows.UserAttachment // the history as a readable transcript
	turns   *workflows.UserAttachment // the history as turns, for the import; nil without WithHistoryImport
}

// withheld reports whether req carried context that h does not forward.
func (h handoffContext) withheld(req StartRequest) bool {
	return h.summary == "" && h.file == nil && (req.Summary != "" || len(req.History) > 0)
}

// handoff validates the assistant's context of req and returns what the
// session carries: the summary, and the history stored as one text file
// (and as turns for the Conversation History API). Excluded topics carry
// none of it.
func (c *Client) handoff(req StartRequest) (handoffContext, error) {
	if slices.Contains(c.handoffExcluded, req.Topic) {
		return handoffContext{}, nil
	}
	summary, file, err := c.handoffFile(req)
	if err != nil || file == nil || !c.historyImport {
		return handoffContext{summary: summary, file: file}, err
	}
	turns, err := c.storeTurns(req.History)
	if err != nil {
		return handoffContext{}, err
	}
	return handoffContext{summary: summary, file: file, turns: turns}, nil
}

// storeTurns stores the history's turns (validated by handoffFile) as the
// import file.
func (c *Client) storeTurns(history []HistoryEntry) (*workflows.UserAttachment, error) {
	turns := make([]workflows.HandoffTurn, len(history))
	for i, e := range history {
		turns[i] = workflows.HandoffTurn{FromUser: e.From == FromUser, Text: strings.TrimSpace(e.Text), At: e.At.UTC()}
	}
	data, err := workflows.EncodeHandoffTurns(turns)
	if err != nil {
		return nil, fmt.Errorf("handoff turns: %w", err)
	}
	sum, size, err := c.store.Put(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("store handoff turns: %w", err)
	}
	return &workflows.UserAttachment{Name: "conversation-with-assistant.json", MimeType: "application/json", Size: size, SHA256: sum}, nil
}

// handoffFile validates the summary and history and stores the history as a
// transcript file.
func (c *Client) handoffFile(req StartRequest) (string, *workflows.UserAttachment, error) {
	if !utf8.ValidString(req.Summary) {
		return "", nil, invalid("summary is not valid UTF-8")
	}
	if len(req.Summary) > MaxSummaryBytes {
		return "", nil, fmt.Errorf("%w: summary is %d bytes, the limit is %d", ErrTooLarge, len(req.Summary), MaxSummaryBytes)
	}
	first := workflows.FirstMessage(workflows.SessionRequest{Description: req.Description, Summary: req.Summary})
	if max := c.settings.MaxMessageBytes; req.Summary != "" && len(first) > max {
		return "", nil, invalid("description and summary are %d bytes together in the first message, the limit is %d", len(first), max)
	}
	if len(req.History) == 0 {
		return req.Summary, nil, nil
	}
	if len(req.History) > MaxHistoryEntries {
		return "", nil, fmt.Errorf("%w: history has %d entries, the limit is %d", ErrTooLarge, len(req.History), MaxHistoryEntries)
	}
	file, err := renderHistory(req)
	if err != nil {
		return "", nil, err
	}
	if len(file) > MaxHistoryBytes {
		return "", nil, fmt.Errorf("%w: history is %d bytes as a transcript, the limit is %d", ErrTooLarge, len(file), MaxHistoryBytes)
	}
	if c.store == nil {
		return "", nil, errors.New("handoff history: no attachment store configured")
	}
	sum, size, err := c.store.Put(bytes.NewReader(file), MaxHistoryBytes)
	if err != nil {
		return "", nil, fmt.Errorf("store handoff history: %w", err)
	}
	return req.Summary, &workflows.UserAttachment{
		Name: "conversation-with-assistant.txt", MimeType: "text/plain", Size: size, SHA256: sum,
	}, nil
}

// renderHistory writes the history as a plain-text transcript an agent
// reads at a glance.
func renderHistory(req StartRequest) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Conversation with the assistant before the handoff\nUser: %s · Topic: %s\n\n", req.UserID, req.Topic)
	for i, e := range req.History {
		var who string
		switch e.From {
		case FromUser:
			who = "User"
		case FromAssistant:
			who = "Assistant"
		default:
			return nil, invalid("history entry %d: from must be %q or %q, got %q", i+1, FromUser, FromAssistant, e.From)
		}
		if !utf8.ValidString(e.Text) || strings.TrimSpace(e.Text) == "" {
			return nil, invalid("history entry %d: text must be non-empty UTF-8", i+1)
		}
		if !e.At.IsZero() {
			b.WriteString(e.At.UTC().Format("2006-01-02 15:04:05 UTC  "))
		}
		b.WriteString(who + ": ")
		b.WriteString(strings.ReplaceAll(strings.TrimSpace(e.Text), "\n", "\n    "))
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}
