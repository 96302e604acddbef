package miaw_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// A verified user opens a conversation, listens to its events and writes.
func Example() {
	c, err := miaw.New(miaw.Config{
		BaseURL:        "https://acme.my.salesforce-scrt.com",
		OrgID:          "00D5g000004ABCD",
		DeploymentName: "Live_Agent_Bridge",
		PrivateKeyFile: "/etc/liveagent/miaw-key.pem",
		KeyID:          "bridge-key-1",
		Issuer:         "https://bridge.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, user := context.Background(), "user-42"
	conv := uuid.NewString() // lowercase UUID v4
	if err := c.CreateConversation(ctx, user, miaw.CreateConversationRequest{
		ConversationID: conv, RoutingAttributes: map[string]string{"_firstName": "Ada"}, Language: "en_US",
	}); err != nil {
		log.Fatal(err)
	}
	go func() {
		err := c.Stream(ctx, user, miaw.StreamOptions{}, func(e miaw.Event) error {
			if m, ok := e.Payload.(*miaw.MessagePayload); ok && e.Entry.Sender.Role == miaw.RoleAgent {
				fmt.Println("agent:", m.Text())
			}
			return nil
		})
		log.Println("stream ended:", err)
	}()
	_, err = c.SendMessage(ctx, user, conv, miaw.TextMessage{ID: uuid.NewString(), Text: "Hello"})
	switch {
	case miaw.IsRetryable(err):
		// 429/5xx/network: retry later with the same message id.
	case errors.Is(err, miaw.ErrInvalidRequest), err != nil:
		log.Fatal(err)
	}
}
