package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func (c *gatewayClient) typing(ctx context.Context, userID string, typing bool) (gateway.TypingResponse, error) {
	var out gateway.TypingResponse
	_, err := c.postJSON(ctx, "/v1/sessions/"+url.PathEscape(userID)+"/typing", gateway.TypingRequest{Typing: &typing}, &out)
	return out, err
}

func (c *gatewayClient) receipts(ctx context.Context, userID string, status workflows.ReceiptStatus, ids ...string) (gateway.ReceiptsResponse, error) {
	var out gateway.ReceiptsResponse
	_, err := c.postJSON(ctx, "/v1/sessions/"+url.PathEscape(userID)+"/receipts",
		gateway.ReceiptsRequest{Status: string(status), MessageIDs: ids}, &out)
	return out, err
}

// showTyping reports that the user is typing (twice, as keystrokes would:
// the second report is coalesced) and waits until the agent's side (the
// emulator) shows it.
func (s *session) showTyping(ctx context.Context, st *stack) error {
	for range 2 {
		res, err := s.api.typing(ctx, s.userID, true)
		if err != nil {
			return fmt.Errorf("report typing: %w", err)
		}
		s.out.line("assistant: the user is typing -> forwarded %v", res.Forwarded)
	}
	view, err := s.api.state(ctx, s.userID)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := st.emu.UserPresence(view.ConversationID)
		if err != nil {
			return fmt.Errorf("presence: %w", err)
		}
		if len(p.Typing) > 0 && p.Typing[len(p.Typing)-1].Started {
			s.out.line("agent: sees \"the user is typing…\"")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the agent never saw the user typing")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readAgentMessage tells the agent the user read one of its messages.
func (s *session) readAgentMessage(ctx context.Context, d workflows.Delivery) error {
	res, err := s.api.receipts(ctx, s.userID, workflows.ReceiptRead, d.ID)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	s.out.line("assistant: told the agent the user read its answer -> %d acknowledgement(s) queued", res.Queued)
	return nil
}

func isReadReceipt(id string) func(workflows.Delivery) bool {
	return func(d workflows.Delivery) bool {
		if d.Kind != workflows.DeliverReceipt {
			return false
		}
		for _, r := range d.Receipts {
			if r.MessageID == id && r.Status == workflows.ReceiptRead {
				return true
			}
		}
		return false
	}
}
