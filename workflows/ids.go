package workflows

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/sdk/workflow"
)

// newConversationID returns a fresh lowercase UUID v4 for the Salesforce
// conversation. It runs in a SideEffect so a replay reuses the recorded value.
func newConversationID(ctx workflow.Context) (string, error) {
	var id string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return uuid.NewString()
	}).Get(&id)
	if err != nil {
		return "", fmt.Errorf("conversation id side effect: %w", err)
	}
	return id, nil
}

// isLowerUUID reports whether s is a UUID in canonical lowercase form, which
// MIAW accepts as a message id as is.
func isLowerUUID(s string) bool {
	if len(s) != 36 || strings.ToLower(s) != s {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// miawMessageID maps the assistant's message id to the MIAW message id: the id
// itself when it already is a lowercase UUID, otherwise a name-based UUID
// (SHA-1, RFC 4122 v5) in the conversation's namespace. The mapping is pure, so
// a retried update, a replay or a continued run always produce the same MIAW
// id and Salesforce sees a retry rather than a second message.
func miawMessageID(conversationID, messageID string) string {
	if isLowerUUID(messageID) {
		return messageID
	}
	ns, err := uuid.Parse(conversationID)
	if err != nil {
		// The conversation id is always a UUID made by the workflow; fall back
		// to the URL namespace so the function stays total.
		ns = uuid.NameSpaceURL
	}
	return uuid.NewSHA1(ns, []byte(messageID)).String()
}

// descriptionMessageID is the assistant-side id of the first message (the
// user's description of the problem).
const descriptionMessageID = "description"
