package starter

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// MaxChoiceIDLen bounds the ids a choice names (the agent message's
// delivery id and the option id).
const MaxChoiceIDLen = 255

// SendChoice sends the user's pick of an option the agent offered
// (workflows.Choices of an agent message). choice.InReplyTo is the id of
// that agent message (its delivery id) and choice.OptionID one of its
// options' ids. text is what the user said with it; when empty the option's
// title is used. messageID is the idempotency key, as for SendMessage.
//
// The session refuses a choice that names no choice message of the session,
// or an option that message did not offer, with a *RejectedError whose Type
// is workflows.ErrTypeInvalidChoice. Salesforce receives it as a
// ChoicesResponse.
func (c *Client) SendChoice(ctx context.Context, userID, messageID, text string, choice workflows.ChoiceReply) (workflows.UpdateResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := validateMessageID(messageID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := c.validateText("text", text, false); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := validateChoiceID("choice.inReplyTo", choice.InReplyTo); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := validateChoiceID("choice.optionId", choice.OptionID); err != nil {
		return workflows.UpdateResult{}, err
	}
	return c.update(ctx, userID, workflows.UpdateSendMessage, messageID,
		workflows.UserMessage{ID: messageID, Text: text, Choice: &choice})
}

func validateChoiceID(field, id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid("%s is required", field)
	}
	if len(id) > MaxChoiceIDLen || !utf8.ValidString(id) || strings.ContainsFunc(id, isControl) {
		return invalid("%s must be at most %d printable characters", field, MaxChoiceIDLen)
	}
	return nil
}
