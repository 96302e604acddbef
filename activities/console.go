package activities

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// ConsoleSink writes one human-readable line per delivery, for the demo and
// for debugging:
//
//	u-42 [agent Jane] Hello
//	u-42 [agent Jane] invoice.pdf (12.1 KiB, application/pdf) → http://…/<sha256>
//	u-42 [system] You are number 2 in the queue
//	u-42 [agent Jane is typing…]
//	u-42 [closed: agent-ended] The agent ended the chat.
//
// Control characters in texts are replaced, so a delivery is always exactly
// one line. It is safe for concurrent use. It does not deduplicate retries.
type ConsoleSink struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsoleSink returns a sink writing to w.
func NewConsoleSink(w io.Writer) *ConsoleSink { return &ConsoleSink{w: w} }

// Deliver implements Sink.
func (s *ConsoleSink) Deliver(_ context.Context, d workflows.Delivery) error {
	line := FormatDelivery(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, line+"\n"); err != nil {
		return fmt.Errorf("console sink: %w", err)
	}
	return nil
}

// FormatDelivery is the ConsoleSink line for d (without newline).
func FormatDelivery(d workflows.Delivery) string {
	var b strings.Builder
	if d.UserID != "" {
		b.WriteString(oneLine(d.UserID))
		b.WriteByte(' ')
	}
	who := "agent"
	if d.SenderName != "" {
		who = "agent " + oneLine(d.SenderName)
	}
	switch d.Kind {
	case workflows.DeliverAgentMessage:
		fmt.Fprintf(&b, "[%s]", who)
		var parts []string
		if d.Text != "" {
			parts = append(parts, oneLine(d.Text))
		}
		if d.Link != nil {
			parts = append(parts, linkText(*d.Link))
		}
		if d.Attachment != nil {
			parts = append(parts, attachmentText(*d.Attachment))
		}
		for _, p := range parts {
			b.WriteByte(' ')
			b.WriteString(p)
		}
	case workflows.DeliverTyping:
		if d.Typing {
			fmt.Fprintf(&b, "[%s is typing…]", who)
		} else {
			fmt.Fprintf(&b, "[%s stopped typing]", who)
		}
	case workflows.DeliverClosed:
		b.WriteString("[closed")
		if d.CloseReason != "" {
			b.WriteString(": " + oneLine(string(d.CloseReason)))
		}
		b.WriteString("]")
		if d.Text != "" {
			b.WriteString(" " + oneLine(d.Text))
		}
		if s := d.Summary; s != nil {
			fmt.Fprintf(&b, " (closed by %s", s.ClosedBy)
			if s.AgentName != "" {
				fmt.Fprintf(&b, "; agent %s", oneLine(s.AgentName))
			}
			fmt.Fprintf(&b, "; waited %s, chatted %s; %d user and %d agent messages)",
				s.WaitTime.Round(time.Second), s.ChatTime.Round(time.Second), s.UserMessages, s.AgentMessages)
		}
	default: // DeliverSystem and anything new
		b.WriteString("[system]")
		text := oneLine(d.Text)
		if text == "" && d.QueuePosition > 0 {
			text = fmt.Sprintf("You are number %d in the queue", d.QueuePosition)
			if d.EstimatedWait > 0 {
				text += fmt.Sprintf(" (about %s)", d.EstimatedWait.Round(1e9))
			}
		}
		if text != "" {
			b.WriteString(" " + text)
		}
		if d.Link != nil {
			b.WriteString(" " + linkText(*d.Link))
		}
		if d.Attachment != nil {
			b.WriteString(" " + attachmentText(*d.Attachment))
		}
	}
	return b.String()
}

func linkText(l workflows.Link) string {
	if l.Title == "" {
		return oneLine(l.URL)
	}
	return oneLine(l.Title) + " → " + oneLine(l.URL)
}

func attachmentText(a workflows.AttachmentRef) string {
	meta := humanSize(a.Size)
	if a.MimeType != "" {
		meta += ", " + oneLine(a.MimeType)
	}
	return fmt.Sprintf("%s (%s) → %s", oneLine(a.Name), meta, oneLine(a.URL))
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// oneLine replaces line breaks and tabs by spaces and drops other control
// characters (no terminal escape sequences from Salesforce text).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r), isBidiControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// isBidiControl reports the bidirectional embedding, override and isolate
// controls, which can make a line display differently from what it says.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
