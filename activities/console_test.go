package activities

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestFormatDelivery(t *testing.T) {
	tests := []struct {
		name string
		d    workflows.Delivery
		want string
	}{
		{"agent text", workflows.Delivery{UserID: "u-1", Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Text: "Hello"}, "u-1 [agent Jane] Hello"},
		{"multi-line text stays one line", workflows.Delivery{Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Text: "line1\nline2\r\n\x1b[31mred"}, "[agent Jane] line1 line2  [31mred"},
		{"link", workflows.Delivery{Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Link: &workflows.Link{URL: "https://help", Title: "Help"}}, "[agent Jane] Help → https://help"},
		{"attachment", workflows.Delivery{Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Attachment: &workflows.AttachmentRef{Name: "invoice.pdf", MimeType: "application/pdf", Size: 12390, URL: "http://b/abc"}},
			"[agent Jane] invoice.pdf (12.1 KiB, application/pdf) → http://b/abc"},
		{"small attachment", workflows.Delivery{Kind: workflows.DeliverAgentMessage, Attachment: &workflows.AttachmentRef{Name: "a.txt", Size: 12, URL: "u"}}, "[agent] a.txt (12 B) → u"},
		{"system text", workflows.Delivery{Kind: workflows.DeliverSystem, Text: "An agent will be with you shortly."}, "[system] An agent will be with you shortly."},
		{"queue position", workflows.Delivery{Kind: workflows.DeliverSystem, QueuePosition: 2}, "[system] You are number 2 in the queue"},
		{"queue position with wait", workflows.Delivery{Kind: workflows.DeliverSystem, QueuePosition: 3, EstimatedWait: 90 * time.Second}, "[system] You are number 3 in the queue (about 1m30s)"},
		{"typing", workflows.Delivery{Kind: workflows.DeliverTyping, SenderName: "Jane", Typing: true}, "[agent Jane is typing…]"},
		{"typing stopped", workflows.Delivery{Kind: workflows.DeliverTyping, SenderName: "Jane"}, "[agent Jane stopped typing]"},
		{"closed", workflows.Delivery{Kind: workflows.DeliverClosed, CloseReason: workflows.CloseAgentEnded, Text: "The agent ended the chat."}, "[closed: agent-ended] The agent ended the chat."},
	}
	for _, tt := range tests {
		if got := FormatDelivery(tt.d); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestConsoleSinkConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	sink := NewConsoleSink(&buf)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sink.Deliver(context.Background(), workflows.Delivery{ID: "x", Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Text: strings.Repeat("y", i+1)})
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "[agent Jane] y") || strings.Trim(strings.TrimPrefix(l, "[agent Jane] "), "y") != "" {
			t.Fatalf("garbled line %q", l)
		}
	}
}
