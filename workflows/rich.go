package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Rich content: agent messages that are more than text (choices, forms, web
// views) and the user's pick of a choice. Every such message also carries a
// plain-text fallback in its Text, so an assistant that ignores the
// structured fields still shows something sensible.

// ChoiceKind is how the agent side presents a choice (MIAW ChoicesMessage
// format type).
type ChoiceKind string

const (
	ChoiceButtons      ChoiceKind = "buttons"       // formatType Buttons
	ChoiceQuickReplies ChoiceKind = "quick-replies" // formatType QuickReplies
	ChoiceCarousel     ChoiceKind = "carousel"      // formatType Carousel
)

// ErrTypeInvalidChoice is the ApplicationError type with which the
// send-message update refuses a choice that names no choice message of this
// session, or an option that message did not offer. The gateway answers it
// with 422.
const ErrTypeInvalidChoice = "InvalidChoice"

// Choices is a set of options the agent (or a Salesforce bot) offers; the
// user answers with a UserMessage whose Choice names one of them.
type Choices struct {
	Kind ChoiceKind
	// MessageID is the MIAW abstractMessage id of the choices message,
	// what Salesforce's response names. Not shown to the assistant, which
	// names the message by its delivery id.
	MessageID string
	Prompt    string `json:",omitempty"`
	Options   []ChoiceOption
}

// ChoiceOption is one option of Choices.
type ChoiceOption struct {
	ID       string // MIAW optionIdentifier
	Title    string
	Subtitle string `json:",omitempty"`
}

// Form is a form the agent side sent (MIAW FormMessage). The bridge cannot
// answer forms: the user answers in text.
type Form struct {
	Title   string `json:",omitempty"`
	Message string `json:",omitempty"`
}

// WebView is a page the agent side asks the user to open (MIAW
// StaticContentMessage of formatType WebView).
type WebView struct {
	URL   string
	Title string `json:",omitempty"`
}

// ChoiceReply is the user's pick of an option of an agent's Choices.
type ChoiceReply struct {
	// InReplyTo is the id of the agent message that offered the choice:
	// its delivery id (the Salesforce entry id).
	InReplyTo string
	// OptionID is the ChoiceOption.ID picked.
	OptionID string
}

// ChoiceResponse is SendMessageInput.Choice: the MIAW ChoicesResponse to send
// instead of a text message.
type ChoiceResponse struct {
	InReplyToMessageID string // Choices.MessageID
	OptionID           string
}

// richContent reports whether this session handles rich content
// (changeRichContent).
func (s *session) richContent(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeRichContent, workflow.DefaultVersion, 1) == 1
}

// hasRichContent reports whether an agent event carries structured content.
func (ev AgentEvent) hasRichContent() bool {
	return ev.Choices != nil || ev.Form != nil || ev.WebView != nil
}

// offeredChoices returns the Choices of the agent message delivered with id
// inReplyTo, or nil.
func (s *session) offeredChoices(inReplyTo string) *Choices {
	for i := len(s.transcript) - 1; i >= 0; i-- {
		if e := s.transcript[i]; e.ID == inReplyTo && e.From == FromAgent && e.Choices != nil {
			return e.Choices
		}
	}
	return nil
}

// validateChoice checks a user's choice against what the agent offered and
// returns the picked option.
func (s *session) validateChoice(c ChoiceReply) (ChoiceOption, error) {
	if c.InReplyTo == "" || c.OptionID == "" {
		return ChoiceOption{}, temporal.NewApplicationError("a choice needs both inReplyTo and optionId", ErrTypeInvalidChoice)
	}
	offered := s.offeredChoices(c.InReplyTo)
	if offered == nil {
		return ChoiceOption{}, temporal.NewApplicationError(
			fmt.Sprintf("no agent message %q offering a choice in this session", c.InReplyTo), ErrTypeInvalidChoice)
	}
	ids := make([]string, 0, len(offered.Options))
	for _, o := range offered.Options {
		if o.ID == c.OptionID {
			return o, nil
		}
		ids = append(ids, o.ID)
	}
	return ChoiceOption{}, temporal.NewApplicationError(
		fmt.Sprintf("option %q is not one of the options of message %q (%q)", c.OptionID, c.InReplyTo, ids), ErrTypeInvalidChoice)
}

// choiceResponse is the ChoicesResponse to send for a user message that
// answers a choice, or nil (plain text, or a legacy run).
func (s *session) choiceResponse(ctx workflow.Context, m *UserMessage) *ChoiceResponse {
	if m.Choice == nil || !s.richContent(ctx) {
		return nil
	}
	offered := s.offeredChoices(m.Choice.InReplyTo)
	if offered == nil || offered.MessageID == "" {
		// Validated on arrival; only a transcript that lost the entry
		// gets here. The text still reaches the agent.
		s.logger.Warn("Choice reply sent as text: the choice message is unknown", "messageID", m.ID, "inReplyTo", m.Choice.InReplyTo)
		return nil
	}
	return &ChoiceResponse{InReplyToMessageID: offered.MessageID, OptionID: m.Choice.OptionID}
}

// richFields returns the structured content of an agent message to deliver
// and record beside its fallback text: none in a legacy run.
func (s *session) richFields(ctx workflow.Context, ev AgentEvent) (*Choices, *Form, *WebView) {
	if !ev.hasRichContent() || !s.richContent(ctx) {
		return nil, nil, nil
	}
	return ev.Choices, ev.Form, ev.WebView
}
